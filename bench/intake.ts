/**
 * Intake: distinct reports over HTTP (autocannon, each body a new report, so each opens its own
 * case) against the intake and a worker with dry-run connectors, on one dev server. Prints
 * accepted/s and p50/p99 latency of the 202, the worker's drain (every accepted case triaged and
 * responding), and each as a ratio to the raw workflow-start rate measured in the same run.
 *
 * Then, with the worker otherwise idle, LIFECYCLE_CASES fresh cases (filed over HTTP, on a policy
 * whose SLAs are 30/60 days so that no SLA timer fires mid-way) are driven through a whole
 * lifecycle, LIFECYCLE_CONCURRENCY at a time: file → responding → acknowledge (bob) → sign-offs of
 * the human recovery criteria (alice: containment-confirmed, dave: root-cause-known) → the machine
 * check passes → recovering → close (alice). Each closed case's history is fetched and counted:
 * workflow tasks (WorkflowTaskCompleted), activities (ActivityTaskScheduled), local activities
 * (MarkerRecorded), search-attribute upserts, history events; p50 and max per lifecycle.
 *
 *   npm run bench:intake                   (INTAKE_REPORTS=3000 CONCURRENCY=100 LIMIT_COUNT=2000 LIFECYCLE_CASES=50 LIFECYCLE_CONCURRENCY=10)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, dryRunConnectors } from '../src/activities';
import type { CaseView } from '../src/domain';
import { createIntakeServer } from '../src/intake/server';
import { acknowledgeUpdate, caseViewQuery, closeUpdate, signOffUpdate, workflowIdFor } from '../src/workflows/definitions';
import { freePort, startDevServer } from '../test/support/server';
import { sampleReport, testPolicy } from '../test/support/warden';
import { autocannon } from './autocannon';
import { describeLimit, drive, measureLimit, percentile, ratio } from './limit';
import { emitResult, limitResult, round } from './result';
import { caseWorkflowOptions } from '../src/workflow-bundle';

const REPORTS = Number(process.env.INTAKE_REPORTS ?? 3_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);
const DRAIN_BY = process.env.DRAIN_BY === 'query' ? 'query' : 'visibility';
const LIFECYCLE_CASES = Number(process.env.LIFECYCLE_CASES ?? 50);
const LIFECYCLE_CONCURRENCY = Number(process.env.LIFECYCLE_CONCURRENCY ?? 10);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const slas = (acknowledgeBy: string, respondBy: string) => Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy, respondBy }]));

/** CPU seconds (user + system, every thread) a process has used so far, from /proc. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}
const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The SDK's own worker metrics (Prometheus text) for the task queue: each latency histogram's count, mean and bucket-bound p50/p99 (ms); each counter's total. */
interface Histo {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}
function parseMetrics(text: string, taskQueue: string) {
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  const mine = lines.filter((l) => l.includes(`task_queue="${taskQueue}"`));
  const histos: Record<string, Histo> = {};
  const counters: Record<string, number> = {};
  const byName = new Map<string, { sum: number; count: number; buckets: Map<number, number> }>();
  for (const line of mine) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, labels = '', value] = m;
    const v = Number(value);
    const base = name.replace(/^temporal_/, '').replace(/_(bucket|sum|count)$/, '');
    if (/_(bucket|sum|count)$/.test(name) && /latency/.test(name)) {
      const h = byName.get(base) ?? { sum: 0, count: 0, buckets: new Map() };
      if (name.endsWith('_sum')) h.sum += v;
      else if (name.endsWith('_count')) h.count += v;
      else {
        const le = /le="([^"]+)"/.exec(labels)?.[1];
        const bound = le === '+Inf' ? Infinity : Number(le);
        h.buckets.set(bound, (h.buckets.get(bound) ?? 0) + v);
      }
      byName.set(base, h);
    } else if (!/latency/.test(name)) counters[base] = (counters[base] ?? 0) + v;
  }
  for (const [name, h] of byName) {
    const bounds = [...h.buckets.keys()].sort((a, b) => a - b);
    const q = (p: number) => bounds.find((b) => (h.buckets.get(b) ?? 0) >= p * h.count) ?? NaN;
    histos[name] = { count: h.count, meanMs: h.count ? round(h.sum / h.count, 1) : NaN, p50Ms: q(0.5), p99Ms: q(0.99) };
  }
  return { histos, counters };
}

/** What one closed case's history holds. */
interface HistoryCounts {
  workflowTasks: number;
  activities: number;
  localActivities: number;
  upserts: number;
  events: number;
  timers: number;
  updates: number;
  workflowTasksFailed: number;
  activityTypes: Record<string, number>;
}
const COUNTED = ['workflowTasks', 'activities', 'localActivities', 'upserts', 'events', 'timers', 'updates', 'workflowTasksFailed'] as const;

type HistoryEvent = {
  workflowTaskCompletedEventAttributes?: unknown;
  workflowTaskFailedEventAttributes?: unknown;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  markerRecordedEventAttributes?: unknown;
  upsertWorkflowSearchAttributesEventAttributes?: unknown;
  timerStartedEventAttributes?: unknown;
  workflowExecutionUpdateAcceptedEventAttributes?: unknown;
};

function countHistory(events: HistoryEvent[]): HistoryCounts {
  const c: HistoryCounts = { workflowTasks: 0, activities: 0, localActivities: 0, upserts: 0, events: events.length, timers: 0, updates: 0, workflowTasksFailed: 0, activityTypes: {} };
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) c.workflowTasks += 1;
    if (e.workflowTaskFailedEventAttributes) c.workflowTasksFailed += 1;
    if (e.activityTaskScheduledEventAttributes) {
      c.activities += 1;
      const name = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      c.activityTypes[name] = (c.activityTypes[name] ?? 0) + 1;
    }
    if (e.markerRecordedEventAttributes) c.localActivities += 1;
    if (e.upsertWorkflowSearchAttributesEventAttributes) c.upserts += 1;
    if (e.timerStartedEventAttributes) c.timers += 1;
    if (e.workflowExecutionUpdateAcceptedEventAttributes) c.updates += 1;
  }
  return c;
}

async function main(): Promise<void> {
  // The SDK's worker metrics on a loopback port: where the worker's time goes (task schedule-to-start, execution, slots used).
  const metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { metrics: { prometheus: { bindAddress: new URL(metricsUrl).host } } } });
  const scrape = () => fetch(metricsUrl).then((r) => r.text(), () => '');
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

    // A second intake for the lifecycle cases: 30/60-day SLAs, so that no SLA timer fires while a case is driven.
    const lifecyclePolicy = testPolicy({ slas: slas('30d', '60d') });
    const lifecycleIntake = createIntakeServer({ client, policy: lifecyclePolicy, taskQueue });
    await new Promise<void>((ok) => lifecycleIntake.listen(0, '127.0.0.1', ok));
    const lifecycleUrl = `http://127.0.0.1:${(lifecycleIntake.address() as AddressInfo).port}/webhooks/generic`;

    /** LIFECYCLE_CASES cases, each driven file → responding → acknowledge → sign-offs → recovering → close; then their histories counted. */
    async function lifecycles() {
      const counts: HistoryCounts[] = [];
      const toResponding: HistoryCounts[] = [];
      const failures: string[] = [];
      const atStage = async (caseId: string, stages: string[], timeoutMs = 120_000) => {
        const handle = client.workflow.getHandle(workflowIdFor(caseId));
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const view = (await handle.query(caseViewQuery).catch(() => undefined)) as CaseView | undefined;
          if (view && stages.includes(view.stage)) return view;
          if (Date.now() > deadline) throw new Error(`${caseId} not at ${stages.join('/')} after ${timeoutMs} ms (stage ${view?.stage ?? 'unknown'})`);
          await sleep(250);
        }
      };
      const driven = await drive(LIFECYCLE_CASES, LIFECYCLE_CONCURRENCY, async (i) => {
        let caseId = '?';
        try {
          const body = JSON.stringify(sampleReport({ title: `lifecycle bench ${run} report ${i}`, reporter: `lifecycle-sensor-${i}`, assets: [`lifecycle-host-${i}`] }));
          const res = await fetch(lifecycleUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (res.status !== 202) throw new Error(`filing answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
          caseId = ((await res.json()) as { caseId: string }).caseId;
          const handle = client.workflow.getHandle(workflowIdFor(caseId));
          await atStage(caseId, ['responding']);
          await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
          await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
          await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'dave', criterion: 'root-cause-known' }] });
          await atStage(caseId, ['recovering']); // the machine check (a 1 s quiet period in the test policy) passes by itself
          await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'lifecycle bench: contained and rebuilt' }] });
          await handle.result();
          const events = (await handle.fetchHistory()).events as HistoryEvent[];
          counts.push(countHistory(events));
          // Up to responding: the events before the first update (the acknowledge, sent once the case was responding).
          const firstUpdate = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
          toResponding.push(countHistory(events.slice(0, firstUpdate < 0 ? events.length : firstUpdate)));
        } catch (err) {
          failures.push(`${caseId}: ${(err as Error).message}`);
        }
      });
      const summarize = (of: HistoryCounts[]) => {
        const sorted = (k: (typeof COUNTED)[number]) => of.map((c) => c[k]).sort((a, b) => a - b);
        return Object.fromEntries(COUNTED.map((k) => [k, { p50: percentile(sorted(k), 50), max: sorted(k)[sorted(k).length - 1] ?? null, min: sorted(k)[0] ?? null }])) as Record<
          (typeof COUNTED)[number],
          { p50: number; max: number | null; min: number | null }
        >;
      };
      const stats = summarize(counts);
      const statsToResponding = summarize(toResponding);
      const activityTypes: Record<string, { p50: number; max: number }> = {};
      for (const name of [...new Set(counts.flatMap((c) => Object.keys(c.activityTypes)))].sort()) {
        const xs = counts.map((c) => c.activityTypes[name] ?? 0).sort((a, b) => a - b);
        activityTypes[name] = { p50: percentile(xs, 50), max: xs[xs.length - 1] };
      }
      return { cases: LIFECYCLE_CASES, concurrency: LIFECYCLE_CONCURRENCY, closed: counts.length, failures, seconds: driven.seconds, lifecycleP50Ms: percentile(driven.latencies, 50), lifecycleMaxMs: driven.latencies[driven.latencies.length - 1], stats, statsToResponding, activityTypes };
    }

    let made = 0;
    let drainPolls = 0;
    const caseIds = new Set<string>();
    const outcome = await worker.runUntil(async () => {
      const cpuBefore = { bench: selfCpuSeconds(), server: cpuSecondsOf(server.process.pid) };
      // Slots in use (workflow tasks, activities, local activities), sampled every second while the cases are filed and triaged.
      const slotSamples: Record<string, number[]> = {};
      const slotSampler = setInterval(() => {
        void scrape().then((text) => {
          for (const line of text.split('\n').filter((l) => /worker_task_slots_used\{/.test(l) && l.includes(`task_queue="${taskQueue}"`))) {
            const kind = /worker_type="([^"]+)"/.exec(line)?.[1] ?? '?';
            (slotSamples[kind] ??= []).push(Number(line.trim().split(/\s+/).pop()));
          }
        });
      }, 1_000);
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
      // The worker's side: every accepted case through triage to responding. Watched from visibility
      // (WardenStatus, which the case upserts as it moves) by default, which asks nothing of the
      // worker; DRAIN_BY=query polls every pending case's view instead (a query each, answered by
      // the worker: what this bench did before, and a load on the worker it measures).
      const drainStarted = Date.now();
      const pending = new Set(caseIds);
      const deadline = Date.now() + Math.max(300_000, REPORTS * 300);
      const pastTriage = (view: CaseView | undefined) => !!view && view.stage !== 'received' && view.stage !== 'validating' && view.stage !== 'triage';
      const queryPass = async () => {
        const ids = [...pending];
        await drive(ids.length, 50, async (i) => {
          drainPolls += 1;
          const view = (await client.workflow.getHandle(workflowIdFor(ids[i])).query(caseViewQuery).catch(() => undefined)) as CaseView | undefined;
          if (pastTriage(view)) pending.delete(ids[i]);
        });
      };
      const inTriage = `TaskQueue = '${taskQueue}' AND WardenStatus IN ('received', 'validating', 'triage')`;
      while (pending.size && Date.now() < deadline) {
        if (DRAIN_BY === 'query') await queryPass();
        else {
          const [waiting, all] = await Promise.all([client.workflow.count(inTriage), client.workflow.count(`TaskQueue = '${taskQueue}'`)]);
          if (waiting.count === 0 && all.count >= caseIds.size) await queryPass(); // confirm from the cases themselves, once
        }
        if (pending.size) await new Promise((ok) => setTimeout(ok, DRAIN_BY === 'query' ? 1_000 : 250));
      }
      const drainedAt = Date.now();
      if (pending.size && DRAIN_BY !== 'query') await queryPass(); // out of time: which cases did get there
      // Where the CPU went while the cases were filed and triaged: this process (autocannon, the intake, the worker, the drain's polling) and the server.
      const cpu = { bench: selfCpuSeconds() - cpuBefore.bench, server: cpuSecondsOf(server.process.pid) - cpuBefore.server };
      clearInterval(slotSampler);
      const metricsAfter = parseMetrics(await scrape(), taskQueue);
      const slots = Object.fromEntries(
        Object.entries(slotSamples).map(([k, xs]) => [k, { mean: round(xs.reduce((a, b) => a + b, 0) / xs.length, 1), max: Math.max(...xs), samples: xs.length }]),
      );
      // (the intake's task queue only, so the limit's worker is not in them; scraped before the lifecycle cases start)
      const timings = metricsAfter.histos;
      const lifecycle = await lifecycles();
      return { result, pending: pending.size, drainSeconds: (drainedAt - result.finish.getTime()) / 1000, wholeSeconds: (drainedAt - result.start.getTime()) / 1000, drainStarted, lifecycle, cpu, drainPolls, slots, timings, counters: metricsAfter.counters };
    });
    await new Promise((ok) => intake.close(ok));
    await new Promise((ok) => lifecycleIntake.close(ok));

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
    const window = outcome.wholeSeconds;
    console.log(
      `  drain watched by ${DRAIN_BY === 'query' ? 'querying every pending case each second' : 'visibility counts (WardenStatus), then one query per case to confirm'}: ${outcome.drainPolls} case queries; CPU from the first report to the last case responding (${window.toFixed(1)} s, ${cpus().length} cores = ${(window * cpus().length).toFixed(0)} CPU-s): this process (autocannon, intake, worker, drain) ${outcome.cpu.bench.toFixed(1)} CPU-s (${((100 * outcome.cpu.bench) / window).toFixed(0)}% of one core), Temporal server ${outcome.cpu.server.toFixed(1)} CPU-s (${((100 * outcome.cpu.server) / window).toFixed(0)}% of one core)`,
    );
    const t = (name: string) => {
      const h = outcome.timings[name] as Histo | undefined;
      return h ? `${name.replace(/_latency$/, '')} ${h.count}× mean ${h.meanMs} ms (p50 ≤ ${h.p50Ms}, p99 ≤ ${h.p99Ms})` : `${name}: none`;
    };
    console.log(
      `  worker (the SDK's metrics for the task queue, intake and triage): ${['workflow_task_schedule_to_start_latency', 'workflow_task_execution_latency', 'activity_schedule_to_start_latency', 'activity_execution_latency', 'local_activity_execution_latency'].map(t).join('; ')}`,
    );
    console.log(
      `  slots in use, mean (max) of 1 s samples: ${Object.entries(outcome.slots).map(([k, v]) => `${k} ${v.mean} (${v.max})`).join(', ') || 'none sampled'} (limits: workflow tasks 40, activities 100, local activities 100, the SDK defaults src/worker.ts keeps)`,
    );
    const lc = outcome.lifecycle;
    const stat = (k: (typeof COUNTED)[number]) => `${lc.stats[k].p50} (max ${lc.stats[k].max})`;
    console.log(
      `lifecycle (${lc.closed} of ${lc.cases} cases closed, ${lc.concurrency} at a time, file → responding → acknowledge → 2 sign-offs → recovering → close; p50 ${(lc.lifecycleP50Ms / 1000).toFixed(1)} s each): per case p50 (max) workflow tasks ${stat('workflowTasks')}, activities ${stat('activities')}, local activities ${stat('localActivities')}, search-attribute upserts ${stat('upserts')}, history events ${stat('events')}, timers ${stat('timers')}, updates ${stat('updates')}, workflow tasks failed ${stat('workflowTasksFailed')}`,
    );
    const upTo = (k: (typeof COUNTED)[number]) => `${lc.statsToResponding[k].p50} (max ${lc.statsToResponding[k].max})`;
    console.log(`  of which up to responding (before the acknowledge): workflow tasks ${upTo('workflowTasks')}, activities ${upTo('activities')}, local activities ${upTo('localActivities')}, upserts ${upTo('upserts')}, history events ${upTo('events')}`);
    console.log(`  activities per case, p50 (max): ${Object.entries(lc.activityTypes).map(([n, v]) => `${n} ${v.p50} (${v.max})`).join(', ')}`);
    for (const f of lc.failures.slice(0, 10)) console.log(`  lifecycle failed: ${f}`);
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
      drainBy: DRAIN_BY,
      workerMetrics: { timings: outcome.timings, slotsUsed: outcome.slots },
      drainCaseQueries: outcome.drainPolls,
      cpuSeconds: { windowSeconds: round(window, 1), bench: round(outcome.cpu.bench, 1), server: round(outcome.cpu.server, 1) },
      lifecycle: {
        cases: lc.cases,
        concurrency: lc.concurrency,
        closed: lc.closed,
        failures: lc.failures,
        lifecycleP50Ms: round(lc.lifecycleP50Ms, 1),
        lifecycleMaxMs: round(lc.lifecycleMaxMs, 1),
        perCase: lc.stats,
        perCaseToResponding: lc.statsToResponding,
        activityTypes: lc.activityTypes,
      },
    });
    if (accepted !== REPORTS || caseIds.size !== accepted || outcome.pending || lc.closed !== lc.cases) process.exitCode = 1;
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
