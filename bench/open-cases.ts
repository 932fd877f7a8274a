/**
 * Open cases: OPEN_CASES cases parked on SLA timers (a policy whose SLAs are 30 and 60 days), on a
 * file-backed dev server, with the worker as its own process. Prints the worker's RSS (before and
 * with the cases parked), the server's database size, the p50/p99 latency of an `acknowledge`
 * update to a random parked case and of a sign-off (containment confirmed) on it after, and the
 * firing skew of SLA timers: a second batch with a 20-second acknowledge SLA, each case's "SLA
 * breached: acknowledge" time against its deadline. Rates and latencies also as ratios to the
 * limit measured on the same server in the same run.
 *
 * The worker caches WARDEN_MAX_CACHED_WORKFLOWS cases (src/config.ts, as the real worker does). The
 * acknowledged cases are picked at random among those parked before the last 2 × cache size (so
 * none is still cached from parking); a sign-off then goes to each of them (cached by then), and
 * another to as many other random parked cases (not cached). The worker's own counters (the SDK's
 * sticky_cache_hit / sticky_cache_miss, from its Prometheus endpoint) say how many workflow tasks
 * of each phase found their case in the cache and how many had to replay it.
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
import { loadConfig } from '../src/config';
import { acknowledgeUpdate, caseViewQuery, signOffUpdate, workflowIdFor } from '../src/workflows/definitions';
import { freePort, startDevServer } from '../test/support/server';
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
/** The worker's cache counters, from its Prometheus endpoint (the SDK's metrics; names with or without the temporal_ prefix). */
async function cacheCounters(metricsUrl: string): Promise<{ hit: number; miss: number; size: number; evictions: number }> {
  const text = await (await fetch(metricsUrl)).text().catch(() => '');
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((l) => new RegExp(`^(temporal_)?${name}(_total)?(\\{|\\s)`).test(l))
      .reduce((s, l) => s + Number(l.trim().split(/\s+/).pop()), 0);
  return { hit: sum('sticky_cache_hit'), miss: sum('sticky_cache_miss'), size: sum('sticky_cache_size'), evictions: sum('sticky_cache_total_forced_eviction') };
}
const cacheDelta = (a: { hit: number; miss: number }, b: { hit: number; miss: number }) => ({ hits: b.hit - a.hit, misses: b.miss - a.miss });

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
  const cacheSize = loadConfig().maxCachedWorkflows;
  const metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
  const worker = new WorkerProcess({
    WARDEN_BENCH_METRICS: new URL(metricsUrl).host,
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
      const filed = await filer.file(toReport(sampleReport({ title: `parked ${run} beaconing #${i}`, reporter: `sensor-${i}`, assets: [`host-${i}`] })));
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

    // 2. Acknowledge random parked cases, one at a time: cases parked before the last 2 × cache size, so not cached.
    const shuffled = (xs: string[]) => xs.map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
    const cold = caseIds.length > 2 * cacheSize + 2 * ACKS ? caseIds.slice(0, caseIds.length - 2 * cacheSize) : caseIds;
    const [picks, others] = ((xs) => [xs.slice(0, ACKS), xs.slice(ACKS, 2 * ACKS)])(shuffled(cold));
    const cacheParked = await cacheCounters(metricsUrl);
    let refusedAcks = 0;
    /** Why updates were refused (the first few), for the record. */
    const refusals: string[] = [];
    const acks = await drive(picks.length, 1, async (i) => {
      await client.workflow
        .getHandle(workflowIdFor(picks[i]))
        .executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] })
        .catch((err: Error) => void (refusedAcks += 1, refusals.push(`refusedAcks: ${err.cause instanceof Error ? err.cause.message : err.message}`)));
    });

    const cacheAcked = await cacheCounters(metricsUrl);

    // 2b. Then a sign-off (containment confirmed) on each of those cases, one at a time.
    let refusedSignOffs = 0;
    const signOffs = await drive(picks.length, 1, async (i) => {
      await client.workflow
        .getHandle(workflowIdFor(picks[i]))
        .executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] })
        .catch((err: Error) => void (refusedSignOffs += 1, refusals.push(`refusedSignOffs: ${err.cause instanceof Error ? err.cause.message : err.message}`)));
    });
    const cacheSigned = await cacheCounters(metricsUrl);

    // 2c. And a sign-off on as many other random parked cases (not acknowledged, not cached), one at a time.
    let refusedColdSignOffs = 0;
    const coldSignOffs = await drive(others.length, 1, async (i) => {
      await client.workflow
        .getHandle(workflowIdFor(others[i]))
        .executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] })
        .catch((err: Error) => void (refusedColdSignOffs += 1, refusals.push(`refusedColdSignOffs: ${err.cause instanceof Error ? err.cause.message : err.message}`)));
    });
    const cacheColdSigned = await cacheCounters(metricsUrl);
    const rssAfterUpdates = worker.rss();

    // 3. Timer skew: a batch whose acknowledge clock runs out in TIMER_SLA_SECONDS, among the parked cases.
    const timerPolicy = testPolicy({ slas: slas(`${TIMER_SLA_SECONDS}s`, '30d') });
    const timerFiler = new ReportFiler(client, timerPolicy, taskQueue);
    const timerIds: string[] = [];
    await drive(TIMER_CASES, CONCURRENCY, async (i) => {
      timerIds.push((await timerFiler.file(toReport(sampleReport({ title: `timer ${run} beaconing #${i}`, reporter: `sensor-t${i}`, assets: [`host-t${i}`] })))).caseId);
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
    const peakRss = worker.peakRss();
    console.log(
      `worker RSS (cache ${cacheSize} cases, WARDEN_MAX_CACHED_WORKFLOWS): idle ${mb(rssIdle)}, with the cases parked ${mb(rssParked)} (${((rssParked - rssIdle) / 1024 / OPEN_CASES).toFixed(1)} KiB per case parked), after the updates ${mb(rssAfterUpdates)}, peak ${mb(peakRss)}; cases in the cache when parked ${cacheParked.size}, forced evictions ${cacheParked.evictions}`,
    );
    console.log(`server database: before ${mb(dbBefore)}, with the cases parked ${mb(dbParked)} (${((dbParked - dbBefore) / 1024 / OPEN_CASES).toFixed(1)} KiB per case)`);
    console.log(
      `acknowledge update to a random parked case, not cached (${picks.length}, one at a time): p50 ${percentile(acks.latencies, 50).toFixed(1)} ms, p99 ${percentile(acks.latencies, 99).toFixed(1)} ms (${ratio(percentile(acks.latencies, 99), limit.signals.p99, 'raw signal p99 at concurrency ' + limit.concurrency)}); refused ${refusedAcks}`,
    );
    console.log(
      `sign-off update (containment confirmed) to each acknowledged case (${picks.length}, one at a time): p50 ${percentile(signOffs.latencies, 50).toFixed(1)} ms, p99 ${percentile(signOffs.latencies, 99).toFixed(1)} ms (${ratio(percentile(signOffs.latencies, 99), limit.signals.p99, 'raw signal p99 at concurrency ' + limit.concurrency)}); refused ${refusedSignOffs}`,
    );
    const ackCache = cacheDelta(cacheParked, cacheAcked);
    const signCache = cacheDelta(cacheAcked, cacheSigned);
    const coldCache = cacheDelta(cacheSigned, cacheColdSigned);
    console.log(
      `sign-off update (containment confirmed) to other random parked cases, not acknowledged (${others.length}, one at a time): p50 ${percentile(coldSignOffs.latencies, 50).toFixed(1)} ms, p99 ${percentile(coldSignOffs.latencies, 99).toFixed(1)} ms (${ratio(percentile(coldSignOffs.latencies, 99), limit.signals.p99, 'raw signal p99 at concurrency ' + limit.concurrency)}); refused ${refusedColdSignOffs}`,
    );
    console.log(
      `workflow cache (the worker's sticky_cache_hit/miss): acknowledges ${ackCache.misses} misses, ${ackCache.hits} hits; sign-offs to the acknowledged cases ${signCache.misses} misses, ${signCache.hits} hits; sign-offs to other cases ${coldCache.misses} misses, ${coldCache.hits} hits (picked among the ${cold.length} cases parked before the last ${caseIds.length - cold.length})`,
    );
    for (const r of refusals.slice(0, 5)) console.log(`  refused: ${r.slice(0, 300)}`);
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
      workerRssAfterUpdatesBytes: rssAfterUpdates,
      workerRssPeakBytes: peakRss,
      cache: {
        size: cacheSize,
        cachedWhenParked: cacheParked.size,
        forcedEvictionsWhenParked: cacheParked.evictions,
        pickedAmong: cold.length,
        acknowledge: ackCache,
        signOffAcknowledged: signCache,
        signOffOther: coldCache,
      },
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
      signOffOther: {
        count: others.length,
        p50Ms: round(percentile(coldSignOffs.latencies, 50), 1),
        p99Ms: round(percentile(coldSignOffs.latencies, 99), 1),
        p99RatioToRawSignalP99: round(percentile(coldSignOffs.latencies, 99) / limit.signals.p99),
        refused: refusedColdSignOffs,
      },
      refusals: refusals.slice(0, 10),
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
    if (parked < OPEN_CASES || refusedAcks || refusedSignOffs || refusedColdSignOffs || pending.size) process.exitCode = 1;
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
