/**
 * An alert storm through the intake over HTTP: group commit folds concurrent reports for the same
 * case into shared signals, every 202 is a durably recorded report, and the counts add up.
 * (Throughput figures belong to bench/, not here.)
 */
import type { Server } from 'node:http';
import type { CaseView } from '../src/domain';
import { ReportFiler, toReport } from '../src/intake/filing';
import { createIntakeServer } from '../src/intake/server';
import { listenOnLoopback } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

describe('alert storm', () => {
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

  test('2,000 alerts over 20 fingerprints make exactly 20 cases whose evidence counts sum to 2,000', async () => {
    const run = `${Date.now()}`;
    const total = 2_000;
    const fingerprints = 20;
    const bodies = Array.from({ length: total }, (_, i) =>
      JSON.stringify(sampleReport({ title: `storm ${run} rule ${i % fingerprints}`, reporter: `sensor-${i}`, assets: [`host-${i % fingerprints}`] })),
    );
    const answers: { caseId: string; deduplicated: boolean }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const body = bodies[next++];
        const res = await fetch(`${base}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(res.status).toBe(202);
        answers.push((await res.json()) as { caseId: string; deduplicated: boolean });
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));

    const caseIds = [...new Set(answers.map((a) => a.caseId))];
    expect(answers).toHaveLength(total);
    expect(caseIds).toHaveLength(fingerprints);
    expect(answers.filter((a) => !a.deduplicated)).toHaveLength(fingerprints);
    const counts = await eventually(async () => {
      const views = await Promise.all(caseIds.map((id) => w.view(id) as Promise<CaseView>));
      const sum = views.reduce((s, v) => s + v.evidenceCount, 0);
      return sum === total ? views.map((v) => v.evidenceCount) : undefined;
    }, 'every accepted report on its case', 60_000);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
  });

  test('group commit sends fewer signals than reports, and a report filed twice counts once', async () => {
    const filer = new ReportFiler(w.client, policy, w.taskQueue);
    const template = sampleReport();
    const reports = Array.from({ length: 300 }, (_, i) => toReport({ ...template, reporter: `r${i}` }));
    const results = await Promise.all(reports.map((r) => filer.file(r)));
    expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
    expect(filer.stats.reports).toBe(300);
    expect(filer.stats.signals).toBeLessThan(300 / 5);

    // The same report again (a crash between filing and acknowledging its source): folded in once.
    await filer.file(reports[0]);
    const view = await eventually(async () => {
      const v = (await w.view(results[0].caseId)) as CaseView;
      return v.reportCount === 300 && v.recentReportIds.length === 300 ? v : undefined;
    }, 'three hundred distinct reports');
    await new Promise((r) => setTimeout(r, 500));
    expect(((await w.view(results[0].caseId)) as CaseView).reportCount).toBe(300);
    expect(view.reporters).toHaveLength(300);
  });
});
