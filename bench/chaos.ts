/**
 * Chaos: CASES cases driven through the whole lifecycle (file over HTTP → acknowledge → sign-offs
 * → close) while
 *   - the worker, a separate process (bench/chaos-worker.ts, connectors from the environment,
 *     all live against the loopback simulators), is killed with SIGKILL at random intervals and
 *     restarted;
 *   - the file-backed Temporal dev server is restarted SERVER_RESTARTS times (at least twice; one
 *     graceful, one SIGKILL, alternating), as the cases progress;
 *   - the Slack, PagerDuty and incident.io simulators answer about a fifth of calls with a 429,
 *     a 5xx, or a timeout (a hang, sometimes after acting on the request).
 * Then it counts, at the simulators and in the case views: reports lost (a 202 whose report is not
 * on its case), cases stuck (not closed by the end), PagerDuty incidents per dedup key beyond one,
 * incident.io incidents per idempotency key beyond one, Slack cards per case beyond one, and cases
 * that stopped on a nondeterminism error. It exits non-zero if any of them is not zero. It also
 * counts the queries the task guard refused (src/workflows/task-guard.ts): each one a query that
 * raced an activity result on a just-restarted worker, and would otherwise have let that worker
 * write a history it cannot replay.
 *
 *   npm run bench:chaos                    (CASES=1000 CASE_CONCURRENCY=50 SERVER_RESTARTS=2 RESTART_EVERY_S=60 FAULT_RATE=0.2
 *                                           KILL_EVERY_MIN_S=5 KILL_EVERY_MAX_S=15 LIMIT_COUNT=500 CHAOS_TIMEOUT_S CHAOS_STALL_S=180)
 *
 * Once every case is filed, the run stops driving when no case has closed for CHAOS_STALL_S (a
 * case that cannot move will not move by waiting out CHAOS_TIMEOUT_S); each stuck case is printed
 * with its stage and its last workflow task failure, if any. A case stopped on a nondeterminism
 * error (a failure of the run) is then repaired as an operator would (`warden repair`: reset to the
 * first workflow task the code does not replay) and driven on, so that the other counts still mean
 * something; it counts as stuck only if still not closed after that.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { CaseView } from '../src/domain';
import { createIntakeServer } from '../src/intake/server';
import { acknowledgeUpdate, caseViewQuery, closeUpdate, recordFilingUpdate, signOffUpdate, workflowIdFor } from '../src/workflows/definitions';
import { startIncidentIoSimulator } from '../test/simulators/incidentio';
import { startPagerDutySimulator } from '../test/simulators/pagerduty';
import { startSlackSimulator } from '../test/simulators/slack';
import { type DevServer, freePort, startDevServer } from '../test/support/server';
import { sampleReport, testPolicy } from '../test/support/warden';
import { drive as inParallel } from './drive';
import { describeLimit, measureLimit, ratio } from './limit';
import { emitResult, limitResult, round } from './result';
import { bundleWarden, WorkerProcess } from './worker-process';
import { bundleCaseWorkflows, planRepair, repairCase } from '../src/repair';

const CASES = Number(process.env.CASES ?? 1_000);
const CASE_CONCURRENCY = Number(process.env.CASE_CONCURRENCY ?? 50);
const SERVER_RESTARTS = Math.max(2, Number(process.env.SERVER_RESTARTS ?? 2));
const FAULT_RATE = Number(process.env.FAULT_RATE ?? 0.2);
const KILL_MIN_MS = Number(process.env.KILL_EVERY_MIN_S ?? 5) * 1000;
const KILL_MAX_MS = Number(process.env.KILL_EVERY_MAX_S ?? 15) * 1000;
/** A server restart at the latest this long after the last (or the start), whatever the progress. */
const RESTART_EVERY_MS = Number(process.env.RESTART_EVERY_S ?? 60) * 1000;
const TIMEOUT_MS = Number(process.env.CHAOS_TIMEOUT_S ?? Math.max(600, CASES * 3)) * 1000;
/** After the last case is filed: stop driving when no case has closed for this long. */
const STALL_MS = Number(process.env.CHAOS_STALL_S ?? 180) * 1000;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
/** The post-incident review a declared incident needs to close as resolved (every field the default policy requires). */
const REVIEW = {
  summary: 'Card data exposure on payments-db, contained within the hour.',
  rootCause: 'A debug endpoint left enabled.',
  impact: 'No evidence of exfiltration.',
  lessons: 'Release checks cover debug endpoints.',
  followUps: [{ action: 'Add a release check for debug endpoints', owner: 'dave' }],
};
const people = { alice: { slack: 'U0ALICE01', email: 'alice@corp.example' }, 'ic-oncall': { email: 'ic-oncall@corp.example' }, bob: { slack: 'U0BOB0001' } };

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-chaos-'));
  const dbFile = join(dir, 'temporal.sqlite');
  const port = await freePort();
  let server: DevServer = await startDevServer({ port, dbFile });
  const address = server.address;
  const [slack, pd, io] = await Promise.all([startSlackSimulator(), startPagerDutySimulator(), startIncidentIoSimulator()]);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const taskQueue = `bench-chaos-${run}`;

  const ids = Object.fromEntries(['sec-soc', 'sec-cloud', 'sec-identity', 'sec-privacy', 'sec-ops'].map((name) => [name, slack.addChannel(name)]));
  const base = testPolicy();
  const policy = testPolicy({ people, queues: base.queues.map((q) => ({ ...q, slackChannel: ids[q.slackChannel.replace('#', '')] })) });
  writeFileSync(join(dir, 'pagerduty-ca.pem'), pd.ca);
  const worker = new WorkerProcess({
    TEMPORAL_ADDRESS: address,
    WARDEN_BENCH_TASK_QUEUE: taskQueue,
    WARDEN_OUTBOX: join(dir, 'outbox.jsonl'),
    WARDEN_BENCH_WORKFLOW_BUNDLE: await bundleWarden(dir),
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.apiUrl,
    PAGERDUTY_ROUTING_KEY: pd.routingKeys.default,
    PAGERDUTY_EVENTS_URL: pd.url,
    PAGERDUTY_CA_FILE: join(dir, 'pagerduty-ca.pem'),
    INCIDENTIO_API_KEY: io.apiKey,
    INCIDENTIO_API_URL: io.url,
    WARDEN_OPERATOR_CHANNEL: ids['sec-ops'],
    WARDEN_VENDOR_TIMEOUT_MS: '2000',
  });
  const intake = createIntakeServer({ client, policy, taskQueue });
  await new Promise<void>((ok) => intake.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(intake.address() as AddressInfo).port}/webhooks/generic`;

  // Interrupted: take the children down with us.
  process.once('SIGINT', () => {
    worker.child?.kill('SIGKILL');
    server.process.kill('SIGKILL');
    process.exit(130);
  });

  let chaos = true;
  const events: string[] = [];
  const t0 = Date.now();
  const log = (what: string) => events.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  try {
    const limit = await measureLimit(address, { count: Number(process.env.LIMIT_COUNT ?? 500), concurrency: CASE_CONCURRENCY });

    // ── Faults at the vendors: keep the injected faults at about FAULT_RATE of the calls. ──
    const injected = { slack: 0, pd: 0, io: 0 };
    const injector = setInterval(() => {
      if (!chaos) return;
      const topUp = (calls: number, done: number) => Math.max(0, Math.round(FAULT_RATE * calls) + 1 - done);
      for (let i = topUp(slack.calls.length, injected.slack); i > 0; i--, injected.slack++)
        slack.inject(pick([{ kind: 'rate-limited', retryAfterSeconds: 1 }, { kind: 'http-error', status: 500 }, { kind: 'http-error', status: 503 }, { kind: 'hang' }, { kind: 'lost-response' }] as const));
      for (let i = topUp(pd.requests.length, injected.pd); i > 0; i--, injected.pd++)
        pd.failNext(1, pick([{ status: 429, headers: { 'retry-after': '1' } }, { status: 500 }, { status: 503 }, { hang: true as const }, { hang: true as const, process: true }]));
      for (let i = topUp(io.calls.length, injected.io); i > 0; i--, injected.io++)
        io.failNext(1, pick([{ status: 429, headers: { 'retry-after': '1' } }, { status: 500 }, { status: 502 }, { hang: true as const }, { hang: true as const, process: true }]));
    }, 50);

    // ── The worker: killed with SIGKILL at random intervals, restarted; restarted too if it dies. ──
    let serverDown = false;
    const supervisor = (async () => {
      while (chaos) {
        if (!worker.running) {
          if (serverDown) {
            await sleep(200);
            continue;
          }
          await worker.start().catch((err) => log(`worker start failed: ${(err as Error).message.split('\n')[0]}`));
          if (!worker.running) {
            await sleep(500);
            continue;
          }
        }
        const upSince = Date.now();
        const until = upSince + between(KILL_MIN_MS, KILL_MAX_MS);
        while (chaos && worker.running && Date.now() < until) await sleep(100);
        if (chaos && worker.running) {
          await worker.stop('SIGKILL');
          log(`worker SIGKILL (pid ${worker.pid}, up ${((Date.now() - upSince) / 1000).toFixed(1)} s)`);
          await sleep(between(100, 1_000));
        }
      }
    })();

    // ── The cases. ──
    const accepted = new Map<string, string[]>(); // caseId → report ids accepted
    let refused = 0;
    let closed = 0;
    /** Each case's view as last read (the driver keeps the one that showed it closed). */
    const views = new Map<string, CaseView>();
    /** Cases whose workflow is no longer running. */
    const finished = new Set<string>();
    let deadline = Date.now() + TIMEOUT_MS;
    let stalled = false;
    const driving = () => Date.now() < deadline && !stalled;
    const call = <R>(fn: () => Promise<R>, ms = 10_000) => client.withDeadline(Date.now() + ms, fn);

    async function file(i: number): Promise<string | undefined> {
      const critical = i % 2 === 0;
      const body = JSON.stringify(
        sampleReport(
          critical
            ? { title: `chaos ${run} card data exposed #${i}`, reporter: `sensor-${i}@corp.example`, assets: ['payments-db'], dataClasses: ['payment'] }
            : { title: `chaos ${run} beaconing #${i}`, reporter: `sensor-${i}@corp.example`, assets: [`laptop-${i}`] },
        ),
      );
      while (driving()) {
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
          if (res.status === 202) {
            const { caseId, reportId } = (await res.json()) as { caseId: string; reportId: string };
            accepted.set(caseId, [...(accepted.get(caseId) ?? []), reportId]);
            return caseId;
          }
          await res.text();
        } catch {
          // the intake or Temporal is down: a sender retries
        }
        await sleep(500);
      }
      refused += 1;
      return undefined;
    }

    async function drive(caseId: string): Promise<void> {
      const handle = client.workflow.getHandle(workflowIdFor(caseId));
      while (driving()) {
        try {
          const view = (await call(() => handle.query(caseViewQuery))) as CaseView;
          views.set(caseId, view);
          if (view.stage === 'closed') {
            closed += 1;
            return;
          }
          const signed = (id: string) => view.recovery.find((c) => c.id === id)?.passed;
          if (['received', 'validating', 'triage'].includes(view.stage)) await sleep(500);
          else if (!view.acknowledgedBy) await call(() => handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] }), 15_000);
          else if (!signed('containment-confirmed')) await call(() => handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] }), 15_000);
          else if (!signed('root-cause-known')) await call(() => handle.executeUpdate(signOffUpdate, { args: [{ actor: 'dave', criterion: 'root-cause-known' }] }), 15_000);
          else if (view.stage !== 'recovering') await sleep(500);
          else if ((view.clocks ?? []).some((c) => !c.filed)) {
            // A declared incident with regulated data: its regulatory filings are recorded before it closes as resolved.
            const clock = (view.clocks ?? []).find((c) => !c.filed)!;
            await call(() => handle.executeUpdate(recordFilingUpdate, { args: [{ actor: 'alice', clock: clock.key, reference: `chaos-${clock.key}-${caseId}` }] }), 15_000);
          } else await call(() => handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'chaos bench: contained and rebuilt', review: REVIEW }] }), 15_000);
        } catch {
          // worker or server down, or an update refused because a lost answer had already done it: look again
          await sleep(1_000);
        }
      }
    }

    let next = 0;

    // ── The server: restarted as the cases progress (after 1/(R+1), 2/(R+1)… of them closed, or RESTART_EVERY_S). ──
    let restarts = 0;
    let lastRestart = Date.now();
    const restarter = (async () => {
      while (restarts < SERVER_RESTARTS && Date.now() < deadline) {
        const sinceLast = Date.now() - lastRestart;
        const due = (closed >= ((restarts + 1) * CASES) / (SERVER_RESTARTS + 1) && sinceLast > 10_000) || sinceLast > RESTART_EVERY_MS;
        if (due) {
          const hard = restarts % 2 === 1;
          serverDown = true;
          if (hard) {
            await new Promise<void>((ok) => {
              server.process.once('exit', () => ok());
              server.process.kill('SIGKILL');
            });
          } else await server.stop();
          log(`server ${hard ? 'SIGKILL' : 'stopped'}`);
          await sleep(2_000);
          server = await startDevServer({ port, dbFile });
          serverDown = false;
          restarts += 1;
          lastRestart = Date.now();
          log(`server restarted (${restarts})`);
        }
        await sleep(200);
      }
    })();

    const started = Date.now();
    const progress = setInterval(() => console.error(`chaos: ${((Date.now() - t0) / 1000).toFixed(0)} s, filed ${accepted.size}/${CASES}, closed ${closed}, worker kills ${worker.kills}, server restarts ${restarts}`), 30_000);
    let lastClosed = -1;
    let lastCloseAt = Date.now();
    const stallWatch = setInterval(() => {
      if (closed !== lastClosed) [lastClosed, lastCloseAt] = [closed, Date.now()];
      else if (next >= CASES && Date.now() - lastCloseAt > STALL_MS) {
        stalled = true;
        log(`stalled: no case closed for ${STALL_MS / 1000} s (${closed} closed)`);
      }
    }, 1_000);
    await Promise.all(
      Array.from({ length: Math.min(CASE_CONCURRENCY, CASES) }, async () => {
        while (next < CASES) {
          const caseId = await file(next++);
          if (caseId) await drive(caseId);
        }
      }),
    );
    await restarter;
    clearInterval(progress);
    clearInterval(stallWatch);
    const seconds = (Date.now() - started) / 1000;

    // ── Quiet: no more faults or kills; a healthy worker finishes what is in flight. ──
    chaos = false;
    clearInterval(injector);
    await supervisor;
    if (!worker.running) await worker.start();
    // A case's view is read again only until it is closed (closed is final; a query to a closed
    // case makes the worker replay its whole history, so 1,000 of them at once would time out),
    // a few at a time; then every workflow is waited for until it has finished.
    const settle = Date.now() + Math.max(120_000, CASES * 200);
    for (;;) {
      const open = [...accepted.keys()].filter((id) => views.get(id)?.stage !== 'closed');
      await inParallel(open.length, 20, async (i) => {
        const view = (await call(() => client.workflow.getHandle(workflowIdFor(open[i])).query(caseViewQuery), 30_000).catch(() => undefined)) as CaseView | undefined;
        if (view) views.set(open[i], view);
      });
      const ids = [...accepted.keys()].filter((id) => !finished.has(id));
      await inParallel(ids.length, 20, async (i) => {
        const status = await call(() => client.workflow.getHandle(workflowIdFor(ids[i])).describe()).then((d) => d.status.name, () => 'UNKNOWN');
        if (status !== 'RUNNING' && status !== 'UNKNOWN') finished.add(ids[i]);
      });
      if ((finished.size === accepted.size && views.size === accepted.size) || Date.now() > settle) break;
      await sleep(2_000);
    }
    // ── Repair: a case stopped on a nondeterminism error is what `warden repair` is for. The
    //    operator runs it once the storm is over, and the responders carry the case on. ──
    const lastTaskFailure = async (caseId: string) => {
      const history = await call(() => client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory(), 30_000).catch(() => undefined);
      return [...(history?.events ?? [])].reverse().find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
    };
    const stoppedOnNondeterminism: { caseId: string; failure: string }[] = [];
    for (const caseId of accepted.keys()) {
      if (views.get(caseId)?.stage === 'closed') continue;
      const failure = await lastTaskFailure(caseId);
      if (failure && /Nondeterminism/.test(failure)) stoppedOnNondeterminism.push({ caseId, failure });
    }
    const repaired: { caseId: string; resetToEventId: number; humanActionsAfter: string[] }[] = [];
    if (stoppedOnNondeterminism.length) {
      const bundle = await bundleCaseWorkflows();
      for (const { caseId } of stoppedOnNondeterminism) {
        const plan = await planRepair(client, caseId, bundle);
        if (plan.resetToEventId === undefined) continue;
        await repairCase(client, plan, 'chaos bench: warden repair after a nondeterminism error');
        repaired.push({ caseId, resetToEventId: plan.resetToEventId, humanActionsAfter: plan.actionsAfter.map((a) => `${a.update}${a.actor ? ` by ${a.actor}` : ''}`) });
        log(`repaired ${caseId}: reset to workflow task ${plan.resetToEventId}`);
      }
      stalled = false;
      deadline = Date.now() + Math.max(120_000, repaired.length * 30_000);
      await Promise.all(repaired.map(({ caseId }) => drive(caseId)));
    }
    await sleep(3_000); // late vendor answers land

    // ── Count. ──
    let lost = refused;
    let stuck = CASES - accepted.size;
    for (const [caseId, reportIds] of accepted) {
      const view = views.get(caseId);
      if (!view || !reportIds.some((r) => view.recentReportIds.includes(r) || view.evidence.some((e) => e.reportId === r))) lost += 1;
      if (view?.stage !== 'closed') stuck += 1;
    }
    // Why each stuck case is stuck: its stage, and the last workflow task failure in its history (a nondeterminism error, say).
    const stuckCases: { caseId: string; stage: string; workflowTaskFailure?: string; atEvent?: number }[] = [];
    for (const [caseId] of accepted) {
      const view = views.get(caseId);
      if (view?.stage === 'closed') continue;
      const history = await call(() => client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory(), 30_000).catch(() => undefined);
      const failed = [...(history?.events ?? [])].reverse().find((e) => e.workflowTaskFailedEventAttributes);
      stuckCases.push({
        caseId,
        stage: view?.stage ?? 'unknown (no answer to the query)',
        workflowTaskFailure: failed?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined,
        atEvent: failed?.eventId ? Number(failed.eventId) : undefined,
      });
    }
    const countBeyondOne = (keys: string[]) => {
      const n = new Map<string, number>();
      for (const k of keys) n.set(k, (n.get(k) ?? 0) + 1);
      return [...n.values()].reduce((s, c) => s + Math.max(0, c - 1), 0);
    };
    const duplicatePages = countBeyondOne(pd.incidents.map((i) => `${i.service}|${i.dedupKey}`));
    const duplicateIncidents = countBeyondOne(io.incidents.map((i) => io.idempotencyKeys.get(i.id) ?? `(no key) ${i.id}`));
    const allMessages = [...slack.channels.values()].flatMap((c) => slack.messages(c));
    const cardKey = (m: (typeof allMessages)[number]) => String(m.metadata?.event_payload?.key ?? '');
    let duplicateCards = 0;
    const offenders: string[] = [];
    for (const caseId of accepted.keys()) {
      const cards = allMessages.filter((m) => cardKey(m).startsWith(`${caseId}:card`));
      duplicateCards += Math.max(0, cards.length - 1);
      if (cards.length > 1) offenders.push(`${caseId}: ${cards.length} Slack cards (${cards.map((m) => `${m.channel}/${m.ts}`).join(', ')})`);
    }
    const perKey = <T>(xs: T[], key: (x: T) => string) => [...xs.reduce((m, x) => m.set(key(x), (m.get(key(x)) ?? 0) + 1), new Map<string, number>())].filter(([, n]) => n > 1);
    for (const [k, n] of perKey(pd.incidents, (i) => `${i.service}|${i.dedupKey}`)) offenders.push(`PagerDuty ${k}: ${n} incidents`);
    for (const [k, n] of perKey(io.incidents, (i) => io.idempotencyKeys.get(i.id) ?? i.id)) offenders.push(`incident.io ${k}: ${n} incidents`);
    const paged = [...views.values()].filter((v) => v?.paged).length;
    const pageMissing = [...views.entries()].filter(([id, v]) => v?.paged && !pd.incidents.some((i) => i.dedupKey === `warden-${id}`)).length;
    const failedOnTimeline = [...views.values()].reduce((s, v) => s + (v?.timeline.filter((t) => t.action.endsWith(' failed')).length ?? 0), 0);
    const closedRate = (CASES - stuck) / seconds;

    console.log(`chaos: ${CASES} cases (half on payments-db: paged and escalated), lifecycle driven by ${CASE_CONCURRENCY} concurrent responders, file-backed dev server, ${cpus().length} cores`);
    console.log(describeLimit(limit));
    console.log(`faults: worker SIGKILLs ${worker.kills} (starts ${worker.starts}), server restarts ${restarts}, vendor faults injected slack ${injected.slack}/${slack.calls.length} calls, pagerduty ${injected.pd}/${pd.requests.length}, incident.io ${injected.io}/${io.calls.length}`);
    console.log(`run: ${seconds.toFixed(1)} s; cases closed ${CASES - stuck}: ${closedRate.toFixed(2)}/s (${ratio(closedRate, limit.starts.perSecond, 'raw start rate')})`);
    const unanswered = [...accepted.keys()].filter((id) => !views.has(id)).length;
    console.log(`reports lost: ${lost}${refused ? ` (${refused} never accepted)` : ''}${unanswered ? ` (${unanswered} cases never answered a query, counted as lost)` : ''}`);
    console.log(
      `cases stopped on a nondeterminism error: ${stoppedOnNondeterminism.length}; repaired with warden repair and driven on: ${repaired.length}`,
    );
    for (const r of repaired) console.log(`  ${r.caseId}: reset to workflow task ${r.resetToEventId}; human actions after it, reapplied: ${r.humanActionsAfter.join(', ') || 'none'}`);
    console.log(`queries the task guard refused (a worker handed events no workflow task had taken; src/workflows/task-guard.ts): ${worker.guardRefusals}`);
    console.log(`cases stuck (not closed at the end, after any repair): ${stuck}${stalled ? ` (driving stopped: no case closed for ${STALL_MS / 1000} s)` : ''}`);
    for (const c of stuckCases.slice(0, 20)) console.log(`  ${c.caseId}: stage ${c.stage}${c.workflowTaskFailure ? `; workflow task failing (event ${c.atEvent}): ${c.workflowTaskFailure.slice(0, 300)}` : ''}`);
    console.log(`duplicate pages (PagerDuty incidents per dedup key beyond one): ${duplicatePages} (incidents ${pd.incidents.length}, cases paged ${paged}, pages missing ${pageMissing})`);
    console.log(`duplicate incident.io incidents per idempotency key: ${duplicateIncidents} (incidents ${io.incidents.length})`);
    console.log(`duplicate Slack cards per case: ${duplicateCards} (cards ${allMessages.filter((m) => cardKey(m).includes(':card')).length})`);
    console.log(`also: vendor steps that failed for good, on timelines ${failedOnTimeline}; contract violations slack ${slack.violations.length}, pagerduty ${pd.violations.length}, incident.io ${io.violations.length}`);
    for (const [caseId, v] of views) {
      for (const t of v?.timeline.filter((e) => e.action.endsWith(' failed')) ?? []) console.log(`  ${caseId}: ${t.action}${t.reason ? ` (${t.reason.slice(0, 200)})` : ''}`);
    }
    if (offenders.length) console.log(`duplicates:\n  ${offenders.slice(0, 10).join('\n  ')}`);
    if (process.env.CHAOS_VERBOSE) console.log(events.join('\n'));
    emitResult({
      cases: CASES,
      caseConcurrency: CASE_CONCURRENCY,
      cores: cpus().length,
      limit: limitResult(limit),
      seconds: round(seconds, 1),
      closed: CASES - stuck,
      closedPerSecond: round(closedRate),
      closedRatioToRawStarts: round(closedRate / limit.starts.perSecond, 5),
      lost,
      neverAccepted: refused,
      casesNeverAnswering: unanswered,
      stoppedOnNondeterminism: stoppedOnNondeterminism.length,
      repaired,
      taskGuardRefusals: worker.guardRefusals,
      stuck,
      stuckCases,
      stalled,
      duplicatePages,
      duplicateIncidents,
      duplicateCards,
      pagerdutyIncidents: pd.incidents.length,
      casesPaged: paged,
      pagesMissing: pageMissing,
      incidentIoIncidents: io.incidents.length,
      slackCards: allMessages.filter((m) => cardKey(m).includes(':card')).length,
      workerKills: worker.kills,
      workerStarts: worker.starts,
      serverRestarts: restarts,
      faultsInjected: { slack: injected.slack, pagerduty: injected.pd, incidentIo: injected.io },
      vendorCalls: { slack: slack.calls.length, pagerduty: pd.requests.length, incidentIo: io.calls.length },
      vendorStepsFailedForGood: failedOnTimeline,
      contractViolations: { slack: slack.violations.length, pagerduty: pd.violations.length, incidentIo: io.violations.length },
      duplicates: offenders,
    });
    if (lost || stuck || stoppedOnNondeterminism.length || duplicatePages || duplicateIncidents || duplicateCards) process.exitCode = 1;
  } finally {
    chaos = false;
    await new Promise((ok) => intake.close(ok));
    await worker.stop('SIGTERM');
    await connection.close();
    await server.stop();
    await Promise.all([slack.close(), pd.close(), io.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
