/**
 * Worker Versioning on the real dev server (docs/versioning.md): a case started on build A stays
 * parked there; once build B is promoted, the case's next workflow task runs on B (cases are
 * AUTO_UPGRADE), a rollback to A sends the next one back to A, and `warden release status`
 * reports A draining, then drained, after which A's worker stops and B still answers the case.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { runReleaseCommand } from '../src/cli-release';
import { loadConfig } from '../src/config';
import type { CaseView } from '../src/domain';
import { fileReport, toReport } from '../src/intake/filing';
import { bundleBuildId, promote, type PromoteResult, promoteOnStart, releaseStatus, workerVersioningConfig } from '../src/versioning';
import { createWorker } from '../src/worker';
import { bundleCaseWorkflowCode } from '../src/workflow-bundle';
import { acknowledgeUpdate, assignUpdate, caseViewQuery, workflowIdFor } from '../src/workflows/definitions';
import { eventually, sampleReport, testPolicy } from './support/warden';

const address = process.env.WARDEN_TEST_TEMPORAL_ADDRESS!;
const run = `${process.pid}-${Date.now()}`;
const deploymentName = `warden-test-${run}`;
const taskQueue = `warden-versioning-${run}`;

type Event = temporal.api.history.v1.IHistoryEvent;

/** The build that completed the workflow task which accepted an update. */
function buildThatAccepted(events: Event[], updateId: string): string | undefined {
  const accepted = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId === updateId);
  const completed = events.slice(0, accepted).reverse().find((e) => e.workflowTaskCompletedEventAttributes);
  return completed?.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? undefined;
}

async function versioningInfo(handle: WorkflowHandle) {
  const described = await handle.describe();
  return { runId: described.runId, info: described.raw.workflowExecutionInfo?.versioningInfo };
}

describe('worker versioning', () => {
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  const outbox = join(mkdtempSync(join(tmpdir(), 'warden-versioning-')), 'outbox.jsonl');
  const configFor = (env: Record<string, string>) => loadConfig({ ...process.env, WARDEN_DEPLOYMENT_NAME: deploymentName, WARDEN_OUTBOX: outbox, ...env });

  beforeAll(async () => {
    nativeConnection = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    client = new Client({ connection });
  });
  afterAll(async () => {
    for (const { worker, running } of workers) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    }
    await connection?.close();
    await nativeConnection?.close();
  });

  test('configuration: on by default, off with WARDEN_WORKER_VERSIONING=off, names and build id from the environment', () => {
    expect(workerVersioningConfig({})).toEqual({ enabled: true, deploymentName: 'warden', promoteOnStart: 'if-unset' });
    expect(workerVersioningConfig({ WARDEN_WORKER_VERSIONING: 'off' }).enabled).toBe(false);
    expect(workerVersioningConfig({ WARDEN_DEPLOYMENT_NAME: 'soc', WARDEN_BUILD_ID: 'r42', WARDEN_PROMOTE_ON_START: 'never' })).toEqual({
      enabled: true,
      deploymentName: 'soc',
      buildId: 'r42',
      promoteOnStart: 'never',
    });
    expect(() => workerVersioningConfig({ WARDEN_WORKER_VERSIONING: 'maybe' })).toThrow('WARDEN_WORKER_VERSIONING must be on or off');
    expect(() => workerVersioningConfig({ WARDEN_PROMOTE_ON_START: 'sometimes' })).toThrow('WARDEN_PROMOTE_ON_START must be always, if-unset or never');
    expect(() => workerVersioningConfig({ WARDEN_DEPLOYMENT_NAME: 'a.b' })).toThrow('must not contain a dot');
    expect(bundleBuildId('same code')).toBe(bundleBuildId('same code'));
    expect(bundleBuildId('same code')).toMatch(/^[0-9a-f]{12}$/);
  });

  test('a parked case moves to the promoted build on its next workflow task, back on rollback; the old build drains', async () => {
    // One bundle for both workers: A's build id is its hash, B's the WARDEN_BUILD_ID override.
    const { code } = await bundleCaseWorkflowCode();
    const buildA = bundleBuildId(code);
    const buildB = `${buildA}-b`;
    const start = async (env: Record<string, string>) => {
      const config = configFor(env);
      const worker = await createWorker(nativeConnection, config, taskQueue, undefined, code);
      workers.push({ worker, running: worker.run() });
      return { worker, config };
    };

    // A: the build id is the bundle's hash; like `npm start` it makes itself current once it has polled.
    const a = await start({ WARDEN_PROMOTE_ON_START: 'always' });
    expect(a.worker.options.workerDeploymentOptions).toEqual({
      useWorkerVersioning: true,
      version: { deploymentName, buildId: buildA },
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    });
    const promotedA = (await promoteOnStart(client, a.config.versioning, buildA)) as PromoteResult;
    expect(promotedA).toMatchObject({ outcome: 'current', buildId: buildA, routingPropagated: true });

    // A case, parked in responding (its SLA timers running), ran on A.
    const filed = await fileReport(client, testPolicy(), toReport(sampleReport()), taskQueue);
    const handle = client.workflow.getHandle(workflowIdFor(filed.caseId));
    await eventually(async () => ((await handle.query(caseViewQuery)) as CaseView).stage === 'responding' || undefined, 'the case to reach responding');
    const onA = await versioningInfo(handle);
    expect(onA.info?.behavior).toBe(2 /* VERSIONING_BEHAVIOR_AUTO_UPGRADE */);
    expect(onA.info?.deploymentVersion).toEqual({ deploymentName, buildId: buildA });

    // B: a second worker (same code, WARDEN_BUILD_ID=buildB), promoted with `warden release promote`.
    await start({ WARDEN_BUILD_ID: buildB, WARDEN_PROMOTE_ON_START: 'never' });
    const printed: string[] = [];
    const print = (text: string) => printed.push(text);
    expect(await runReleaseCommand(['promote', '--build-id', buildB, '--deployment', deploymentName, '--json'], { client, print })).toBe(0);
    expect(JSON.parse(printed.pop()!)).toMatchObject({ outcome: 'current', buildId: buildB, previousCurrent: buildA, routingPropagated: true });

    // The case's next workflow task (an acknowledgement) runs on B, though A still runs and has it cached.
    await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }], updateId: 'ack-on-b' });
    expect(buildThatAccepted((await handle.fetchHistory()).events ?? [], 'ack-on-b')).toBe(buildB);
    const onB = await versioningInfo(handle);
    expect(onB.info?.deploymentVersion).toEqual({ deploymentName, buildId: buildB });
    expect(onB.info?.behavior).toBe(2);
    expect(onB.runId).toBe(onA.runId); // moved, not continued-as-new

    // Rollback is promoting A again: the next task goes back to A. Then B again.
    expect(await promote(client, { deploymentName, buildId: buildA })).toMatchObject({ outcome: 'current', previousCurrent: buildB, routingPropagated: true });
    await handle.executeUpdate(assignUpdate, { args: [{ actor: 'bob', assignee: 'carol' }], updateId: 'assign-on-a' });
    expect(buildThatAccepted((await handle.fetchHistory()).events ?? [], 'assign-on-a')).toBe(buildA);
    expect(await promote(client, { deploymentName, buildId: buildB })).toMatchObject({ outcome: 'current', previousCurrent: buildA });

    // `warden release status`: B current; A draining, then drained (no pinned case holds it), its workers may stop.
    const status = await releaseStatus(client, deploymentName);
    expect(status?.current).toBe(buildB);
    expect(['draining', 'drained']).toContain(status?.versions.find((v) => v.buildId === buildA)?.state);
    const drained = await eventually(async () => {
      const row = (await releaseStatus(client, deploymentName))?.versions.find((v) => v.buildId === buildA);
      return row?.state === 'drained' ? row : undefined;
    }, `build ${buildA} to be drained (the test server sets matching.wv.VersionDrainageStatus* to seconds)`, 30_000);
    expect(drained).toMatchObject({ drainage: 'drained', canStop: true });
    expect(await runReleaseCommand(['status', '--deployment', deploymentName], { client, print })).toBe(0);
    const text = printed.pop()!;
    expect(text).toContain(`current  ${buildB}`);
    expect(text).toMatch(new RegExp(`${buildA}\\s+drained .*workers may stop`));

    // A's worker stops; the case still answers (B) and takes the next action on B.
    a.worker.shutdown();
    await workers[0].running;
    expect(((await handle.query(caseViewQuery)) as CaseView).stage).toBeDefined();
    await handle.executeUpdate(assignUpdate, { args: [{ actor: 'bob', assignee: 'dave' }], updateId: 'assign-after-a-stopped' });
    expect(buildThatAccepted((await handle.fetchHistory()).events ?? [], 'assign-after-a-stopped')).toBe(buildB);
  });
});
