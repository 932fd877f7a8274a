/**
 * Regimes triggered by more than the data: a declared incident at a public company waits on a
 * human materiality determination and then counts four business days; a NIS2-style regime runs
 * its stages one after another; the incident's scope (people affected, jurisdictions) brings in
 * further regimes. On the real server, with the default policy's regimes where time allows.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { type CaseView, deadlineAfter, WEEKDAYS } from '../src/domain';
import { closeUpdate, determineUpdate, escalateUpdate, recordFilingUpdate, recordScopeUpdate } from '../src/workflows/definitions';
import { actOn, eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const where = (w: TestWarden, caseId: string, what: string, ok: (v: CaseView) => boolean, timeoutMs = 60_000) =>
  eventually(async () => {
    const v = (await w.view(caseId)) as CaseView;
    return ok(v) ? v : undefined;
  }, what, timeoutMs);
const refusal = (e: unknown) => (e as WorkflowUpdateFailedError).cause?.message ?? String(e);

async function declared(w: TestWarden, report = sampleReport()): Promise<{ caseId: string; view: CaseView }> {
  const filed = await w.file(report);
  await where(w, filed.caseId, 'responding', (v) => v.stage === 'responding' || v.stage === 'escalated');
  const view = (await w.view(filed.caseId)) as CaseView;
  if (!view.escalated) await w.handle(filed.caseId).executeUpdate(escalateUpdate, { args: [{ actor: 'bob', reason: 'declared for the test' }] });
  return { caseId: filed.caseId, view };
}

describe('regulatory triggers with the default regimes', () => {
  let w: TestWarden;
  const policy = testPolicy({ regulatoryProfile: { entityTypes: ['public-company', 'financial-entity'], jurisdictions: ['US', 'EU'] } });
  beforeAll(async () => {
    w = await startWarden(policy);
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('a declared incident at a public company asks for the materiality determination; "material" starts the 8-K clock of four business days', async () => {
    const { caseId } = await declared(w);
    const asked = await where(w, caseId, 'determinations asked', (v) => v.determinationsNeeded.length === 2);
    expect(asked.determinationsNeeded.map((d) => d.determination).sort()).toEqual(['major-ict-incident', 'material']);
    expect(asked.openTasks).toContain('determine: Is the cybersecurity incident material to investors (SEC Form 8-K Item 1.05)? (SEC Form 8-K Item 1.05)');
    const prompt = await eventually(async () => (await w.outbox.read()).find((m) => m.key === `${caseId}:determination:material:erin`), 'counsel asked');
    expect(String(prompt.body.text)).toContain(`warden determine ${caseId} material --yes|--no`);

    const handle = w.handle(caseId);
    const close = await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'done' }] }).catch(refusal);
    expect(close).toMatch(/determinations still to make: .*material/);
    expect(await handle.executeUpdate(determineUpdate, { args: [{ actor: 'bob', determination: 'material', decision: true, reason: 'x' }] }).catch(refusal)).toMatch(
      /bob may not record the material determination: the policy allows legal-counsel or incident-commander/,
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await handle.executeUpdate(determineUpdate, { args: [{ actor: 'erin', determination: 'material', decision: true, reason: 'x', at: future }] }).catch(refusal)).toMatch(/is in the future/);
    expect(await handle.executeUpdate(determineUpdate, { args: [{ actor: 'erin', determination: 'nope', decision: true, reason: 'x' }] }).catch(refusal)).toMatch(/no determination "nope" in the policy/);

    // Counsel decided an hour-old question just now; the clock counts from when it was made.
    const madeAt = new Date(Date.parse(asked.openedAt) + 500).toISOString();
    const after = await actOn(handle, determineUpdate, { actor: 'erin', determination: 'material', decision: true, reason: 'customer data of a major client', at: madeAt });
    const clock = after.clocks.find((c) => c.key === 'sec-8k-105/file-8k')!;
    expect(clock).toMatchObject({ startedAt: madeAt, owners: ['legal-counsel'], dueBecause: '4bd from the material determination' });
    const cal = policy.calendars['us-federal'];
    expect(clock.dueAt).toBe(new Date(deadlineAfter(Date.parse(madeAt), '4bd', { timeZone: cal.timeZone, weekend: cal.weekend.map((d) => WEEKDAYS.indexOf(d)), holidays: cal.holidays })).toISOString());
    // the end of a business day in New York, at least four days on
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', hour: 'numeric', minute: 'numeric', weekday: 'short' }).format(new Date(clock.dueAt));
    expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 23:59$/);
    expect(Date.parse(clock.dueAt) - Date.parse(madeAt)).toBeGreaterThan(4 * 86_400_000);
    expect(after.determinationsNeeded.map((d) => d.determination)).not.toContain('material');
    expect(after.timeline.some((t) => t.action === 'determined: material' && t.actor === 'erin')).toBe(true);

    // Decided against: no DORA clock, and nothing left to ask about it.
    const no = await actOn(handle, determineUpdate, { actor: 'alice', determination: 'major-ict-incident', decision: false, reason: 'below the thresholds' });
    expect(no.clocks.some((c) => c.regime === 'dora-art19')).toBe(false);
    expect(no.determinationsNeeded).toEqual([]);
    expect(await handle.executeUpdate(determineUpdate, { args: [{ actor: 'alice', determination: 'major-ict-incident', decision: false, reason: 'again' }] }).catch(refusal)).toMatch(/already decided against by alice/);

    // Reversed (recorded on the wrong case): the 8-K clock is withdrawn, no longer due or fileable;
    // made again, a fresh clock counts from the new determination.
    const reversed = await actOn(handle, determineUpdate, { actor: 'erin', determination: 'material', decision: false, reason: 'recorded on the wrong case' });
    expect(reversed.clocks.find((c) => c.key === 'sec-8k-105/file-8k')!.withdrawn).toMatchObject({ by: 'erin', reason: 'not material: recorded on the wrong case' });
    expect(reversed.regulatoryFlags.some((f) => f.regime === 'sec-8k-105')).toBe(false);
    expect(reversed.openTasks.some((t) => t.startsWith('file: SEC'))).toBe(false);
    expect(await handle.executeUpdate(recordFilingUpdate, { args: [{ actor: 'erin', clock: 'sec-8k-105/file-8k', reference: 'x' }] }).catch(refusal)).toMatch(/was withdrawn/);
    const again = await actOn(handle, determineUpdate, { actor: 'erin', determination: 'material', decision: true, reason: 'confirmed after all' });
    const fresh = again.clocks.filter((c) => c.key === 'sec-8k-105/file-8k');
    expect(fresh).toHaveLength(1);
    expect(fresh[0].withdrawn).toBeUndefined();
    expect(Date.parse(fresh[0].startedAt!)).toBeGreaterThan(Date.parse(madeAt));
  });

  test('the scope a responder records brings in regimes: 300 Texans affected starts the attorney-general clock from awareness', async () => {
    // A worker of its own: this case does not wait behind the cases of the test above.
    const w = await startWarden(policy);
    try {
    const filed = await w.file(sampleReport({ dataClasses: ['personal'], title: `Customer export found on a public share (scope test ${Date.now()})` }));
    const before = await where(w, filed.caseId, 'GDPR flagged', (v) => v.clocks.some((c) => c.regime === 'gdpr-art33'));
    expect(before.clocks.some((c) => c.regime === 'texas-521-053')).toBe(false);
    const handle = w.handle(filed.caseId);
    expect(await handle.executeUpdate(recordScopeUpdate, { args: [{ actor: 'bob', jurisdictions: ['texas'], reason: 'x' }] }).catch(refusal)).toMatch(/"texas" is not a jurisdiction code/);
    expect(await handle.executeUpdate(recordScopeUpdate, { args: [{ actor: 'mallory', affected: 3, reason: 'x' }] }).catch(refusal)).toMatch(/mallory holds no role/);
    const scoped = await actOn(handle, recordScopeUpdate, { actor: 'bob', affected: 300, jurisdictions: ['US-TX'], reason: 'CRM export: 300 Texas addresses' });
    expect(scoped.affected).toBe(300);
    const texas = scoped.clocks.find((c) => c.key === 'texas-521-053/notify-attorney-general')!;
    expect(texas.startedAt).toBe(scoped.openedAt);
    expect(Date.parse(texas.dueAt) - Date.parse(scoped.openedAt)).toBe(30 * 86_400_000);
    expect(scoped.regulatoryFlags.find((f) => f.regime === 'texas-521-053')!.because).toBe('involves personal data; in US-TX; 300 individuals affected (250 or more)');
    } finally {
      await w.stop();
    }
  });
});

test('stages run one after another: the final report counts from the notification’s filing, on a durable timer', async () => {
  const nis2 = {
    id: 'nis2-art23',
    name: 'NIS2 Art. 23',
    when: { jurisdictions: ['EU'], declared: true, determinations: ['significant-incident'] },
    deadline: 'early warning, notification, final report',
    clocks: [
      { id: 'early-warning', name: 'early warning', due: '1h', owners: ['incident-commander'] },
      { id: 'notification', name: 'incident notification', due: '2h', owners: ['incident-commander'] },
      { id: 'final-report', name: 'final report', from: 'filing:notification', due: '3s', owners: ['incident-commander'] },
    ],
  };
  const w = await startWarden(testPolicy({ regulatory: [nis2] }));
  try {
    const { caseId } = await declared(w);
    const handle = w.handle(caseId);
    await where(w, caseId, 'significance asked', (v) => v.determinationsNeeded.some((d) => d.determination === 'significant-incident'));
    const made = await actOn(handle, determineUpdate, { actor: 'alice', determination: 'significant-incident', decision: true, reason: 'payments down for an hour' });
    expect(made.clocks.map((c) => [c.key, c.startedAt])).toEqual([
      ['nis2-art23/early-warning', made.openedAt],
      ['nis2-art23/notification', made.openedAt],
    ]);
    const filed = await actOn(handle, recordFilingUpdate, { actor: 'alice', clock: 'nis2-art23/notification', reference: 'CSIRT-7' });
    const final = filed.clocks.find((c) => c.key === 'nis2-art23/final-report')!;
    expect(final.startedAt).toBe(filed.clocks.find((c) => c.key === 'nis2-art23/notification')!.filed!.at);
    expect(Date.parse(final.dueAt) - Date.parse(final.startedAt!)).toBe(3_000);
    const missed = await where(w, caseId, 'the final report’s deadline', (v) => !!v.clocks.find((c) => c.key === 'nis2-art23/final-report')?.missedAt);
    expect(missed.timeline.some((t) => t.action === 'clock deadline passed: NIS2 Art. 23: final report')).toBe(true);
  } finally {
    await w.stop();
  }
});
