/**
 * A worker for the query-race workflow as its own process, so that it can be SIGKILLed: its
 * activity never finishes, as if the worker died while running it. Prints "ready" once polling.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE!,
    workflowsPath: require.resolve('./workflows'),
    activities: { step: () => new Promise<string>(() => undefined) },
  });
  const running = worker.run();
  console.log('ready');
  await running;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
