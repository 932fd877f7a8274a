/**
 * Time to page: reports about a critical asset (`payments-db`, so each one pages on-call) through
 * the intake over HTTP, with the live PagerDuty connector (chosen by connectorsFromEnv, with
 * PAGERDUTY_* pointing at the loopback PagerDuty simulator; the other connectors dry-run).
 *
 * First a burst at full concurrency measures two maxima for these reports: the intake's accepted
 * rate (202s per second), and the paging rate (the burst's cases over the time until the last of
 * them was paged: what the worker can take from report to page). Then, once the burst's cases have
 * settled, reports arrive open-loop at half of each maximum in turn, and for each one the time from
 * its 202 to the simulator receiving the trigger for its case's dedup key (`warden-<caseId>`) is
 * taken. At half the paging maximum the figure is the time to page of a system within its means;
 * at half the intake's, the intake accepts several times what the worker can page, and the
 * figure is mostly the queue. Prints p50/p99 time-to-page for both, and the rates as ratios to the raw
 * start rate of the same run.
 *
 *   npm run bench:page                     (PAGES=400 PAGE_BURST=300 CONCURRENCY=100 LIMIT_COUNT=2000)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { connectorsFromEnv } from '../src/activities/connectors';
import { createIntakeServer } from '../src/intake/server';
import { startPagerDutySimulator } from '../test/simulators/pagerduty';
import { startDevServer } from '../test/support/server';
import { sampleReport, testPolicy } from '../test/support/warden';
import { describeLimit, drive, measureLimit, percentile, ratio } from './limit';
import { emitResult, limitResult, round } from './result';
import { caseWorkflowOptions } from '../src/workflow-bundle';

const PAGES = Number(process.env.PAGES ?? 400);
const BURST = Number(process.env.PAGE_BURST ?? 300);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const [server, pd] = await Promise.all([startDevServer(), startPagerDutySimulator()]);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-page-'));
  writeFileSync(join(dir, 'pagerduty-ca.pem'), pd.ca);
  const env: NodeJS.ProcessEnv = {
    PAGERDUTY_ROUTING_KEY: pd.routingKeys.default,
    PAGERDUTY_EVENTS_URL: pd.url,
    PAGERDUTY_CA_FILE: join(dir, 'pagerduty-ca.pem'),
    WARDEN_VENDOR_TIMEOUT_MS: '5000',
  };
  try {
    const limit = await measureLimit(server.address, { concurrency: CONCURRENCY });

    const connectors = connectorsFromEnv(join(dir, 'outbox.jsonl'), env);
    if (connectors.modes.pagerduty !== 'live') throw new Error('the PagerDuty connector is not live');
    const policy = testPolicy();
    const taskQueue = `bench-page-${run}`;
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      ...caseWorkflowOptions(),
      activities: createActivities({ ...connectors.deps, uiBaseUrl: 'http://localhost:8233' }),
    });
    const intake = createIntakeServer({ client, policy, taskQueue });
    await new Promise<void>((ok) => intake.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(intake.address() as AddressInfo).port}/webhooks/generic`;

    let n = 0;
    const fileOne = async (): Promise<{ caseId: string; acceptedAt: number }> => {
      n += 1;
      const body = JSON.stringify(sampleReport({ title: `payments-db anomaly ${run} #${n}`, reporter: `sensor-${n}`, assets: ['payments-db'] }));
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const acceptedAt = Date.now();
      if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`);
      return { caseId: ((await res.json()) as { caseId: string }).caseId, acceptedAt };
    };
    /** When the simulator first received a trigger for each dedup key (ms since epoch). */
    const firstTrigger = () => {
      const at = new Map<string, number>();
      for (const r of pd.requests) {
        const b = r.body as { event_action?: string; dedup_key?: string } | undefined;
        if (b?.event_action === 'trigger' && b.dedup_key && !at.has(b.dedup_key)) at.set(b.dedup_key, Date.parse(r.at));
      }
      return at;
    };
    const waitForPages = async (caseIds: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const at = firstTrigger();
        const missing = caseIds.filter((id) => !at.has(`warden-${id}`));
        if (!missing.length || Date.now() > deadline) return { at, missing: missing.length };
        await sleep(250);
      }
    };

    /** Wait until the simulator has had no request for a few seconds: the cases before are done with PagerDuty. */
    const settle = async () => {
      for (let seen = -1; seen !== pd.requests.length; ) {
        seen = pd.requests.length;
        await sleep(5_000);
      }
    };
    /** Reports open loop at `rate`: report i is sent at t0 + i / rate, whatever the answers. */
    const paced = async (rate: number) => {
      const accepted: { caseId: string; acceptedAt: number }[] = [];
      let refused = 0;
      const t0 = Date.now();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < PAGES; i++) {
        const due = t0 + (i * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        sends.push(fileOne().then((a) => void accepted.push(a), () => void (refused += 1)));
      }
      await Promise.all(sends);
      const sentSeconds = (Date.now() - t0) / 1000;
      const pages = await waitForPages(accepted.map((a) => a.caseId), 300_000);
      const latencies = accepted
        .map((a) => (pages.at.get(`warden-${a.caseId}`) ?? NaN) - a.acceptedAt)
        .filter((x) => Number.isFinite(x))
        .sort((a, b) => a - b);
      return { rate, achieved: accepted.length / sentSeconds, accepted: accepted.length, refused, missing: pages.missing, latencies };
    };

    const outcome = await worker.runUntil(async () => {
      // 1. The maxima: a burst at full concurrency.
      const burstIds: string[] = [];
      const burstStart = Date.now();
      const burst = await drive(BURST, CONCURRENCY, async () => {
        burstIds.push((await fileOne()).caseId);
      });
      const maxRate = BURST / burst.seconds;
      const burstPages = await waitForPages(burstIds, 300_000);
      const lastPage = Math.max(...burstIds.map((id) => burstPages.at.get(`warden-${id}`) ?? NaN).filter(Number.isFinite));
      const maxPagedRate = (BURST - burstPages.missing) / ((lastPage - burstStart) / 1000);
      await settle();
      // 2. Half the paging maximum, then half the intake's.
      const withinMeans = await paced(maxPagedRate / 2);
      await settle();
      const overloaded = await paced(maxRate / 2);
      return { maxRate, maxPagedRate, burstMissing: burstPages.missing, withinMeans, overloaded };
    });
    await new Promise((ok) => intake.close(ok));

    const duplicates = pd.incidents.length - new Set(pd.incidents.map((i) => `${i.service}|${i.dedupKey}`)).size;
    console.log(`time to page: reports on payments-db (critical), live PagerDuty connector against the loopback simulator, other connectors dry-run; one dev server (SQLite in memory), ${cpus().length} cores`);
    console.log(describeLimit(limit));
    console.log(`max accepted rate (burst of ${BURST} at concurrency ${CONCURRENCY}): ${outcome.maxRate.toFixed(0)}/s (${ratio(outcome.maxRate, limit.starts.perSecond, 'raw start rate')}); pages missing after the burst: ${outcome.burstMissing}`);
    console.log(`max paging rate (the burst's cases over the time to its last page): ${outcome.maxPagedRate.toFixed(1)}/s (${ratio(outcome.maxPagedRate, limit.starts.perSecond, 'raw start rate')})`);
    const describe = (name: string, run: typeof outcome.withinMeans) => {
      const { latencies } = run;
      console.log(`${name}: ${PAGES} reports offered at ${run.rate.toFixed(1)}/s, accepted ${run.accepted} at ${run.achieved.toFixed(1)}/s (${ratio(run.achieved, limit.starts.perSecond, 'raw start rate')}), refused ${run.refused}`);
      console.log(
        `  time from 202 to PagerDuty trigger: p50 ${percentile(latencies, 50).toFixed(0)} ms (${ratio(percentile(latencies, 50), limit.starts.p50, 'raw start p50')}), p99 ${percentile(latencies, 99).toFixed(0)} ms (${ratio(percentile(latencies, 99), limit.starts.p99, 'raw start p99')}), max ${latencies[latencies.length - 1]?.toFixed(0)} ms; pages missing ${run.missing}`,
      );
    };
    describe('paced at half the max paging rate', outcome.withinMeans);
    describe('paced at half the max accepted rate (above the paging rate: the figure is mostly queue)', outcome.overloaded);
    console.log(`simulator: ${pd.incidents.length} incidents (case pages and commander pages), ${pd.requests.length} requests, contract violations ${pd.violations.length}, duplicate incidents per dedup key ${duplicates}`);
    const figures = (run: typeof outcome.withinMeans) => {
      const p50 = percentile(run.latencies, 50);
      const p99 = percentile(run.latencies, 99);
      return {
        offeredPerSecond: round(run.rate, 1),
        accepted: run.accepted,
        acceptedPerSecond: round(run.achieved, 1),
        acceptedRatioToRawStarts: round(run.achieved / limit.starts.perSecond),
        refused: run.refused,
        timeToPageMs: { p50: round(p50, 0), p99: round(p99, 0), max: round(run.latencies[run.latencies.length - 1] ?? NaN, 0) },
        timeToPageP50RatioToRawStartP50: round(p50 / limit.starts.p50),
        timeToPageP99RatioToRawStartP99: round(p99 / limit.starts.p99),
        pagesMissing: run.missing,
      };
    };
    emitResult({
      pages: PAGES,
      burst: BURST,
      concurrency: CONCURRENCY,
      cores: cpus().length,
      limit: limitResult(limit),
      maxAcceptedPerSecond: round(outcome.maxRate, 1),
      maxAcceptedRatioToRawStarts: round(outcome.maxRate / limit.starts.perSecond),
      maxPagedPerSecond: round(outcome.maxPagedRate, 1),
      maxPagedRatioToRawStarts: round(outcome.maxPagedRate / limit.starts.perSecond),
      burstPagesMissing: outcome.burstMissing,
      atHalfMaxPagingRate: figures(outcome.withinMeans),
      atHalfMaxAcceptedRate: figures(outcome.overloaded),
      simulatorIncidents: pd.incidents.length,
      simulatorRequests: pd.requests.length,
      contractViolations: pd.violations.length,
      duplicateIncidents: duplicates,
    });
    const runs = [outcome.withinMeans, outcome.overloaded];
    if (runs.some((r) => r.missing || r.refused) || outcome.burstMissing || pd.violations.length || duplicates) process.exitCode = 1;
  } finally {
    await connection.close();
    await native.close();
    await Promise.all([server.stop(), pd.close()]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
