/**
 * The limit: raw Temporal throughput on this machine from a TypeScript client, at a given
 * concurrency — workflow starts per second and signals per second of a no-op workflow
 * (bench/workflows). Every other Warden bench measures it in the same run, on the same server,
 * and prints its own figures as ratios to it.
 *
 *   npm run bench:limit                    (LIMIT_COUNT=2000 CONCURRENCY=100)
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startDevServer } from '../test/support/server';
import { drive, percentile } from './drive';
import { emitResult, limitResult } from './result';
import { ping } from './workflows';

export { drive, percentile };

export interface Rate {
  perSecond: number;
  p50: number;
  p99: number;
}

export interface Limit {
  concurrency: number;
  count: number;
  /** Workflow starts of a no-op workflow. */
  starts: Rate;
  /** Signals to running no-op workflows. */
  signals: Rate;
}

const rateOf = (count: number, r: { seconds: number; latencies: number[] }): Rate => ({
  perSecond: count / r.seconds,
  p50: percentile(r.latencies, 50),
  p99: percentile(r.latencies, 99),
});

/**
 * Measure the limit on the server at `address`: `count` starts of the no-op workflow, then
 * `count` signals spread over them, `concurrency` in flight, with a worker for it running (as
 * Warden's worker runs while Warden is measured). The workflows are stopped afterwards.
 */
export async function measureLimit(address: string, opts: { count?: number; concurrency?: number } = {}): Promise<Limit> {
  const count = opts.count ?? Number(process.env.LIMIT_COUNT ?? 2_000);
  const concurrency = opts.concurrency ?? Number(process.env.CONCURRENCY ?? 100);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address });
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const taskQueue = `bench-limit-${run}`;
  try {
    const worker = await Worker.create({ connection: native, taskQueue, workflowsPath: require.resolve('./workflows') });
    return await worker.runUntil(async () => {
      const starts = await drive(count, concurrency, async (i) => {
        await client.workflow.start('noopSink', { workflowId: `limit-${run}-${i}`, taskQueue });
      });
      const signals = await drive(count, concurrency, async (i) => {
        await client.workflow.getHandle(`limit-${run}-${i}`).signal(ping, i);
      });
      await drive(count, concurrency, async (i) => {
        await client.workflow.getHandle(`limit-${run}-${i}`).signal(ping, 'stop');
      });
      return { concurrency, count, starts: rateOf(count, starts), signals: rateOf(count, signals) };
    });
  } finally {
    await connection.close();
    await native.close();
  }
}

export function describeLimit(limit: Limit): string {
  const line = (name: string, r: Rate) => `${name}${r.perSecond.toFixed(0)}/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
  return [
    `limit (raw Temporal, no-op workflow, ${limit.count} ops, concurrency ${limit.concurrency}):`,
    `  ${line('workflow starts: ', limit.starts)}`,
    `  ${line('signals:         ', limit.signals)}`,
  ].join('\n');
}

/** `x` as a ratio to `of`, e.g. "0.42× limit". */
export function ratio(x: number, of: number, what = 'limit'): string {
  const r = x / of;
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}× ${what}`;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startDevServer();
  try {
    const limit = await measureLimit(server.address);
    console.log(`limit: one dev server (SQLite in memory) on this machine, TypeScript client`);
    console.log(describeLimit(limit));
    emitResult({ server: 'dev server, SQLite in memory', limit: limitResult(limit) });
  } finally {
    await server.stop();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
