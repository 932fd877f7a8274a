/**
 * Decisions on the real server: notices reach each kind of reporter by a route that reaches it,
 * and the trust loop decides whether Warden acts alone or proposes and waits for a human.
 */
import type { CaseView } from '../src/domain';
import { agreementFromVisibility } from '../src/activities/trust';
import { closeUpdate, confirmTriageUpdate, overrideUpdate } from '../src/workflows/definitions';
import { actOn, eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';
import { Client, Connection } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

jest.setTimeout(180_000);

const atStage = (w: TestWarden, caseId: string, stage: string) =>
  eventually(async () => {
    const view = (await w.view(caseId)) as CaseView;
    return view.stage === stage ? view : undefined;
  }, `case ${caseId} to reach ${stage}`);

describe('notices to machine reporters', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden(
      testPolicy({
        falseAlarms: [
          {
            id: 'scanner-informational',
            source: 'vuln-scanner',
            titleMatches: '^Informational:',
            category: 'vulnerability-exploitation',
            explanation: 'Informational scanner findings are not incidents; no action is needed.',
          },
        ],
      }),
    );
  });
  afterAll(async () => {
    await w?.stop();
  });

  test("a scanner's false-alarm notice goes to the owning queue's channel, never to a DM it cannot receive", async () => {
    const filed = await w.file(
      sampleReport({ source: 'vuln-scanner', reporter: 'nessus-prod', title: `Informational: TLS certificate expires in 80 days ${Date.now()}`, assets: [], indicators: { ips: [], domains: [], urls: [], hashes: [] } }),
    );
    const closed = await atStage(w, filed.caseId, 'closed');
    expect(closed.closure?.resolution).toBe('false-alarm');
    const sent = (await w.outbox.read()).filter((m) => m.key.startsWith(`${filed.caseId}:false-alarm`));
    expect(sent.filter((m) => m.kind === 'chat.postMessage.dm')).toEqual([]);
    expect(sent).toEqual([expect.objectContaining({ kind: 'chat.postMessage', body: expect.objectContaining({ channel: '#sec-soc', text: expect.stringContaining('nessus-prod') }) })]);
    expect(closed.timeline.find((t) => t.action.startsWith('reporter nessus-prod'))?.reason).toMatch(/machine source/);
  });

  test('a person is still told in their own channel: a Slack user by DM, an address by mail', async () => {
    const a = await w.file(sampleReport({ reporter: 'U0SLACKER1', title: `Beaconing ${Date.now()} a` }));
    const b = await w.file(sampleReport({ reporter: 'pat@example.com', title: `Beaconing ${Date.now()} b` }));
    await atStage(w, a.caseId, 'responding');
    await atStage(w, b.caseId, 'responding');
    const sent = await eventually(async () => {
      const all = await w.outbox.read();
      const dm = all.find((m) => m.key === `${a.caseId}:received:U0SLACKER1`);
      const mail = all.find((m) => m.key === `${b.caseId}:received:pat@example.com`);
      return dm && mail ? { dm, mail } : undefined;
    }, 'both notices');
    expect(sent.dm.kind).toBe('chat.postMessage.dm');
    expect(sent.mail.system).toBe('mail');
  });
});

describe("the quick start's example", () => {
  test('the ransomware note on the production finance server pages on-call with the default policy', async () => {
    const w = await startWarden(testPolicy());
    try {
      const example = JSON.parse(readFileSync(resolve(__dirname, '../examples/report.json'), 'utf8'));
      const filed = await w.file({ ...example, title: `${example.title} ${Date.now()}`, observedAt: new Date().toISOString() });
      const view = await eventually(async () => {
        const v = (await w.view(filed.caseId)) as CaseView;
        return v.paged ? v : undefined;
      }, 'the page');
      expect(['SEV1', 'SEV2']).toContain(view.severity);
      expect(view.classification?.category).toBe('malware');
      expect(view.timeline.find((t) => t.action.startsWith('activity seen'))?.action).toMatch(/files-encrypted.*beaconing|beaconing.*files-encrypted/);
      const pages = (await w.outbox.read()).filter((m) => m.system === 'pagerduty' && JSON.stringify(m).includes(filed.caseId));
      expect(pages).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });
});

describe('trust that builds', () => {
  test('a category on probation: Warden proposes, pages what is due, and waits for a human to confirm', async () => {
    const w = await startWarden(testPolicy({ trust: { untilMeasured: 'propose', minCases: 5, bar: 0.9 } }));
    try {
      const filed = await w.file(
        sampleReport({ title: `Ransomware note on db-prod-finance ${Date.now()}`, description: 'encrypted files and a ransom note; the host is beaconing', assets: ['db-prod-finance'] }),
      );
      const waiting = await eventually(async () => {
        const v = (await w.view(filed.caseId)) as CaseView;
        return v.proposal && v.paged ? v : undefined;
      }, 'the proposal, and its page');
      expect(waiting.stage).toBe('triage');
      expect(waiting.trust).toMatchObject({ mode: 'propose', cases: 0 });
      expect(waiting.proposal).toMatchObject({ category: 'malware', page: true });
      expect(waiting.openTasks[0]).toMatch(/^confirm triage: malware/);
      const confirmed = await actOn(w.handle(filed.caseId), confirmTriageUpdate, { actor: 'bob', note: 'checked the EDR console' });
      expect(confirmed.proposal?.decided).toMatchObject({ by: 'bob', how: 'confirmed' });
      await atStage(w, filed.caseId, 'responding');
      // A second confirmation says who confirmed, and when.
      await expect(w.handle(filed.caseId).executeUpdate(confirmTriageUpdate, { args: [{ actor: 'carol' }] })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/^the triage was already confirmed by bob at /) } });
      const pages = (await w.outbox.read()).filter((m) => m.system === 'pagerduty' && JSON.stringify(m).includes(filed.caseId));
      expect(pages).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  test('measured disagreement takes a category from acting alone to proposing', async () => {
    const address = process.env.WARDEN_TEST_TEMPORAL_ADDRESS!;
    const connection = await Connection.connect({ address });
    const taskQueue = `warden-trust-${process.pid}-${Date.now()}`;
    const policy = testPolicy({ trust: { untilMeasured: 'act', minCases: 2, bar: 0.9 } });
    const w = await startWarden(policy, { taskQueue, connectors: { agreement: agreementFromVisibility(new Client({ connection }), { taskQueue, cacheMs: 0 }) } });
    try {
      // Two phishing cases that humans judged otherwise: Warden's phishing reading agreed 0 of 2 times.
      for (const n of [1, 2]) {
        const filed = await w.file(sampleReport({ title: `Phishing email reported ${Date.now()}-${n}`, description: 'a suspicious email asking to reset a password', assets: [] }));
        const v = await atStage(w, filed.caseId, 'responding');
        expect(v.trust?.mode).toBe('act');
        await w.handle(filed.caseId).executeUpdate(overrideUpdate, { args: [{ actor: 'bob', category: 'other', reason: 'a newsletter, not phishing' }] });
        await w.handle(filed.caseId).executeUpdate(closeUpdate, { args: [{ actor: 'bob', resolution: 'false-alarm', reason: 'newsletter' }] });
        await w.handle(filed.caseId).result();
      }
      const client = new Client({ connection });
      await eventually(
        async () => ((await client.workflow.count(`TaskQueue = '${taskQueue}' AND WardenAutoCategory = 'phishing' AND WardenVerdict = 'overridden'`)).count === 2 ? true : undefined),
        'visibility to count both verdicts',
      );
      const third = await w.file(sampleReport({ title: `Phishing email reported ${Date.now()}-3`, description: 'a suspicious email asking to reset a password', assets: [] }));
      const waiting = await eventually(async () => {
        const v = (await w.view(third.caseId)) as CaseView;
        return v.proposal ? v : undefined;
      }, 'the proposal');
      expect(waiting.stage).toBe('triage');
      expect(waiting.trust).toMatchObject({ mode: 'propose', cases: 2, agreed: 0 });
      expect(waiting.trust?.why).toMatch(/agreed with 0 of 2/);
      const overridden = await actOn(w.handle(third.caseId), overrideUpdate, { actor: 'bob', category: 'other', reason: 'newsletter again' });
      expect(overridden.proposal?.decided?.how).toBe('overridden');
      await atStage(w, third.caseId, 'responding');
    } finally {
      await w.stop();
      await connection.close();
    }
  });
});
