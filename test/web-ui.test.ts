/**
 * The Temporal Web UI reads a case as a responder does: a static summary and details from its
 * start, current details (stage, owner, next deadline, open tasks) kept up to date, and a
 * one-line summary on every vendor activity. Read back from the real server as the UI reads them.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { CaseView } from '../src/domain';
import { acknowledgeUpdate, WardenAcknowledged, WardenNextDeadline } from '../src/workflows/definitions';
import { eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

jest.setTimeout(120_000);

let w: TestWarden;
beforeAll(async () => {
  w = await startWarden();
});
afterAll(async () => {
  await w?.stop();
});

test('summary and details at start, current details, and activity summaries', async () => {
  const filed = await w.file(
    sampleReport({ title: `Ransomware note on db-prod-finance ${Date.now()}`, description: 'encrypted files, ransom note, beaconing', assets: ['db-prod-finance'] }),
  );
  const handle = w.handle(filed.caseId);
  await eventually(async () => (((await w.view(filed.caseId)) as CaseView).paged ? true : undefined), 'the page');

  const described = await handle.describe();
  expect(await described.staticSummary()).toBe(`${filed.caseId}: ${((await w.view(filed.caseId)) as CaseView).title}`);
  expect(await described.staticDetails()).toMatch(/^\*\*Opened by a report from edr\*\*, soc-oncall, observed /);

  await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
  const details = await eventually(async () => {
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    return metadata.currentDetails?.includes('bob (acknowledged') ? metadata.currentDetails : undefined;
  }, 'the current details to show the owner');
  expect(details).toMatch(new RegExp(`^\\*\\*${filed.caseId}\\*\\* · SEV[12] · responding · malware · queue soc`));
  expect(details).toContain('**Next deadline:** respond by ');
  expect(details).toContain('- sign off: containment-confirmed');

  // Search attributes people filter on: acknowledged, and the next deadline as a datetime.
  const attrs = await eventually(async () => {
    const d = await handle.describe();
    return d.typedSearchAttributes.get(WardenAcknowledged) === true ? d.typedSearchAttributes : undefined;
  }, 'WardenAcknowledged');
  const view = (await w.view(filed.caseId)) as CaseView;
  expect(attrs.get(WardenNextDeadline)?.toISOString()).toBe(new Date(view.slaDeadlines.respondBy!).toISOString());
  const found = await eventually(
    async () => ((await w.client.workflow.count(`WorkflowId = '${filed.workflowId}' AND WardenAcknowledged = true AND WardenNextDeadline > '${new Date().toISOString()}'`)).count === 1 ? true : undefined),
    'the case found by acknowledged and next deadline',
  );
  expect(found).toBe(true);

  const history = await handle.fetchHistory();
  const summaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
    .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  expect(summaries).toEqual(expect.arrayContaining([`Page on-call for ${filed.caseId}`, `Post the case card for ${filed.caseId} in #sec-soc`]));
});
