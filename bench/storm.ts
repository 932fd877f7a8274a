/**
 * Storm: 10,000 alerts over 100 fingerprints through the intake over HTTP, against the raw
 * signal rate of the same Temporal server measured in the same run (signalWithStart of a no-op
 * workflow at the same concurrency). Prints accepted/s, latency percentiles, the ratio, and the
 * exact counts: cases made and evidence summed.
 *
 *   npm run bench:storm                    (ALERTS=10000 FINGERPRINTS=100 CONCURRENCY=100)
 */
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, dryRunConnectors } from '../src/activities';
import type { CaseView } from '../src/domain';
import { createIntakeServer } from '../src/intake/server';
import { caseViewQuery, workflowIdFor } from '../src/workflows/definitions';
import { startDevServer } from '../test/support/server';
import { sampleReport, testPolicy } from '../test/support/warden';
import { ping } from './workflows';

Runtime.install({ logger: new DefaultLogger('WARN') });

const ALERTS = Number(process.env.ALERTS ?? 10_000);
const FINGERPRINTS = Number(process.env.FINGERPRINTS ?? 100);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function drive(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = process.hrtime.bigint();
        await op(i);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies: latencies.sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  const server = await startDevServer();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const run = Date.now().toString(36);
  try {
    // 1. The limit: raw signalWithStart of a no-op workflow, same shape (ALERTS signals over FINGERPRINTS ids).
    const sink = await Worker.create({ connection: native, taskQueue: `bench-sink-${run}`, workflowsPath: require.resolve('./workflows') });
    const raw = await sink.runUntil(async () => {
      const r = await drive(ALERTS, CONCURRENCY, async (i) => {
        await client.workflow.signalWithStart('noopSink', { workflowId: `sink-${run}-${i % FINGERPRINTS}`, taskQueue: `bench-sink-${run}`, signal: ping, signalArgs: [i] });
      });
      for (let f = 0; f < FINGERPRINTS; f++) await client.workflow.getHandle(`sink-${run}-${f}`).signal(ping, 'stop');
      return r;
    });

    // 2. Warden: the intake over HTTP, group commit, case workflows.
    const policy = testPolicy({ intake: { evidencePerRun: 5_000 } });
    const taskQueue = `bench-warden-${run}`;
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowsPath: require.resolve('../src/workflows'),
      activities: createActivities(dryRunConnectors(`/tmp/warden-bench-${run}.jsonl`)),
    });
    const intake = createIntakeServer({ client, policy, taskQueue });
    await new Promise<void>((ok) => intake.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(intake.address() as AddressInfo).port}/webhooks/generic`;
    const bodies = Array.from({ length: ALERTS }, (_, i) =>
      JSON.stringify(sampleReport({ title: `bench ${run} rule ${i % FINGERPRINTS}`, reporter: `sensor-${i}`, assets: [`host-${i % FINGERPRINTS}`] })),
    );
    const caseIds = new Set<string>();
    const result = await worker.runUntil(async () => {
      const r = await drive(ALERTS, CONCURRENCY, async (i) => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] });
        if (res.status !== 202) throw new Error(`intake answered ${res.status}`);
        caseIds.add(((await res.json()) as { caseId: string }).caseId);
      });
      // Every accepted report must be on its case.
      let evidence = 0;
      let events = 0;
      for (let tries = 0; tries < 120; tries++) {
        const views = await Promise.all([...caseIds].map((id) => client.workflow.getHandle(workflowIdFor(id)).query(caseViewQuery) as Promise<CaseView>));
        evidence = views.reduce((s, v) => s + v.evidenceCount, 0);
        if (evidence === ALERTS) break;
        await new Promise((ok) => setTimeout(ok, 500));
      }
      for (const id of caseIds) events += (await client.workflow.getHandle(workflowIdFor(id)).fetchHistory()).events?.length ?? 0;
      return { ...r, evidence, events };
    });
    intake.close();

    const rawRate = ALERTS / raw.seconds;
    const rate = ALERTS / result.seconds;
    console.log(`storm: ${ALERTS} alerts over ${FINGERPRINTS} fingerprints, concurrency ${CONCURRENCY}, one dev server (SQLite in memory), 2 cores`);
    console.log(`raw Temporal signalWithStart (no-op workflow): ${rawRate.toFixed(0)}/s, p50 ${percentile(raw.latencies, 50).toFixed(1)} ms, p99 ${percentile(raw.latencies, 99).toFixed(1)} ms`);
    console.log(`Warden intake accepted:                        ${rate.toFixed(0)}/s, p50 ${percentile(result.latencies, 50).toFixed(1)} ms, p99 ${percentile(result.latencies, 99).toFixed(1)} ms`);
    console.log(`ratio accepted / raw signal rate: ${(rate / rawRate).toFixed(2)}`);
    console.log(`cases: ${caseIds.size} (expected ${FINGERPRINTS}); evidence summed: ${result.evidence} (expected ${ALERTS}); history events per accepted alert: ${(result.events / ALERTS).toFixed(3)}`);
    if (caseIds.size !== FINGERPRINTS || result.evidence !== ALERTS) process.exitCode = 1;
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
