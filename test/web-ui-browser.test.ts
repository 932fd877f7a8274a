/**
 * What a responder sees of a case in the real Temporal Web UI, in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core; the test fails, never skips, when it is missing).
 *
 * A dev server with its Web UI on a free loopback port, a worker, and a ransomware report on
 * db-prod-finance (SEV2, paged) plus a low-severity one. Once the case is responding, its
 * workflow page (/namespaces/default/workflows/<workflowId>, which the UI redirects to
 * …/<workflowId>/<runId>/timeline) shows:
 * - on the timeline, the activity summaries ("Page on-call for WRD-…", the case card);
 * - on the "User Metadata" tab, the static summary ("WRD-…: <title>") and static details
 *   (Markdown: who opened it, assets, received) set at start, and the current details (header
 *   with severity · stage · category · queue, owner, next deadline, open tasks) from
 *   setCurrentDetails, each rendered in its own iframe (#user-metadata-summary, -details,
 *   -current-details) by the UI's /render Markdown endpoint;
 * - on "Event History", the activity summary on the scheduled activity's row.
 * The list page filtered by search attributes (?query=WardenSeverity="SEV2" AND
 * WardenAcknowledged=false) lists the case and not the low-severity one.
 * Expected text comes from the same functions the workflow uses (currentDetails,
 * activitySummary) and from what the server holds (describe, history), not from copies.
 * Screenshots go to test-output/web-ui/*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { defaultPayloadConverter } from '@temporalio/common';
import { type CaseView, categoryOf } from '../src/domain';
import { WardenSeverity } from '../src/workflows/definitions';
import { activitySummary, currentDetails, deadlines } from '../src/workflows/summaries';
import { ROOT, type DevServer, startDevServer } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

jest.setTimeout(90_000);

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve(ROOT, 'test-output/web-ui');
const UI_WAIT = 20_000;

let server: DevServer;
let w: TestWarden;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: the Web UI browser test needs Debian's chromium (apt-get install chromium; .ci/run installs it)`);
  mkdirSync(SHOTS, { recursive: true });
  server = await startDevServer({ ui: true });
  w = await startWarden(undefined, { address: server.address });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await w?.stop();
  await server?.stop();
});

/** Markdown as the UI's renderer shows it as text: no bold markers or escapes, no blank lines, no list bullets. */
const asShown = (md: string): string[] =>
  md
    .split('\n')
    .map((l) => l.replace(/\*\*/g, '').replace(/\\(.)/g, '$1').replace(/^- /, '').trim())
    .filter(Boolean);

/** The text of a Markdown iframe on the User Metadata tab, once it has rendered. */
async function frameLines(page: Page, id: string, first: string): Promise<string[]> {
  const main = page.frameLocator(`#${id}`).locator('main');
  await main.getByText(first, { exact: false }).first().waitFor({ timeout: UI_WAIT });
  return asShown(await main.innerText());
}

async function shot(page: Page, name: string): Promise<void> {
  const path = resolve(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

test('a responder reads the case in the Web UI: summary, details, current details, activity summaries, search-attribute filter', async () => {
  const report = sampleReport({
    title: `Ransomware note found on finance file server ${Date.now()}`,
    description: 'EDR flagged encrypted files and a ransom note on db-prod-finance; the host is beaconing to an unknown IP.',
    assets: ['db-prod-finance'],
    indicators: { ips: ['203.0.113.7'], domains: ['c2.bad.example'], urls: [], hashes: [] },
  });
  const [filed, other] = await Promise.all([w.file(report), w.file(sampleReport())]);
  const handle = w.handle(filed.caseId);

  const view = await eventually(async () => {
    const v = (await w.view(filed.caseId)) as CaseView;
    return v.stage === 'responding' && v.paged ? v : undefined;
  }, 'the case to be responding and paged');
  expect(view.severity).toBe('SEV2');

  // What the server holds, which the UI reads: the static summary and details, the current
  // details (as the workflow computes them from its state), the activity summaries.
  const described = await handle.describe();
  const staticSummary = (await described.staticSummary())!;
  const staticDetails = (await described.staticDetails())!;
  expect(staticSummary).toBe(`${filed.caseId}: ${report.title}`);
  const { details, state } = await eventually(async () => {
    const v = (await w.view(filed.caseId)) as CaseView;
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    return metadata.currentDetails === currentDetails(v) ? { details: metadata.currentDetails, state: v } : undefined;
  }, 'the current details to match the case state');
  const next = deadlines(state)[0];
  expect(next).toBeDefined();
  const history = await handle.fetchHistory();
  const summaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
    .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  const pageSummary = activitySummary('pageOnCall', { caseId: filed.caseId });
  expect(summaries).toContain(pageSummary);
  const cardSummary = summaries.find((s) => s.startsWith(`Post the case card for ${filed.caseId} in `));
  expect(cardSummary).toBeDefined();

  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    // The workflow page: the UI redirects to the current run's timeline.
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(filed.workflowId)}`);
    await page.waitForURL(new RegExp(`/workflows/${filed.workflowId}/${described.runId}/timeline`), { timeout: UI_WAIT });
    await page.getByTestId('workflow-id-heading').getByText(filed.workflowId).waitFor({ timeout: UI_WAIT });
    // The timeline labels each activity "<type> • <summary>".
    await page.getByText(`pageOnCall • ${pageSummary}`).first().waitFor({ timeout: UI_WAIT });
    await page.getByText(`publishCaseCard • ${cardSummary}`).first().waitFor({ timeout: UI_WAIT });
    await shot(page, '01-timeline');

    // User Metadata: summary, details and current details, each Markdown in its own iframe.
    await page.getByTestId('user-metadata-tab').click();
    await page.waitForURL(/\/user-metadata$/, { timeout: UI_WAIT });
    expect(await frameLines(page, 'user-metadata-summary', staticSummary)).toEqual([staticSummary]);
    const shownDetails = await frameLines(page, 'user-metadata-details', `Opened by a report from ${report.source}`);
    expect(shownDetails).toEqual(asShown(staticDetails));
    expect(shownDetails).toContain('Assets: db-prod-finance');
    const header = asShown(details)[0];
    expect(header).toBe(`${filed.caseId} · SEV2 · responding · ${categoryOf(state)} · queue ${state.queue}`);
    const shownCurrent = await frameLines(page, 'user-metadata-current-details', header);
    expect(shownCurrent).toEqual(asShown(details));
    expect(shownCurrent).toContain(`Next deadline: ${next!.what} by ${next!.at}`);
    expect(shownCurrent).toEqual(expect.arrayContaining(state.openTasks.slice(0, 10)));
    await shot(page, '02-user-metadata');

    // Event History: the summary on the activity's scheduled event.
    await page.getByTestId('history-tab').click();
    await page.waitForURL(/\/history$/, { timeout: UI_WAIT });
    await page.locator('tr[data-testid="event-summary-row"]', { hasText: pageSummary }).first().waitFor({ timeout: UI_WAIT });
    await shot(page, '03-event-history');

    // The list, filtered by search attributes through the query URL (once visibility has them).
    const query = `WardenSeverity="SEV2" AND WardenAcknowledged=false`;
    await eventually(async () => ((await w.client.workflow.count(`WorkflowId = '${filed.workflowId}' AND ${query}`)).count === 1 ? true : undefined), 'the case in visibility');
    await eventually(async () => {
      const sev = (await w.handle(other.caseId).describe()).typedSearchAttributes.get(WardenSeverity);
      return sev && sev !== 'SEV2' ? sev : undefined;
    }, 'the other case triaged below SEV2');
    await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const rows = page.getByTestId('workflows-summary-configurable-table-row');
    await rows.filter({ hasText: filed.workflowId }).first().waitFor({ timeout: UI_WAIT });
    expect(await rows.count()).toBe(1);
    expect(await rows.filter({ hasText: other.workflowId }).count()).toBe(0);
    await shot(page, '04-list-filtered');
  } finally {
    await page.close();
  }
});
