/**
 * Storm: 10,000 alerts over 100 fingerprints through the intake over HTTP, against the raw
 * signalWithStart rate of the same Temporal server measured in the same run with the same shape
 * (ALERTS signalWithStart of a no-op workflow over FINGERPRINTS workflow ids, same concurrency).
 *
 * The load comes from its own process in both measurements (bench/storm-load.ts: autocannon for
 * the HTTP route, the Temporal TypeScript client for the limit), and Warden's worker runs as its
 * own process (bench/chaos-worker.ts, dry-run connectors), as in production: this process runs
 * only the intake (Warden) or the no-op worker (the limit). Every process shares the machine's
 * cores with the dev server.
 *
 * Prints accepted/s and latency percentiles, their ratios to the limit, the group commit (signals
 * sent, reports per signal), history events per accepted alert, and the exact counts: cases made
 * (exactly FINGERPRINTS) and evidence summed over them (exactly the alerts accepted).
 *
 *   npm run bench:storm                    (ALERTS=10000 FINGERPRINTS=100 CONCURRENCY=100)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { CaseView } from '../src/domain';
import { ReportFiler } from '../src/intake/filing';
import { createIntakeServer } from '../src/intake/server';
import { caseViewQuery, workflowIdFor } from '../src/workflows/definitions';
import { startDevServer } from '../test/support/server';
import { testPolicy } from '../test/support/warden';
import { drive } from './drive';
import { ratio } from './limit';
import { emitResult, round } from './result';
import type { StormLoad } from './storm-load';
import { bundleWarden, WorkerProcess } from './worker-process';
import { ping } from './workflows';

Runtime.install({ logger: new DefaultLogger('WARN') });

const ALERTS = Number(process.env.ALERTS ?? 10_000);
const FINGERPRINTS = Number(process.env.FINGERPRINTS ?? 100);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

/** Run bench/storm-load.ts as its own process; its STORM_LOAD line. */
function load(env: NodeJS.ProcessEnv): Promise<StormLoad> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', resolve(__dirname, 'storm-load.ts')], {
    cwd: resolve(__dirname, '..'),
    env: { ...process.env, ALERTS: String(ALERTS), FINGERPRINTS: String(FINGERPRINTS), CONCURRENCY: String(CONCURRENCY), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((ok, fail) =>
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('STORM_LOAD '));
      if (code !== 0 || !line) return fail(new Error(`load generator exited ${code}: ${out.slice(-2000)}`));
      ok(JSON.parse(line.slice('STORM_LOAD '.length)) as StormLoad);
    }),
  );
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const server = await startDevServer();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const run = Date.now().toString(36);
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-storm-'));
  const worker = new WorkerProcess({
    TEMPORAL_ADDRESS: server.address,
    WARDEN_BENCH_TASK_QUEUE: `bench-warden-${run}`,
    WARDEN_OUTBOX: join(dir, 'outbox.jsonl'),
    WARDEN_BENCH_WORKFLOW_BUNDLE: await bundleWarden(dir),
  });
  try {
    // 1. The limit: raw signalWithStart of a no-op workflow, same shape, from its own process.
    const sinkQueue = `bench-sink-${run}`;
    const sink = await Worker.create({ connection: native, taskQueue: sinkQueue, workflowsPath: require.resolve('./workflows') });
    const raw = await sink.runUntil(async () => {
      const r = await load({ STORM_MODE: 'signal', TEMPORAL_ADDRESS: server.address, STORM_TASK_QUEUE: sinkQueue, STORM_RUN: `sink-${run}` });
      await drive(FINGERPRINTS, 50, (f) => client.workflow.getHandle(`sink-${run}-${f}`).signal(ping, 'stop'));
      return r;
    });
    if (raw.errors) throw new Error(`the limit's signalWithStart failed ${raw.errors} times`);

    // 2. Warden: the intake over HTTP (this process), group commit, case workflows (the worker's process).
    const policy = testPolicy({ intake: { evidencePerRun: 5_000 } });
    const taskQueue = `bench-warden-${run}`;
    await worker.start();
    const filer = new ReportFiler(client, policy, taskQueue);
    const intake = createIntakeServer({ client, policy, taskQueue, filer });
    await new Promise<void>((ok) => intake.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(intake.address() as AddressInfo).port}/webhooks/generic`;
    const warden = await load({ STORM_MODE: 'http', STORM_URL: url, STORM_RUN: run });
    await new Promise((ok) => intake.close(ok));
    const accepted = warden.ok;
    const caseIds = Object.keys(warden.acceptedPerCase ?? {});

    // Every accepted report must be on its case: evidence summed over the cases is exactly the 202s.
    let evidence = 0;
    let perCaseMismatch = 0;
    for (let tries = 0; tries < 120; tries++) {
      const views = await Promise.all(caseIds.map((id) => client.workflow.getHandle(workflowIdFor(id)).query(caseViewQuery) as Promise<CaseView>));
      evidence = views.reduce((s, v) => s + v.evidenceCount, 0);
      perCaseMismatch = views.filter((v, i) => v.evidenceCount !== warden.acceptedPerCase![caseIds[i]]).length;
      if (evidence === accepted) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    let events = 0;
    for (const id of caseIds) events += (await client.workflow.getHandle(workflowIdFor(id)).fetchHistory()).events?.length ?? 0;

    const rawRate = raw.ok / raw.seconds;
    const rate = accepted / warden.seconds;
    const batch = filer.stats.reports / Math.max(1, filer.stats.signals);
    console.log(
      `storm: ${ALERTS} alerts over ${FINGERPRINTS} fingerprints, concurrency ${CONCURRENCY}, one dev server (SQLite in memory), ${cpus().length} cores; ` +
        `load from its own process (limit: TypeScript client; Warden: autocannon over HTTP), Warden's worker its own process`,
    );
    console.log(`raw Temporal signalWithStart (no-op workflow): ${rawRate.toFixed(0)}/s, p50 ${ms(raw.latencyMs.p50)}, p99 ${ms(raw.latencyMs.p99)} (load generator CPU ${raw.cpuSeconds.toFixed(1)} s)`);
    console.log(
      `Warden intake accepted:                        ${rate.toFixed(0)}/s (${ratio(rate, rawRate, 'raw signalWithStart rate')}), ` +
        `p50 ${ms(warden.latencyMs.p50)} (${ratio(warden.latencyMs.p50, raw.latencyMs.p50, 'raw p50')}), p99 ${ms(warden.latencyMs.p99)} (${ratio(warden.latencyMs.p99, raw.latencyMs.p99, 'raw p99')}) (load generator CPU ${warden.cpuSeconds.toFixed(1)} s)`,
    );
    console.log(`answers: ${JSON.stringify(warden.statuses)}, errors ${warden.errors}`);
    console.log(`group commit: ${filer.stats.signals} signalWithStart for ${filer.stats.reports} reports: ${batch.toFixed(2)} reports per signal (${ratio(filer.stats.signals, raw.ok, 'the raw signals')})`);
    console.log(
      `cases: ${caseIds.length} (expected ${FINGERPRINTS}); evidence summed: ${evidence} (expected ${accepted}, the 202s; cases whose evidence differs from their 202s: ${perCaseMismatch}); ` +
        `history events per accepted alert: ${(events / Math.max(1, accepted)).toFixed(3)} (${events} events)`,
    );
    emitResult({
      alerts: ALERTS,
      fingerprints: FINGERPRINTS,
      concurrency: CONCURRENCY,
      cores: cpus().length,
      loadGenerator: 'separate process (limit: @temporalio/client signalWithStart; Warden: autocannon)',
      raw: { perSecond: round(rawRate, 1), p50Ms: round(raw.latencyMs.p50, 1), p99Ms: round(raw.latencyMs.p99, 1), maxMs: round(raw.latencyMs.max, 1), loadCpuSeconds: round(raw.cpuSeconds, 1) },
      warden: {
        accepted,
        sent: warden.sent,
        statuses: warden.statuses,
        errors: warden.errors,
        perSecond: round(rate, 1),
        p50Ms: round(warden.latencyMs.p50, 1),
        p99Ms: round(warden.latencyMs.p99, 1),
        maxMs: round(warden.latencyMs.max, 1),
        loadCpuSeconds: round(warden.cpuSeconds, 1),
      },
      ratioToRawRate: round(rate / rawRate),
      p50RatioToRawP50: round(warden.latencyMs.p50 / raw.latencyMs.p50),
      p99RatioToRawP99: round(warden.latencyMs.p99 / raw.latencyMs.p99),
      groupCommit: { signals: filer.stats.signals, reports: filer.stats.reports, reportsPerSignal: round(batch, 2) },
      cases: caseIds.length,
      evidence,
      casesWithEvidenceMismatch: perCaseMismatch,
      historyEvents: events,
      historyEventsPerAcceptedAlert: round(events / Math.max(1, accepted)),
    });
    if (caseIds.length !== FINGERPRINTS || evidence !== accepted || perCaseMismatch || accepted !== ALERTS) process.exitCode = 1;
  } finally {
    await worker.stop('SIGTERM');
    await connection.close();
    await native.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
