/**
 * A Warden worker as its own process, for the benches that kill it (bench/chaos.ts) or measure
 * its memory (bench/open-cases.ts). Connectors come from the environment exactly as the real
 * worker's do (connectorsFromEnv); the bench sets:
 *
 *   TEMPORAL_ADDRESS               the server
 *   WARDEN_BENCH_TASK_QUEUE        the task queue
 *   WARDEN_OUTBOX                  the dry-run outbox
 *   WARDEN_BENCH_WORKFLOW_BUNDLE   optional: a prebuilt workflow bundle (bench/worker-process.ts), so a restart does not rebundle
 *   SLACK_*, PAGERDUTY_*, INCIDENTIO_*, WARDEN_VENDOR_TIMEOUT_MS   the vendor simulators
 *   WARDEN_BENCH_ACTIVATION_TRACE  optional: a file to which every workflow activation's jobs are appended, one JSON line each
 *
 * Prints "ready" once the worker is polling.
 */
import { appendFileSync } from 'node:fs';
import { DefaultLogger, type LogEntry, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { caseWorkflowOptions } from '../src/workflow-bundle';
import { connectorsFromEnv } from '../src/activities/connectors';

async function main(): Promise<void> {
  const trace = process.env.WARDEN_BENCH_ACTIVATION_TRACE;
  Runtime.install({ logger: trace ? new DefaultLogger('TRACE', activationTracer(trace)) : new DefaultLogger('WARN') });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const taskQueue = process.env.WARDEN_BENCH_TASK_QUEUE ?? 'warden';
  const connectors = connectorsFromEnv(process.env.WARDEN_OUTBOX ?? '/tmp/warden-bench-outbox.jsonl');
  const connection = await NativeConnection.connect({ address });
  const bundle = process.env.WARDEN_BENCH_WORKFLOW_BUNDLE;
  const worker = await Worker.create({
    connection,
    taskQueue,
    ...caseWorkflowOptions(bundle),
    activities: createActivities({ ...connectors.deps, uiBaseUrl: 'http://localhost:8233' }),
  });
  const running = worker.run();
  console.log(`ready ${Object.entries(connectors.modes).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  await running;
  await connection.close();
}

/**
 * Keep the jobs of every activation, with the worker's pid, so that a history that does not replay
 * can be set beside what the worker was actually given; everything else at WARN and above to stderr.
 */
function activationTracer(path: string): (entry: LogEntry) => void {
  const levels = ['WARN', 'ERROR'];
  return (entry) => {
    if (entry.message === 'Got workflow activation' && entry.meta) {
      const a = entry.meta as { runId?: string; isReplaying?: boolean; historyLength?: number; jobs?: Record<string, unknown>[] };
      const jobs = (a.jobs ?? []).map((j) => {
        const variant = Object.keys(j).find((k) => k !== 'variant' && j[k] != null) ?? '?';
        const detail = j[variant] as { seq?: number; name?: string; signalName?: string; id?: string } | undefined;
        return [variant, detail?.seq ?? detail?.name ?? detail?.signalName ?? ''].join(':');
      });
      appendFileSync(path, JSON.stringify({ pid: process.pid, at: Date.now(), runId: a.runId, replaying: a.isReplaying, historyLength: a.historyLength, jobs }) + '\n');
    } else if (levels.includes(entry.level)) {
      process.stderr.write(`${entry.level} ${entry.message} ${entry.meta ? JSON.stringify(entry.meta).slice(0, 2000) : ''}\n`);
    }
  };
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
