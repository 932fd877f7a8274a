/**
 * No report can make a case unreadable, on the real server: three reports of about 1 MB, each
 * naming tens of thousands of distinct users, leave the case readable and actionable (view, then
 * acknowledge, sign off and close); a storm of distinct indicators continues as new without error
 * and keeps exact counts; every report's full payload is in the evidence store under its SHA-256.
 */
import type { CaseView } from '../src/domain';
import { defaultEvidenceStore } from '../src/evidence/store';
import { acknowledgeUpdate, closeUpdate, signOffUpdate } from '../src/workflows/definitions';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

describe('a bounded case', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden();
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('three reports of ~1 MB with tens of thousands of users: readable and actionable', async () => {
    const base = sampleReport({ title: `Credential dump posted ${Date.now()}`, description: 'A paste site lists our accounts.' });
    const users = (batch: number) => Array.from({ length: 27_000 }, (_, i) => `employee-${batch}.${String(i).padStart(6, '0')}@corp-mail.example`);
    const sizes: number[] = [];
    let caseId = '';
    for (let batch = 0; batch < 3; batch++) {
      const report = { ...base, reporter: `analyst-${batch}`, users: users(batch) };
      sizes.push(JSON.stringify(report).length);
      caseId = (await w.file(report)).caseId;
    }
    expect(Math.min(...sizes)).toBeGreaterThan(900_000);
    const policy = testPolicy();
    const view = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.reportCount === 3 && ['responding', 'escalated'].includes(v.stage) ? v : undefined;
    }, 'the case responding with its three reports', 60_000);
    // 81,000 accounts is a blast radius: the case is escalated, as it should be.
    expect(view.escalated).toBe(true);
    expect(JSON.stringify(view).length).toBeLessThan(500_000);
    expect(view.users).toHaveLength(policy.limits.users);
    expect(view.users.length + (view.overflow.users?.count ?? 0)).toBe(81_000);
    expect(view.overflow.users?.digest).toMatch(/^[0-9a-f]{64}$/);

    // Each report's full payload is in the evidence store, every user in it.
    const refs = view.evidence.map((e) => e.evidence);
    expect(refs.every((r) => r && /^[0-9a-f]{64}$/.test(r.sha256))).toBe(true);
    const stored = JSON.parse((await defaultEvidenceStore().get(refs[2]!.sha256))!.toString('utf8')) as { users: string[] };
    expect(stored.users).toHaveLength(27_000);

    // Actionable: every action answers a small receipt, and the case closes.
    const handle = w.handle(caseId);
    const receipt = await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    expect(JSON.stringify(receipt).length).toBeLessThan(2_000);
    for (const c of view.recovery.filter((r) => r.verification === 'human'))
      await handle.executeUpdate(signOffUpdate, { args: [{ actor: c.id === 'root-cause-known' ? 'dave' : 'alice', criterion: c.id }] });
    await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'passwords reset', resolution: 'accepted-risk' }] });
    const closed = (await handle.result()) as CaseView;
    expect(closed.stage).toBe('closed');
    const history = await handle.fetchHistory();
    expect((history.events ?? []).some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
  });

  test('a storm of distinct indicators continues as new without error and keeps exact counts', async () => {
    const policy = testPolicy({ intake: { evidencePerRun: 5 } });
    const base = sampleReport({ title: `Beaconing storm ${Date.now()}` });
    let caseId = '';
    const reports = 30;
    const perReport = 100;
    for (let r = 0; r < reports; r++) {
      const domains = Array.from({ length: perReport }, (_, i) => `c2-${r}-${i}.evil.example`);
      caseId = (await w.file({ ...base, reporter: `sensor-${r}`, indicators: { ips: [], domains, urls: [], hashes: [] } }, policy)).caseId;
    }
    const view = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.reportCount === reports && v.generation >= 1 ? v : undefined;
    }, 'every report folded in, over several runs', 90_000);
    expect(view.indicators.domains).toHaveLength(policy.limits.indicators);
    expect(view.indicators.domains.length + (view.overflow.domains?.count ?? 0)).toBe(reports * perReport);
    const runs = [];
    for await (const wf of w.client.workflow.list({ query: `WorkflowId = '${w.handle(caseId).workflowId}'` })) runs.push(wf.status.name);
    expect(runs.filter((s) => s === 'FAILED' || s === 'TERMINATED')).toEqual([]);
  });
});
