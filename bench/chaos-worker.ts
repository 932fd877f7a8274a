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
 *
 * Prints "ready" once the worker is polling.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { connectorsFromEnv } from '../src/activities/connectors';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const taskQueue = process.env.WARDEN_BENCH_TASK_QUEUE ?? 'warden';
  const connectors = connectorsFromEnv(process.env.WARDEN_OUTBOX ?? '/tmp/warden-bench-outbox.jsonl');
  const connection = await NativeConnection.connect({ address });
  const bundle = process.env.WARDEN_BENCH_WORKFLOW_BUNDLE;
  const worker = await Worker.create({
    connection,
    taskQueue,
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../src/workflows') }),
    activities: createActivities({ ...connectors.deps, uiBaseUrl: 'http://localhost:8233' }),
  });
  const running = worker.run();
  console.log(`ready ${Object.entries(connectors.modes).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  await running;
  await connection.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
