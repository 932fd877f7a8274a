/**
 * The storm's load generator, run by bench/storm.ts as its own process so that generating the
 * load does not share an event loop with what it measures. Two modes, the same shape of load
 * (ALERTS operations over FINGERPRINTS keys, CONCURRENCY in flight, key i % FINGERPRINTS):
 *
 *   STORM_MODE=signal   the limit: raw signalWithStart of the no-op workflow (bench/workflows) on
 *                       STORM_TASK_QUEUE at TEMPORAL_ADDRESS, workflow ids STORM_RUN-<key>
 *   STORM_MODE=http     Warden: the generic report over HTTP (autocannon) to STORM_URL
 *
 * Prints one line `STORM_LOAD {json}`: the seconds from first send to last answer, latencies
 * (ms), and for http the answers by status and the 202s per case id.
 */
import { Client, Connection } from '@temporalio/client';
import { sampleReport } from '../test/support/warden';
import { autocannon } from './autocannon';
import { drive, percentile } from './drive';
import { ping } from './workflows';

const MODE = process.env.STORM_MODE;
const ALERTS = Number(process.env.ALERTS ?? 10_000);
const FINGERPRINTS = Number(process.env.FINGERPRINTS ?? 100);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);
const RUN = process.env.STORM_RUN ?? Date.now().toString(36);

export interface StormLoad {
  mode: 'signal' | 'http';
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** http: answers by status; 202s per case id. */
  statuses?: Record<string, number>;
  acceptedPerCase?: Record<string, number>;
  /** The load generator's own CPU time over the run, in seconds (user + system). */
  cpuSeconds: number;
}

async function signalLoad(): Promise<StormLoad> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const taskQueue = process.env.STORM_TASK_QUEUE!;
  let errors = 0;
  const cpu = process.cpuUsage();
  try {
    const r = await drive(ALERTS, CONCURRENCY, async (i) => {
      await client.workflow
        .signalWithStart('noopSink', { workflowId: `${RUN}-${i % FINGERPRINTS}`, taskQueue, signal: ping, signalArgs: [i] })
        .catch(() => void (errors += 1));
    });
    const used = process.cpuUsage(cpu);
    return {
      mode: 'signal',
      seconds: r.seconds,
      sent: ALERTS,
      ok: ALERTS - errors,
      errors,
      latencyMs: { p50: percentile(r.latencies, 50), p99: percentile(r.latencies, 99), max: r.latencies[r.latencies.length - 1] },
      cpuSeconds: (used.user + used.system) / 1e6,
    };
  } finally {
    await connection.close();
  }
}

async function httpLoad(): Promise<StormLoad> {
  const url = new URL(process.env.STORM_URL!);
  // Bodies made up front, as the raw driver's arguments are: the run measures sending, not JSON.stringify.
  const bodies = Array.from({ length: ALERTS }, (_, i) =>
    JSON.stringify(sampleReport({ title: `bench ${RUN} rule ${i % FINGERPRINTS}`, reporter: `sensor-${i}`, assets: [`host-${i % FINGERPRINTS}`] })),
  );
  const acceptedPerCase: Record<string, number> = {};
  let made = 0;
  const cpu = process.cpuUsage();
  const result = await autocannon({
    url: url.origin,
    connections: CONCURRENCY,
    amount: ALERTS,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: url.pathname,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: bodies[made++ % ALERTS] }),
        onResponse: (status, body) => {
          if (status !== 202) return;
          const { caseId } = JSON.parse(body) as { caseId: string };
          acceptedPerCase[caseId] = (acceptedPerCase[caseId] ?? 0) + 1;
        },
      },
    ],
  });
  const used = process.cpuUsage(cpu);
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    mode: 'http',
    seconds: (result.finish.getTime() - result.start.getTime()) / 1000,
    sent: result.requests.sent,
    ok: statuses['202'] ?? 0,
    errors: result.errors + result.timeouts,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    statuses,
    acceptedPerCase,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

async function main(): Promise<void> {
  const load = MODE === 'signal' ? await signalLoad() : MODE === 'http' ? await httpLoad() : undefined;
  if (!load) throw new Error(`STORM_MODE must be signal or http, not ${MODE}`);
  console.log(`STORM_LOAD ${JSON.stringify(load)}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
