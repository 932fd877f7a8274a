/**
 * Intake: distinct reports over HTTP (autocannon, each body a new report, so each opens its own
 * case) against the intake and a worker with dry-run connectors, on one dev server. Prints
 * accepted/s and p50/p99 latency of the 202, the worker's drain (every accepted case triaged and
 * responding), and each as a ratio to the raw workflow-start rate measured in the same run.
 *
 *   npm run bench:intake                   (INTAKE_REPORTS=3000 CONCURRENCY=100 LIMIT_COUNT=2000)
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, dryRunConnectors } from '../src/activities';
import type { CaseView } from '../src/domain';
import { createIntakeServer } from '../src/intake/server';
import { caseViewQuery, workflowIdFor } from '../src/workflows/definitions';
import { startDevServer } from '../test/support/server';
import { sampleReport, testPolicy } from '../test/support/warden';
import { autocannon } from './autocannon';
import { describeLimit, drive, measureLimit, ratio } from './limit';
import { emitResult, limitResult, round } from './result';
import { caseWorkflowOptions } from '../src/workflow-bundle';

const REPORTS = Number(process.env.INTAKE_REPORTS ?? 3_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-intake-'));
  try {
    const limit = await measureLimit(server.address, { concurrency: CONCURRENCY });

    const policy = testPolicy();
    const taskQueue = `bench-intake-${run}`;
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      ...caseWorkflowOptions(),
      activities: createActivities({ ...dryRunConnectors(join(dir, 'outbox.jsonl')), uiBaseUrl: 'http://localhost:8233' }),
    });
    const intake = createIntakeServer({ client, policy, taskQueue });
    await new Promise<void>((ok) => intake.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(intake.address() as AddressInfo).port}`;

    let made = 0;
    const caseIds = new Set<string>();
    const outcome = await worker.runUntil(async () => {
      const result = await autocannon({
        url,
        connections: CONCURRENCY,
        amount: REPORTS,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/webhooks/generic',
            headers: { 'content-type': 'application/json' },
            // A new report each time: its own title and host, so its own fingerprint and case.
            setupRequest: (request) => {
              made += 1;
              const body = JSON.stringify(sampleReport({ title: `intake bench ${run} report ${made}`, reporter: `sensor-${made}`, assets: [`host-${made}`] }));
              return { ...request, body };
            },
            onResponse: (status, body) => {
              if (status === 202) caseIds.add((JSON.parse(body) as { caseId: string }).caseId);
            },
          },
        ],
      });
      // The worker's side: every accepted case through triage to responding.
      const drainStarted = Date.now();
      const pending = new Set(caseIds);
      const deadline = Date.now() + Math.max(120_000, REPORTS * 100);
      while (pending.size && Date.now() < deadline) {
        const ids = [...pending];
        await drive(ids.length, 50, async (i) => {
          const view = (await client.workflow.getHandle(workflowIdFor(ids[i])).query(caseViewQuery).catch(() => undefined)) as CaseView | undefined;
          if (view && view.stage !== 'received' && view.stage !== 'validating' && view.stage !== 'triage') pending.delete(ids[i]);
        });
        if (pending.size) await new Promise((ok) => setTimeout(ok, 1_000));
      }
      const drainedAt = Date.now();
      return { result, pending: pending.size, drainSeconds: (drainedAt - result.finish.getTime()) / 1000, wholeSeconds: (drainedAt - result.start.getTime()) / 1000, drainStarted };
    });
    await new Promise((ok) => intake.close(ok));

    const { result } = outcome;
    const accepted = result.statusCodeStats['202']?.count ?? 0;
    const acceptedRate = accepted / result.duration;
    const caseRate = (caseIds.size - outcome.pending) / outcome.wholeSeconds;
    console.log(`intake: ${REPORTS} distinct reports over HTTP (autocannon, ${CONCURRENCY} connections), intake + worker (dry-run connectors), one dev server (SQLite in memory), ${cpus().length} cores`);
    console.log(describeLimit(limit));
    console.log(`Warden intake accepted (202): ${accepted} of ${result.requests.total} in ${result.duration.toFixed(1)} s (non-2xx ${result.non2xx}, errors ${result.errors})`);
    console.log(`  accepted/s ${acceptedRate.toFixed(0)} (${ratio(acceptedRate, limit.starts.perSecond, 'raw start rate')})`);
    console.log(`  latency p50 ${result.latency.p50.toFixed(1)} ms (${ratio(result.latency.p50, limit.starts.p50, 'raw start p50')}), p99 ${result.latency.p99.toFixed(1)} ms (${ratio(result.latency.p99, limit.starts.p99, 'raw start p99')})`);
    console.log(`worker: ${caseIds.size - outcome.pending} of ${caseIds.size} cases responding ${outcome.drainSeconds.toFixed(1)} s after the last 202; cases through triage/s over the whole run ${caseRate.toFixed(0)} (${ratio(caseRate, limit.starts.perSecond, 'raw start rate')})`);
    emitResult({
      reports: REPORTS,
      concurrency: CONCURRENCY,
      cores: cpus().length,
      limit: limitResult(limit),
      accepted,
      sent: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      seconds: round(result.duration, 1),
      acceptedPerSecond: round(acceptedRate, 1),
      acceptedRatioToRawStarts: round(acceptedRate / limit.starts.perSecond),
      p50Ms: round(result.latency.p50, 1),
      p99Ms: round(result.latency.p99, 1),
      p50RatioToRawStartP50: round(result.latency.p50 / limit.starts.p50),
      p99RatioToRawStartP99: round(result.latency.p99 / limit.starts.p99),
      cases: caseIds.size,
      casesResponding: caseIds.size - outcome.pending,
      drainSecondsAfterLast202: round(outcome.drainSeconds, 1),
      casesThroughTriagePerSecond: round(caseRate, 1),
      casesThroughTriageRatioToRawStarts: round(caseRate / limit.starts.perSecond),
    });
    if (accepted !== REPORTS || caseIds.size !== accepted || outcome.pending) process.exitCode = 1;
  } finally {
    await connection.close();
    await native.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
