/**
 * The Warden worker: connection, policy check, activities, worker options, shutdown.
 * Run it with `node dist/src/worker.js` (or `npm start`, which starts everything).
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { connectorsFromEnv } from './activities/connectors';
import { loadConfig, loadPolicyFile, type WardenConfig } from './config';
import { connectWorker, temporalTarget, wardenDataConverter } from './temporal';
import { TASK_QUEUE } from './workflows/definitions';

export async function createWorker(connection: NativeConnection, config: WardenConfig, taskQueue = TASK_QUEUE): Promise<Worker> {
  const connectors = connectorsFromEnv(config.outboxPath);
  console.log(`warden worker: connectors ${Object.entries(connectors.modes).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    dataConverter: wardenDataConverter(),
    activities: createActivities({ ...connectors.deps, uiBaseUrl: config.uiBaseUrl, namespace: config.namespace }),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const policy = loadPolicyFile(config.policyPath); // refuse to start on an invalid policy
  const target = temporalTarget();
  const connection = await connectWorker(target);
  const worker = await createWorker(connection, config);
  console.log(`warden worker: task queue ${TASK_QUEUE} on ${target.address}/${target.namespace}, policy ${policy.version}, outbox ${config.outboxPath}`);
  // Worker.run() drains in-flight tasks and returns on SIGINT/SIGTERM (the SDK's default shutdown signals).
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
