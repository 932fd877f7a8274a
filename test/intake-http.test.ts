/** The intake server over real HTTP, filing into the real Temporal server. */
import type { Server } from 'node:http';
import type { CaseView } from '../src/domain';
import { createIntakeServer } from '../src/intake/server';
import { listenOnLoopback } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

describe('intake HTTP server', () => {
  let w: TestWarden;
  let server: Server;
  let base: string;
  const policy = testPolicy();

  beforeAll(async () => {
    w = await startWarden(policy);
    server = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue });
    base = await listenOnLoopback(server);
  });
  afterAll(async () => {
    await new Promise((ok) => server?.close(ok));
    await w?.stop();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  /** Cases started on this test's task queue since `since` (visibility settles within a second here). */
  async function casesStartedSince(since: Date): Promise<number> {
    await new Promise((r) => setTimeout(r, 1_000));
    let n = 0;
    for await (const _ of w.client.workflow.list({ query: `TaskQueue = '${w.taskQueue}' AND StartTime > '${since.toISOString()}'` })) n++;
    return n;
  }

  test('health', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', policyVersion: 'test' });
  });

  test('a valid report is accepted with its case id; the same report again is deduplicated', async () => {
    const report = sampleReport();
    const first = await post(JSON.stringify(report));
    expect(first.status).toBe(202);
    const a = (await first.json()) as { caseId: string; deduplicated: boolean; workflowId: string };
    expect(a).toMatchObject({ deduplicated: false, workflowId: `case-${a.caseId}` });
    expect(a.caseId).toMatch(/^WRD-[0-9A-F]{12}$/);
    const again = (await (await post(JSON.stringify({ ...report, reporter: 'carol' }))).json()) as { caseId: string; deduplicated: boolean };
    expect(again).toMatchObject({ caseId: a.caseId, deduplicated: true });
    const view = await eventually(async () => {
      const v = (await w.view(a.caseId)) as CaseView;
      return v.evidenceCount === 2 ? v : undefined;
    }, 'both reports on the case');
    expect(view.reporters).toEqual(['soc-oncall', 'carol']);
  });

  test('bad input is refused with the reasons, and nothing is started', async () => {
    const since = new Date();
    const missing = await post(JSON.stringify({ title: 'x' }));
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: string; reasons: string[] };
    expect(body.error).toBe('invalid report');
    expect(body.reasons).toEqual(
      expect.arrayContaining(['source: Required', 'reporter: Required', 'assets: Required', 'observedAt: Required']),
    );

    const wrongTypes = await post(JSON.stringify({ ...sampleReport(), assets: 'db-1', observedAt: 'yesterday', indicators: { ips: ['999.1.1.1'] } }));
    expect(wrongTypes.status).toBe(400);
    const reasons = ((await wrongTypes.json()) as { reasons: string[] }).reasons.join('\n');
    expect(reasons).toMatch(/assets: Expected array, received string/);
    expect(reasons).toMatch(/observedAt: an ISO-8601 timestamp/);
    expect(reasons).toMatch(/indicators\.ips\.0: not an IP address/);

    const unknownField = await post(JSON.stringify({ ...sampleReport(), severity: 'SEV1' }));
    expect(unknownField.status).toBe(400);
    expect(((await unknownField.json()) as { reasons: string[] }).reasons.join()).toMatch(/Unrecognized key.*severity/);

    const notJson = await post('{"title": ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toBe('body is not valid JSON');

    const huge = await post(JSON.stringify({ ...sampleReport(), description: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge.status).toBe(413);

    const wrongMethod = await fetch(`${base}/webhooks/generic`);
    expect(wrongMethod.status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    expect(await casesStartedSince(since)).toBe(0);
    // The same query does see a case that was started: the zero above is not blindness.
    await post(JSON.stringify(sampleReport()));
    expect(await casesStartedSince(since)).toBe(1);
  });
});
