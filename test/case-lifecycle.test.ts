/**
 * The case workflow on the real Temporal dev server: lifecycle, dedupe, SLA timers, refused
 * actions, the recovery gate, false alarms and continue-as-new.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { CaseView } from '../src/domain';
import {
  acknowledgeUpdate,
  assignUpdate,
  closeUpdate,
  deescalateUpdate,
  escalateUpdate,
  signOffUpdate,
  WardenCategory,
  WardenQueue,
  WardenSeverity,
  WardenStatus,
} from '../src/workflows/definitions';
import { actOn, eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';
import { fileReport, toReport } from '../src/intake/filing';

/** A drill mail's sender as our mail servers authenticated it: only the mailbox sets this on a Report, no webhook can. */
const DRILL_SENDER = { senderDomain: 'phish-training.example', by: 'mx.corp.example: dmarc=pass header.from=phish-training.example', claimedSenderDomain: 'phish-training.example' };
const fileVerifiedDrill = (w: TestWarden, input: ReturnType<typeof sampleReport>) =>
  fileReport(w.client, testPolicy(), { ...toReport(input), verified: DRILL_SENDER }, w.taskQueue);

const atStage = (w: TestWarden, caseId: string, stage: string) =>
  eventually(async () => {
    const view = (await w.view(caseId)) as CaseView;
    return view.stage === stage ? view : undefined;
  }, `case ${caseId} to reach ${stage}`);

async function historyLength(w: TestWarden, caseId: string): Promise<number> {
  const history = await w.handle(caseId).fetchHistory();
  return history.events?.length ?? 0;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }
  throw new Error('the update was accepted, but it should have been refused');
}

describe('case workflow', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden();
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('full lifecycle: report → triage → responding → recovery gate → recovering → closed', async () => {
    const filed = await w.file(sampleReport({ title: 'Ransomware note on laptop', description: 'files encrypted, ransom note found' }));
    expect(filed.deduplicated).toBe(false);
    const responding = await atStage(w, filed.caseId, 'responding');
    expect(responding.classification?.category).toBe('malware');
    expect(responding.classification?.rationale).toContain('ransom');
    // malware 20 + files-encrypted 10 (what happened, capped at 30) + laptop medium 10 + internal 0 = 40
    expect(responding.severity).toBe('SEV3');
    expect(responding.assessment?.score).toBe(40);
    expect(responding.queue).toBe('soc');
    expect(responding.policyVersion).toBe('test');
    expect(responding.slaDeadlines.acknowledgeBy).toBeDefined();

    const handle = w.handle(filed.caseId);
    await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    await handle.executeUpdate(assignUpdate, { args: [{ actor: 'bob', assignee: 'carol' }] });
    let view = await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed', note: 'host isolated' }] });
    expect(view.stage).toBe('recovery-gate');
    view = await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'dave', criterion: 'root-cause-known' }] });
    // The machine check (quiet period of 1s) passes by itself; then recovery may begin.
    const recovering = await atStage(w, filed.caseId, 'recovering');
    expect(recovering.recovery.every((c) => c.passed)).toBe(true);
    expect(recovering.recovery.find((c) => c.id === 'eradication-verified')?.by).toBe('check:quiet-period');
    expect(recovering.recoveryDecision?.at).toBeDefined();

    const closed = await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'restored from backup' }] });
    expect(closed.stage).toBe('closed');
    const result = (await handle.result()) as CaseView;
    expect(result.closure).toMatchObject({ by: 'alice', resolution: 'resolved' });
    const actions = result.timeline.map((t) => t.action);
    for (const expected of ['report received', 'stage received → validating', 'stage validating → triage', 'categorized as malware', 'stage triage → categorized', 'stage categorized → responding', 'acknowledged', 'assigned carol', 'signed off containment-confirmed', 'verified eradication-verified', 'recovery gate passed: recovery may begin', 'stage recovering → closed'])
      expect(actions).toContain(expected);

    // What the connectors would have sent: one card posted then updated, the commander told, the reporter thanked.
    const sent = (await w.outbox.read()).filter((m) => m.key.startsWith(filed.caseId));
    expect(sent.filter((m) => m.kind === 'chat.postMessage' && m.key === `${filed.caseId}:card`)).toHaveLength(1);
    expect(sent.filter((m) => m.kind === 'chat.update').length).toBeGreaterThan(2);
    expect(sent.some((m) => m.key === `${filed.caseId}:recovery-may-begin:alice`)).toBe(true);
    expect(sent.some((m) => m.key === `${filed.caseId}:resolved:soc-oncall`)).toBe(true);

    // The Temporal UI filters cases by the search attributes the workflow keeps current.
    const described = await eventually(async () => {
      const d = await handle.describe();
      return d.typedSearchAttributes.get(WardenStatus) === 'closed' ? d : undefined;
    }, 'search attributes to show the closed stage');
    expect(described.typedSearchAttributes.get(WardenSeverity)).toBe('SEV3');
    expect(described.typedSearchAttributes.get(WardenCategory)).toBe('malware');
    expect(described.typedSearchAttributes.get(WardenQueue)).toBe('soc');
  });

  test('a repeated report becomes evidence on the open case, not a second case', async () => {
    const report = sampleReport({ reporter: 'bob' });
    const first = await w.file(report);
    const second = await w.file({ ...report, reporter: 'carol', observedAt: new Date().toISOString() });
    const other = await w.file(sampleReport());
    expect(second.caseId).toBe(first.caseId);
    expect(second.deduplicated).toBe(true);
    expect(other.caseId).not.toBe(first.caseId);
    const view = await eventually(async () => {
      const v = (await w.view(first.caseId)) as CaseView;
      return v.evidenceCount === 2 ? v : undefined;
    }, 'two reports on the case');
    expect(view.reporters).toEqual(['bob', 'carol']);
    expect(view.evidence.map((e) => e.reportId)).toEqual([first.reportId, second.reportId]);
  });

  test('refused actions leave history untouched and say why', async () => {
    const filed = await w.file(sampleReport());
    await atStage(w, filed.caseId, 'responding');
    const handle = w.handle(filed.caseId);
    // The task that reached responding may still be posting its card: wait for the history to settle.
    let before = await historyLength(w, filed.caseId);
    await eventually(async () => {
      await new Promise((r) => setTimeout(r, 500));
      const now = await historyLength(w, filed.caseId);
      if (now === before) return true;
      before = now;
      return undefined;
    }, 'the history to settle');

    expect(await refusal(handle.executeUpdate(signOffUpdate, { args: [{ actor: 'bob', criterion: 'containment-confirmed' }] }))).toMatch(
      /bob may not sign off containment-confirmed: the policy allows incident-commander/,
    );
    expect(await refusal(handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'no-such-thing' }] }))).toMatch(
      /unknown recovery criterion "no-such-thing"/,
    );
    expect(await refusal(handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'eradication-verified' }] }))).toMatch(
      /machine-verified/,
    );
    expect(await refusal(handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'mallory' }] }))).toMatch(/mallory holds no role/);
    expect(await refusal(handle.executeUpdate(deescalateUpdate, { args: [{ actor: 'alice', reason: 'x' }] }))).toMatch(/not escalated/);

    expect(await historyLength(w, filed.caseId)).toBe(before);
    const view = (await w.view(filed.caseId)) as CaseView;
    expect(view.recovery.every((c) => !c.passed)).toBe(true);
    expect(view.acknowledgedBy).toBeUndefined();
  });

  test('the recovery gate holds until every criterion passes', async () => {
    const filed = await w.file(sampleReport());
    await atStage(w, filed.caseId, 'responding');
    const handle = w.handle(filed.caseId);
    await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
    // The machine check passes, but root cause is still unknown: the gate holds.
    await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.recovery.find((c) => c.id === 'eradication-verified')?.passed ? v : undefined;
    }, 'the machine check to pass');
    await new Promise((r) => setTimeout(r, 1_500));
    const held = (await w.view(filed.caseId)) as CaseView;
    expect(held.stage).toBe('recovery-gate');
    expect(held.openTasks).toContain('sign off: root-cause-known');
    expect(await refusal(handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'done' }] }))).toMatch(
      /recovery gate passes \(pending: root-cause-known/,
    );
    await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'dave', criterion: 'root-cause-known' }] });
    const recovering = await atStage(w, filed.caseId, 'recovering');
    expect(recovering.timeline.some((t) => t.action === 'recovery gate passed: recovery may begin')).toBe(true);
  });

  test('a missed acknowledge-by SLA escalates the case on its timer', async () => {
    const fast = await startWarden(
      testPolicy({ slas: Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy: '2s', respondBy: '1m' }])) }),
    );
    try {
      const filed = await fast.file(sampleReport());
      const escalated = await atStage(fast, filed.caseId, 'escalated');
      expect(escalated.escalated).toBe(true);
      expect(escalated.slaBreaches).toEqual(['acknowledge']);
      expect(escalated.escalations[0].triggers).toEqual([expect.objectContaining({ criterion: 'response-time-exceeded', source: 'timer' })]);
      const entry = escalated.timeline.find((t) => t.action === 'escalated (#1)');
      expect(entry?.reason).toMatch(/response-time-exceeded \[timer\]/);

      // The escalation opens an incident, pages the commander and posts the summary — once each.
      const sent = await eventually(async () => {
        const all = (await fast.outbox.read()).filter((m) => JSON.stringify(m).includes(filed.caseId));
        return all.some((m) => m.kind === 'incidents.create') && all.some((m) => m.kind === 'trigger') && all.some((m) => m.key.includes(':escalation:1')) ? all : undefined;
      }, 'escalation side effects');
      expect(sent.filter((m) => m.kind === 'incidents.create')).toHaveLength(1);
      expect(sent.find((m) => m.kind === 'trigger')?.key).toBe(`warden-${filed.caseId}-commander-1:trigger`);

      // De-escalation is explicit, by someone the policy allows, and recorded with the reason.
      const handle = fast.handle(filed.caseId);
      expect(await refusal(handle.executeUpdate(deescalateUpdate, { args: [{ actor: 'bob', reason: 'meh' }] }))).toMatch(/bob may not de-escalate/);
      const back = await actOn(handle, deescalateUpdate, { actor: 'alice', reason: 'contained; single laptop' });
      expect(back.stage).toBe('responding');
      expect(back.timeline.find((t) => t.action === 'de-escalated')).toMatchObject({ actor: 'alice', reason: 'contained; single laptop' });
      // A human can escalate again, with a reason.
      const again = await actOn(handle, escalateUpdate, { actor: 'bob', reason: 'lateral movement seen' });
      expect(again.escalations).toHaveLength(2);
      expect(again.escalations[1].triggers[0]).toMatchObject({ criterion: 'manual', source: 'human', detail: 'lateral movement seen' });
    } finally {
      await fast.stop();
    }
  });

  test('regulated data escalates on the criteria and pages on-call above the threshold', async () => {
    const filed = await w.file(
      sampleReport({
        assets: ['payments-db'],
        dataClasses: ['payment'],
        title: 'Exposed payments database snapshot',
        description: 'A snapshot of payments-db was left in a public bucket and exfiltrated by an unknown party.',
      }),
    );
    // The page and the incident go out together: the page's result may come a task after the escalation.
    const escalated = await eventually(async () => {
      const v = await atStage(w, filed.caseId, 'escalated');
      return v.paged ? v : undefined;
    }, 'escalated and paged');
    expect(escalated.severity).toBe('SEV1');
    expect(escalated.queue).toBe('privacy');
    expect(escalated.paged).toBe(true);
    expect(escalated.escalations[0].triggers.map((t) => t.criterion).sort()).toEqual(['priority', 'regulated-data']);
    expect(escalated.assessment?.factors.map((f) => f.factor)).toEqual(['what-happened', 'asset-criticality', 'data-sensitivity', 'spread']);
  });

  test('an obvious false alarm is closed at validation and the reporter is told why', async () => {
    const filed = await fileVerifiedDrill(
      w,
      sampleReport({ reporter: 'pat@example.com', title: 'Suspicious email', indicators: { domains: ['login.phish-training.example'], ips: [], urls: [], hashes: [] } }),
    );
    const result = (await w.handle(filed.caseId).result()) as CaseView;
    expect(result.stage).toBe('closed');
    expect(result.closure).toMatchObject({ by: 'warden', resolution: 'false-alarm', reason: 'false-alarm rule phishing-simulation' });
    expect(result.classification).toBeUndefined();
    const mail = (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:false-alarm:pat@example.com`);
    expect(mail?.body).toMatchObject({ to: 'pat@example.com' });
    expect(String(mail?.body.text)).toContain('phishing-awareness exercise');
  });

  test('a long evidence stream continues as new and keeps every count', async () => {
    const policy = testPolicy({ intake: { evidencePerRun: 3 } });
    const report = sampleReport();
    const first = await w.file(report, policy);
    const firstRun = (await w.handle(first.caseId).describe()).runId;
    const generation = (n: number, reports: number) =>
      eventually(async () => {
        const v = (await w.view(first.caseId)) as CaseView;
        return v.generation >= n && v.evidenceCount === reports ? v : undefined;
      }, `generation ${n} with ${reports} reports`);
    for (let i = 0; i < 3; i++) await w.file({ ...report, reporter: `user${i}` }, policy);
    await generation(1, 4);
    for (let i = 3; i < 7; i++) await w.file({ ...report, reporter: `user${i}` }, policy);
    const view = await generation(2, 8);
    expect(view.reporters).toHaveLength(8);
    expect(view.stage).toBe('responding');
    expect((await w.handle(first.caseId).describe()).runId).not.toBe(firstRun);
    expect(view.timeline.filter((t) => t.action === 'continued as new').length).toBe(view.generation);
    // The case still takes human actions after continuing as new.
    const acked = await actOn(w.handle(first.caseId), acknowledgeUpdate, { actor: 'carol' });
    expect(acked.acknowledgedBy).toBe('carol');
  });

  test('an analyst closes a false alarm: reporters told why, page resolved; the same report later opens a new run', async () => {
    const report = sampleReport({ assets: ['payments-db'], reporter: 'kim@example.com', title: 'Odd login on payments-db' });
    const filed = await w.file(report);
    const paged = await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.paged ? v : undefined;
    }, 'the page');
    const handle = w.handle(filed.caseId);
    const firstRun = (await handle.describe()).runId;
    await handle.executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'scheduled DBA maintenance', resolution: 'false-alarm' }] });
    const result = (await handle.result()) as CaseView;
    expect(result.closure).toMatchObject({ by: 'bob', resolution: 'false-alarm', reason: 'scheduled DBA maintenance' });
    const sent = (await w.outbox.read()).filter((m) => m.key.includes(filed.caseId));
    expect(sent.find((m) => m.key === `warden-${paged.caseId}:resolve`)).toBeDefined();
    expect(sent.find((m) => m.key === `${filed.caseId}:false-alarm:kim@example.com`)?.body.text).toBe('scheduled DBA maintenance');

    const again = await w.file({ ...report, observedAt: new Date().toISOString() });
    expect(again).toMatchObject({ caseId: filed.caseId, deduplicated: false });
    expect((await handle.describe()).runId).not.toBe(firstRun);
  });

  test('each reporter of a campaign is told separately, one activity each', async () => {
    const phish = sampleReport({ title: 'Phishing: fake payroll login page', reporter: 'a@corp.example' });
    const filed = await w.file(phish);
    await w.file({ ...phish, reporter: 'b@corp.example' });
    await w.file({ ...phish, reporter: 'c@corp.example' });
    await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.stage === 'responding' && v.reportCount === 3 ? v : undefined;
    }, 'three reports, responding');
    const handle = w.handle(filed.caseId);
    await handle.executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'legitimate payroll change', resolution: 'false-alarm' }] });
    await handle.result();
    const history = await handle.fetchHistory();
    const notices = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyReporters');
    // "we are on it" and "no action needed", to each of three reporters, one activity per notice.
    expect(notices).toHaveLength(6);
    const mails = (await w.outbox.read()).filter((m) => m.system === 'mail' && m.key.startsWith(`${filed.caseId}:false-alarm:`));
    expect(mails.map((m) => m.body.to).sort()).toEqual(['a@corp.example', 'b@corp.example', 'c@corp.example']);
  });

  test('a report missing required fields still opens its case, and the reporter is asked for them', async () => {
    const filed = await w.file(sampleReport({ reporter: 'lee@corp.example', assets: [], description: '' , title: 'Something odd on my screen' }));
    const view = await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.stage === 'responding' ? v : undefined;
    }, 'the incomplete case to reach responding');
    expect(view.missingFields).toEqual(['description', 'assets']);
    expect(view.timeline.map((t) => t.action)).toContain('report incomplete: asking the reporter for description, assets');
    const ask = (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:needs-info:lee@corp.example`);
    expect(String(ask?.body.text)).toContain('we need: description, assets');
  });

  test('a false-alarm rule never closes a case that involves a critical asset', async () => {
    const filed = await fileVerifiedDrill(
      w,
      sampleReport({ assets: ['okta'], title: 'Suspicious email', indicators: { domains: ['login.phish-training.example'], ips: [], urls: [], hashes: [] } }),
    );
    const view = await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.stage === 'responding' || v.stage === 'escalated' ? v : undefined;
    }, 'the case to be worked, not closed');
    expect(view.closure).toBeUndefined();
    expect(view.timeline.find((t) => t.action === 'false-alarm rule phishing-simulation matched but not applied')?.reason).toBe(
      'critical asset involved (okta): a human decides',
    );
  });
});
