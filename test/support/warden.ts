/**
 * Warden on the suite's real Temporal server: a worker on its own task queue, with its own
 * outbox file and a policy whose clocks run in seconds.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter, UpdateDefinition } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import { type ActivityDeps, createActivities, dryRunConnectors } from '../../src/activities';
import type { Classifier } from '../../src/activities/classifier';
import { Outbox } from '../../src/activities/outbox';
import { type CaseReceipt, type CaseView, type Policy, type Report, type ReportInput, validatePolicy } from '../../src/domain';
import { fileReport, type FilingResult, toReport } from '../../src/intake/filing';
import { caseViewQuery, workflowIdFor } from '../../src/workflows/definitions';
import { caseWorkflowOptions } from '../../src/workflow-bundle';
import { ROOT } from './server';

let counter = 0;

/** The default policy with second-scale clocks, plus any overrides (merged one level deep). */
export function testPolicy(overrides: Record<string, unknown> = {}): Policy {
  const raw = parse(readFileSync(resolve(ROOT, 'config/policy.yaml'), 'utf8')) as Record<string, any>;
  raw.version = 'test';
  raw.slas = {
    SEV1: { acknowledgeBy: '30s', respondBy: '60s' },
    SEV2: { acknowledgeBy: '30s', respondBy: '60s' },
    SEV3: { acknowledgeBy: '30s', respondBy: '60s' },
    SEV4: { acknowledgeBy: '30s', respondBy: '60s' },
  };
  // The example organization is a public company under NIS2: every declared incident would wait
  // on materiality and significance determinations. Tests about those regimes say so themselves.
  raw.regulatoryProfile = { ...raw.regulatoryProfile, entityTypes: [] };
  raw.recovery.criteria[2].params = { window: '1s' };
  raw.recovery.criteria[2].recheckEvery = '1s';
  for (const [key, value] of Object.entries(overrides))
    raw[key] = value && typeof value === 'object' && !Array.isArray(value) ? { ...raw[key], ...value } : value;
  return validatePolicy(raw, 'test policy');
}

export function sampleReport(overrides: Partial<ReportInput> = {}): ReportInput {
  counter += 1;
  return {
    title: `Suspicious beaconing from laptop ${process.pid}-${Date.now()}-${counter}`,
    description: 'EDR saw periodic connections to an unknown host.',
    source: 'edr',
    reporter: 'soc-oncall',
    assets: ['laptop-1234'],
    observedAt: new Date().toISOString(),
    indicators: { ips: ['203.0.113.9'], domains: [], urls: [], hashes: [] },
    ...overrides,
  };
}

export interface TestWarden {
  client: Client;
  taskQueue: string;
  outbox: Outbox;
  file(report: ReportInput, policy?: Policy): Promise<FilingResult>;
  handle(caseId: string): WorkflowHandle;
  view(caseId: string): ReturnType<WorkflowHandle['query']>;
  stop(): Promise<void>;
}

export async function startWarden(
  policy: Policy = testPolicy(),
  opts: { address?: string; taskQueue?: string; outboxPath?: string; classifier?: Classifier; connectors?: Partial<ActivityDeps>; dataConverter?: DataConverter } = {},
): Promise<TestWarden> {
  const address = opts.address ?? process.env.WARDEN_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('WARDEN_TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (global setup starts the server)');
  const taskQueue = opts.taskQueue ?? `warden-test-${process.pid}-${Date.now()}-${++counter}`;
  const outboxPath = opts.outboxPath ?? join(mkdtempSync(join(tmpdir(), 'warden-outbox-')), 'outbox.jsonl');
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    ...caseWorkflowOptions(),
    dataConverter: opts.dataConverter,
    activities: createActivities({ ...dryRunConnectors(outboxPath), uiBaseUrl: 'http://localhost:8233', classifier: opts.classifier, ...opts.connectors }),
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: opts.dataConverter });
  return {
    client,
    taskQueue,
    outbox: new Outbox(outboxPath),
    file: (report, p = policy) => fileReport(client, p, toReport(report), taskQueue),
    handle: (caseId) => client.workflow.getHandle(workflowIdFor(caseId)),
    view: (caseId) => client.workflow.getHandle(workflowIdFor(caseId)).query(caseViewQuery),
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** Poll until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type { Report };

/** Take a human action on a case and read the case after it: the update answers a receipt, the view is the query. */
export async function actOn<A>(handle: WorkflowHandle, update: UpdateDefinition<CaseReceipt, [A]>, input: A): Promise<CaseView> {
  await handle.executeUpdate(update, { args: [input] });
  return handle.query(caseViewQuery);
}

/**
 * The length of a case's history once it has stopped growing (its effects run concurrently, so
 * results may still land after the stage a test waited for): what "nothing happened" is measured against.
 */
export async function quietHistoryLength(handle: WorkflowHandle, quietMs = 1_500, timeoutMs = 30_000): Promise<number> {
  const length = async () => (await handle.fetchHistory()).events?.length ?? 0;
  const deadline = Date.now() + timeoutMs;
  let last = await length();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = await length();
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}
