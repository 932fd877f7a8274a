/** The post-incident review: required to close a declared incident, exported with the timeline and durations. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { type CaseView, responseDurations, reviewMarkdown } from '../src/domain';
import { acknowledgeUpdate, closeUpdate, escalateUpdate, signOffUpdate } from '../src/workflows/definitions';
import { eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

describe('post-incident review', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden();
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('closing a declared incident without its review is refused with what is missing; the review exports with the timeline and durations', async () => {
    const filed = await w.file(sampleReport({ title: 'Beaconing from a build server' }));
    await eventually(async () => (((await w.view(filed.caseId)) as CaseView).stage === 'responding' ? true : undefined), 'responding');
    const handle = w.handle(filed.caseId);
    await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    await handle.executeUpdate(escalateUpdate, { args: [{ actor: 'bob', reason: 'build pipeline at risk' }] });
    await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
    await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'dave', criterion: 'root-cause-known' }] });
    await eventually(async () => (((await w.view(filed.caseId)) as CaseView).stage === 'recovering' ? true : undefined), 'recovering');

    const refused = await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'rebuilt', review: { summary: 'C2 beacon from a build agent' } }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toBe('closing a declared incident needs its post-incident review: missing rootCause, impact, lessons, followUps');

    const review = {
      summary: 'C2 beacon from a build agent',
      rootCause: 'a poisoned dependency in the build image',
      impact: 'no artefacts shipped from the agent',
      lessons: 'pin and verify build dependencies',
      followUps: [{ action: 'verify checksums of build dependencies', owner: 'dave', due: '2026-12-15' }],
    };
    await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'agent rebuilt', review }] });
    const closed = (await handle.result()) as CaseView;
    expect(closed.closure?.review).toEqual(review);

    const d = responseDurations(closed);
    for (const k of ['toAcknowledge', 'toTriage', 'toContain', 'toRecover', 'toClose'] as const) expect(d[k]).toBeGreaterThanOrEqual(0);
    expect(d.toClose!).toBeGreaterThanOrEqual(d.toRecover!);
    const md = reviewMarkdown(closed);
    expect(md).toContain(`# Post-incident review: ${filed.caseId}`);
    expect(md).toContain('- Root cause: a poisoned dependency in the build image');
    expect(md).toContain('| verify checksums of build dependencies | dave | 2026-12-15 |');
    expect(md).toMatch(/\| containment confirmed \| \d/);
    for (const t of closed.timeline) expect(md).toContain(`| ${t.at} |`);
  });

  test('a case that was never declared closes without a review', async () => {
    const filed = await w.file(sampleReport());
    await eventually(async () => (((await w.view(filed.caseId)) as CaseView).stage === 'responding' ? true : undefined), 'responding');
    const view = await w.handle(filed.caseId).executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'test alert', resolution: 'false-alarm' }] });
    expect(view.stage).toBe('closed');
  });
});
