/**
 * Open cases: OPEN_CASES cases parked on SLA timers (a policy whose SLAs are 30 and 60 days), on a
 * file-backed dev server, with the worker as its own process. Prints the worker's RSS (before and
 * with the cases parked), the server's database size, the p50/p99 latency of an `acknowledge`
 * update to a random parked case and of a sign-off (containment confirmed) on it after, and the
 * firing skew of SLA timers: a second batch with a 20-second acknowledge SLA, each case's "SLA
 * breached: acknowledge" time against its deadline. Rates and latencies also as ratios to the
 * limit measured on the same server in the same run.
 *
 *   npm run bench:open-cases               (OPEN_CASES=10000 ACKS=200 TIMER_CASES=200 CONCURRENCY=100 LIMIT_COUNT=2000)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { CaseView } from '../src/domain';
import { ReportFiler, toReport } from '../src/intake/filing';
import { acknowledgeUpdate, caseViewQuery, signOffUpdate, workflowIdFor } from '../src/workflows/definitions';
import { startDevServer } from '../test/support/server';
import { sampleReport, testPolicy } from '../test/support/warden';
import { describeLimit, drive, measureLimit, percentile, ratio } from './limit';
import { emitResult, limitResult, round } from './result';
import { bundleWarden, WorkerProcess } from './worker-process';

const OPEN_CASES = Number(process.env.OPEN_CASES ?? 10_000);
const ACKS = Math.min(OPEN_CASES, Number(process.env.ACKS ?? 200));
const TIMER_CASES = Number(process.env.TIMER_CASES ?? Math.min(200, Math.max(20, Math.floor(OPEN_CASES / 10))));
const TIMER_SLA_SECONDS = 20;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const dbSize = (file: string) => ['', '-wal', '-shm'].reduce((sum, ext) => sum + (statSync(file + ext, { throwIfNoEntry: false })?.size ?? 0), 0);
const slas = (acknowledgeBy: string, respondBy: string) => Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy, respondBy }]));

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-open-'));
  const dbFile = join(dir, 'temporal.sqlite');
  const server = await startDevServer({ dbFile });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const taskQueue = `bench-open-${run}`;
  const worker = new WorkerProcess({
    TEMPORAL_ADDRESS: server.address,
    WARDEN_BENCH_TASK_QUEUE: taskQueue,
    WARDEN_OUTBOX: join(dir, 'outbox.jsonl'),
    WARDEN_BENCH_WORKFLOW_BUNDLE: await bundleWarden(dir),
  });
  try {
    const limit = await measureLimit(server.address, { concurrency: CONCURRENCY });
    await worker.start();
    await sleep(2_000);
    const rssIdle = worker.rss();
    const dbBefore = dbSize(dbFile);

    // 1. Park OPEN_CASES cases on long SLA timers.
    const parkedPolicy = testPolicy({ slas: slas('30d', '60d') });
    const filer = new ReportFiler(client, parkedPolicy, taskQueue);
    const caseIds: string[] = [];
    const filing = await drive(OPEN_CASES, CONCURRENCY, async (i) => {
      const filed = await filer.file(toReport(sampleReport({ title: `parked ${run} #${i}`, reporter: `sensor-${i}`, assets: [`host-${i}`] })));
      caseIds.push(filed.caseId);
    });
    const parkStarted = Date.now() - filing.seconds * 1000;
    const countParked = async () =>
      Number((await client.workflow.count(`TaskQueue = "${taskQueue}" AND WardenStatus = "responding"`)).count);
    let parked = 0;
    const parkDeadline = Date.now() + Math.max(300_000, OPEN_CASES * 200);
    while ((parked = await countParked()) < OPEN_CASES && Date.now() < parkDeadline) await sleep(1_000);
    const parkSeconds = (Date.now() - parkStarted) / 1000;
    await sleep(5_000); // let the worker settle
    const rssParked = worker.rss();
    const dbParked = dbSize(dbFile);

    // 2. Acknowledge random parked cases, one at a time.
    const picks = [...caseIds].sort(() => Math.random() - 0.5).slice(0, ACKS);
    let refusedAcks = 0;
    const acks = await drive(picks.length, 1, async (i) => {
      await client.workflow
        .getHandle(workflowIdFor(picks[i]))
        .executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] })
        .catch(() => void (refusedAcks += 1));
    });

    // 2b. Then a sign-off (containment confirmed) on each of those cases, one at a time.
    let refusedSignOffs = 0;
    const signOffs = await drive(picks.length, 1, async (i) => {
      await client.workflow
        .getHandle(workflowIdFor(picks[i]))
        .executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] })
        .catch(() => void (refusedSignOffs += 1));
    });

    // 3. Timer skew: a batch whose acknowledge clock runs out in TIMER_SLA_SECONDS, among the parked cases.
    const timerPolicy = testPolicy({ slas: slas(`${TIMER_SLA_SECONDS}s`, '30d') });
    const timerFiler = new ReportFiler(client, timerPolicy, taskQueue);
    const timerIds: string[] = [];
    await drive(TIMER_CASES, CONCURRENCY, async (i) => {
      timerIds.push((await timerFiler.file(toReport(sampleReport({ title: `timer ${run} #${i}`, reporter: `sensor-t${i}`, assets: [`host-t${i}`] })))).caseId);
    });
    const skews: number[] = [];
    const escalationSkews: number[] = [];
    const pending = new Set(timerIds);
    const timerDeadline = Date.now() + TIMER_SLA_SECONDS * 1000 + 180_000;
    await sleep(TIMER_SLA_SECONDS * 1000);
    while (pending.size && Date.now() < timerDeadline) {
      const ids = [...pending];
      await drive(ids.length, 20, async (i) => {
        const view = (await client.workflow.getHandle(workflowIdFor(ids[i])).query(caseViewQuery).catch(() => undefined)) as CaseView | undefined;
        const breached = view?.timeline.find((t) => t.action === 'SLA breached: acknowledge');
        const deadline = view?.slaDeadlines.acknowledgeBy;
        if (!view || !breached || !deadline) return;
        skews.push(Date.parse(breached.at) - Date.parse(deadline));
        const escalation = view.escalations.find((e) => e.triggers.some((t) => t.source === 'timer'));
        if (escalation) escalationSkews.push(Date.parse(escalation.at) - Date.parse(deadline));
        pending.delete(ids[i]);
      });
      if (pending.size) await sleep(1_000);
    }
    skews.sort((a, b) => a - b);
    escalationSkews.sort((a, b) => a - b);

    const parkRate = parked / parkSeconds;
    console.log(`open cases: ${OPEN_CASES} cases parked on 30-day SLA timers, worker as its own process (dry-run connectors), one dev server (SQLite file), ${cpus().length} cores`);
    console.log(describeLimit(limit));
    console.log(`parked: ${parked} of ${OPEN_CASES} responding after ${parkSeconds.toFixed(1)} s: ${parkRate.toFixed(0)} cases/s (${ratio(parkRate, limit.starts.perSecond, 'raw start rate')}); filed at ${(OPEN_CASES / filing.seconds).toFixed(0)}/s (${ratio(OPEN_CASES / filing.seconds, limit.starts.perSecond, 'raw start rate')})`);
    console.log(`worker RSS: idle ${mb(rssIdle)}, with the cases parked ${mb(rssParked)} (${((rssParked - rssIdle) / 1024 / OPEN_CASES).toFixed(1)} KiB per case)`);
    console.log(`server database: before ${mb(dbBefore)}, with the cases parked ${mb(dbParked)} (${((dbParked - dbBefore) / 1024 / OPEN_CASES).toFixed(1)} KiB per case)`);
    console.log(
      `acknowledge update to a random parked case (${picks.length}, one at a time): p50 ${percentile(acks.latencies, 50).toFixed(1)} ms, p99 ${percentile(acks.latencies, 99).toFixed(1)} ms (${ratio(percentile(acks.latencies, 99), limit.signals.p99, 'raw signal p99 at concurrency ' + limit.concurrency)}); refused ${refusedAcks}`,
    );
    console.log(
      `sign-off update (containment confirmed) to each acknowledged case (${picks.length}, one at a time): p50 ${percentile(signOffs.latencies, 50).toFixed(1)} ms, p99 ${percentile(signOffs.latencies, 99).toFixed(1)} ms (${ratio(percentile(signOffs.latencies, 99), limit.signals.p99, 'raw signal p99 at concurrency ' + limit.concurrency)}); refused ${refusedSignOffs}`,
    );
    console.log(
      `timer skew (${TIMER_CASES} cases, acknowledge SLA ${TIMER_SLA_SECONDS} s, ${skews.length} breached): breach recorded after the deadline by p50 ${percentile(skews, 50)} ms, p99 ${percentile(skews, 99)} ms, max ${skews[skews.length - 1]} ms; escalated by the timer ${escalationSkews.length}, escalation after the deadline p50 ${percentile(escalationSkews, 50)} ms, p99 ${percentile(escalationSkews, 99)} ms; not fired ${pending.size}`,
    );
    const ackP99 = percentile(acks.latencies, 99);
    emitResult({
      openCases: OPEN_CASES,
      concurrency: CONCURRENCY,
      cores: cpus().length,
      limit: limitResult(limit),
      parked,
      parkSeconds: round(parkSeconds, 1),
      parkedPerSecond: round(parkRate, 2),
      parkedRatioToRawStarts: round(parkRate / limit.starts.perSecond),
      filedPerSecond: round(OPEN_CASES / filing.seconds, 1),
      filedRatioToRawStarts: round(OPEN_CASES / filing.seconds / limit.starts.perSecond),
      workerRssIdleBytes: rssIdle,
      workerRssParkedBytes: rssParked,
      workerRssPerCaseBytes: Math.round((rssParked - rssIdle) / OPEN_CASES),
      dbBytesBefore: dbBefore,
      dbBytesParked: dbParked,
      dbBytesPerCase: Math.round((dbParked - dbBefore) / OPEN_CASES),
      acknowledge: { count: picks.length, p50Ms: round(percentile(acks.latencies, 50), 1), p99Ms: round(ackP99, 1), p99RatioToRawSignalP99: round(ackP99 / limit.signals.p99), refused: refusedAcks },
      signOff: {
        count: picks.length,
        p50Ms: round(percentile(signOffs.latencies, 50), 1),
        p99Ms: round(percentile(signOffs.latencies, 99), 1),
        p99RatioToRawSignalP99: round(percentile(signOffs.latencies, 99) / limit.signals.p99),
        refused: refusedSignOffs,
      },
      timers: {
        cases: TIMER_CASES,
        slaSeconds: TIMER_SLA_SECONDS,
        breached: skews.length,
        notFired: pending.size,
        breachSkewMs: { p50: percentile(skews, 50), p99: percentile(skews, 99), max: skews[skews.length - 1] ?? null },
        escalatedByTimer: escalationSkews.length,
        escalationSkewMs: { p50: percentile(escalationSkews, 50), p99: percentile(escalationSkews, 99) },
      },
    });
    if (parked < OPEN_CASES || refusedAcks || refusedSignOffs || pending.size) process.exitCode = 1;
  } finally {
    await worker.stop('SIGTERM');
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
