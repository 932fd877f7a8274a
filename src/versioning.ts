/**
 * Worker Versioning for the case worker (Temporal worker deployments; docs/versioning.md).
 *
 * A versioned worker reports its deployment version, `WARDEN_DEPLOYMENT_NAME` (default
 * "warden") plus a build id (`WARDEN_BUILD_ID`, else the first 12 hex digits of the SHA-256 of
 * the workflow bundle it runs), and receives tasks only once that version is its deployment's
 * current (or ramping) version. Cases are AUTO_UPGRADE: each workflow task of a parked case runs
 * on the deployment's current version, so a release reaches cases parked for weeks, and every
 * change to what a case does must replay its old histories (`patched()` + test/replay.test.ts).
 *
 * `WARDEN_WORKER_VERSIONING=off` runs a plain, unversioned worker. `WARDEN_PROMOTE_ON_START`
 * says whether a worker makes its own version current once it polls: `always` (npm start, dev),
 * `if-unset` (default: only when the deployment has no current version yet, the first
 * versioned deploy), `never` (a release promotes it: `warden release promote`).
 */
import { createHash } from 'node:crypto';
import { type Client, isGrpcServiceError } from '@temporalio/client';
import type { VersioningBehavior } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

/** How the case workflows move between deployment versions (see docs/versioning.md for why). */
export const CASE_VERSIONING_BEHAVIOR: VersioningBehavior = 'AUTO_UPGRADE';

export const DEFAULT_DEPLOYMENT_NAME = 'warden';

export type PromoteOnStart = 'always' | 'if-unset' | 'never';

export interface WorkerVersioningConfig {
  /** WARDEN_WORKER_VERSIONING: `on` (default) or `off` (a plain, unversioned worker). */
  enabled: boolean;
  /** WARDEN_DEPLOYMENT_NAME (default "warden"). */
  deploymentName: string;
  /** WARDEN_BUILD_ID: overrides the build id computed from the workflow bundle. */
  buildId?: string;
  /** WARDEN_PROMOTE_ON_START: `always`, `if-unset` (default) or `never`. */
  promoteOnStart: PromoteOnStart;
}

export function workerVersioningConfig(env: NodeJS.ProcessEnv = process.env): WorkerVersioningConfig {
  const switchValue = (env.WARDEN_WORKER_VERSIONING ?? 'on').trim().toLowerCase();
  if (!['on', 'off'].includes(switchValue)) throw new Error(`WARDEN_WORKER_VERSIONING must be on or off (got ${JSON.stringify(env.WARDEN_WORKER_VERSIONING)})`);
  const deploymentName = (env.WARDEN_DEPLOYMENT_NAME ?? '').trim() || DEFAULT_DEPLOYMENT_NAME;
  // The server names a version "<deployment>.<build id>": a dot in the deployment name would be ambiguous.
  if (deploymentName.includes('.')) throw new Error(`WARDEN_DEPLOYMENT_NAME must not contain a dot (got ${JSON.stringify(deploymentName)})`);
  const promoteOnStart = ((env.WARDEN_PROMOTE_ON_START ?? '').trim() || 'if-unset') as PromoteOnStart;
  if (!['always', 'if-unset', 'never'].includes(promoteOnStart))
    throw new Error(`WARDEN_PROMOTE_ON_START must be always, if-unset or never (got ${JSON.stringify(env.WARDEN_PROMOTE_ON_START)})`);
  const buildId = env.WARDEN_BUILD_ID?.trim() || undefined;
  return { enabled: switchValue === 'on', deploymentName, ...(buildId ? { buildId } : {}), promoteOnStart };
}

/** The build id of a workflow bundle: the first 12 hex digits of the SHA-256 of its code. */
export function bundleBuildId(code: string): string {
  return createHash('sha256').update(code).digest('hex').slice(0, 12);
}

/** The worker's `workerDeploymentOptions` for the bundle it runs; undefined when versioning is off. */
export function caseWorkerDeploymentOptions(config: WorkerVersioningConfig, bundleCode: string) {
  if (!config.enabled) return undefined;
  return {
    useWorkerVersioning: true as const,
    version: { deploymentName: config.deploymentName, buildId: config.buildId ?? bundleBuildId(bundleCode) },
    defaultVersioningBehavior: CASE_VERSIONING_BEHAVIOR,
  };
}

// ---- the deployment: describe, promote, ramp ----

const { VersionDrainageStatus, WorkerDeploymentVersionStatus, RoutingConfigUpdateState } = temporal.api.enums.v1;

export type VersionState = 'current' | 'ramping' | 'draining' | 'drained' | 'inactive' | 'created' | 'unknown';

export interface VersionRow {
  buildId: string;
  state: VersionState;
  /** Drainage, once the version stopped being current or ramping: draining while pinned workflows may still run on it, then drained. */
  drainage?: 'draining' | 'drained';
  drainageCheckedAt?: string;
  createdAt?: string;
  currentSince?: string;
  rampingSince?: string;
  lastCurrentAt?: string;
  deactivatedAt?: string;
  /** Whether its workers may be stopped: drained, or never current or ramping (it has run no workflow task). */
  canStop: boolean;
}

export interface ReleaseStatus {
  deploymentName: string;
  current?: string;
  ramping?: { buildId: string; percent: number };
  /** Whether the last routing change reached every task queue (until then some tasks may still go to the old version). */
  routingPropagated: boolean;
  versions: VersionRow[];
}

export interface VersionDetail extends VersionRow {
  rampPercent: number;
  taskQueues: { name: string; type: string }[];
}

const iso = (ts: Parameters<typeof optionalTsToMs>[0]) => {
  const ms = optionalTsToMs(ts);
  return ms ? new Date(ms).toISOString() : undefined;
};

function stateOf(status: number | null | undefined): VersionState {
  switch (status) {
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT:
      return 'current';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING:
      return 'ramping';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING:
      return 'draining';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED:
      return 'drained';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE:
      return 'inactive';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CREATED:
      return 'created';
    default:
      return 'unknown';
  }
}

function drainageOf(status: number | null | undefined): VersionRow['drainage'] {
  if (status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING) return 'draining';
  if (status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED) return 'drained';
  return undefined;
}

type Summary = temporal.api.deployment.v1.WorkerDeploymentInfo.IWorkerDeploymentVersionSummary;

function versionRow(v: Summary): VersionRow {
  const state = stateOf(v.status);
  const drainage = drainageOf(v.drainageInfo?.status ?? v.drainageStatus);
  const row: VersionRow = {
    buildId: v.deploymentVersion?.buildId ?? '',
    state,
    ...(drainage ? { drainage } : {}),
    drainageCheckedAt: drainage ? iso(v.drainageInfo?.lastCheckedTime) : undefined,
    createdAt: iso(v.createTime),
    currentSince: iso(v.currentSinceTime),
    rampingSince: iso(v.rampingSinceTime),
    lastCurrentAt: iso(v.lastCurrentTime),
    deactivatedAt: iso(v.lastDeactivationTime),
    canStop: state === 'drained' || drainage === 'drained' || state === 'inactive',
  };
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== undefined)) as unknown as VersionRow;
}

const namespaceOf = (client: Client) => client.options.namespace;
const NOT_FOUND = 5;

/** The deployment as the server has it, or undefined when no versioned worker has polled it yet. */
export async function describeDeployment(client: Client, deploymentName: string) {
  try {
    return await client.workflowService.describeWorkerDeployment({ namespace: namespaceOf(client), deploymentName });
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) return undefined;
    throw err;
  }
}

export async function releaseStatus(client: Client, deploymentName: string): Promise<ReleaseStatus | undefined> {
  const described = await describeDeployment(client, deploymentName);
  const info = described?.workerDeploymentInfo;
  if (!info) return undefined;
  const routing = info.routingConfig;
  const versions = (info.versionSummaries ?? []).map(versionRow).sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const rampingId = routing?.rampingDeploymentVersion?.buildId;
  return {
    deploymentName,
    ...(routing?.currentDeploymentVersion?.buildId ? { current: routing.currentDeploymentVersion.buildId } : {}),
    ...(rampingId ? { ramping: { buildId: rampingId, percent: routing?.rampingVersionPercentage ?? 0 } } : {}),
    routingPropagated: info.routingConfigUpdateState !== RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS,
    versions,
  };
}

/** One version in detail: its drainage and the task queues its workers poll. */
export async function versionDetail(client: Client, deploymentName: string, buildId: string): Promise<VersionDetail | undefined> {
  let response;
  try {
    response = await client.workflowService.describeWorkerDeploymentVersion({ namespace: namespaceOf(client), deploymentVersion: { deploymentName, buildId } });
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) return undefined;
    throw err;
  }
  const info = response.workerDeploymentVersionInfo;
  if (!info) return undefined;
  const row = versionRow({ ...info, drainageStatus: info.drainageInfo?.status });
  const taskQueueType = temporal.api.enums.v1.TaskQueueType;
  return {
    ...row,
    rampPercent: info.rampPercentage ?? 0,
    taskQueues: (info.taskQueueInfos ?? []).map((q) => ({
      name: q.name ?? '',
      type: (taskQueueType[q.type ?? 0] ?? 'unknown').replace('TASK_QUEUE_TYPE_', '').toLowerCase(),
    })),
  };
}

export class ReleaseError extends Error {}

export interface PromoteOptions {
  deploymentName: string;
  /** The version to promote; default the newest version of the deployment. */
  buildId?: string;
  /** 0 to 100: make it the ramping version at this percentage instead of the current version. */
  rampPercent?: number;
  /** How long to wait for the version to have polled, and then for the routing change to reach the task queues. */
  timeoutMs?: number;
  /** With `onlyIfUnset`, promote only when the deployment has no current version (the first versioned deploy). */
  onlyIfUnset?: boolean;
  /** Route the deployment's task queues back to unversioned workers (WARDEN_WORKER_VERSIONING=off) instead of a build. */
  unversioned?: boolean;
}

export interface PromoteResult {
  deploymentName: string;
  buildId: string;
  /** What was done: made current, made ramping, or nothing (already so, or a current version exists with onlyIfUnset). */
  outcome: 'current' | 'ramping' | 'unchanged';
  previousCurrent?: string;
  rampPercent?: number;
  /** Whether the routing change reached every task queue within the timeout. */
  routingPropagated: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Make a version the deployment's current version (or its ramping version, with rampPercent).
 * A version exists only once one of its workers has polled: until then (and on a conflicting
 * concurrent change) this retries, up to the timeout. It then waits for the routing change to
 * reach the task queues, so that the next workflow task goes to the new version.
 */
export async function promote(client: Client, opts: PromoteOptions): Promise<PromoteResult> {
  const { deploymentName, rampPercent, onlyIfUnset, unversioned } = opts;
  if (unversioned && (opts.buildId || rampPercent !== undefined)) throw new ReleaseError('--unversioned takes no --build-id or --ramp');
  if (rampPercent !== undefined && !(rampPercent >= 0 && rampPercent <= 100)) throw new ReleaseError(`--ramp must be a percentage from 0 to 100 (got ${rampPercent})`);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const identity = client.options.identity;
  let lastError: unknown;
  for (;;) {
    try {
      const described = await describeDeployment(client, deploymentName);
      const info = described?.workerDeploymentInfo;
      if (!described || !info) throw new ReleaseError(`no worker of deployment ${deploymentName} has polled yet`);
      const current = info.routingConfig?.currentDeploymentVersion?.buildId || undefined;
      const ramping = info.routingConfig?.rampingDeploymentVersion?.buildId || undefined;
      if (onlyIfUnset && current) return { deploymentName, buildId: opts.buildId ?? current, outcome: 'unchanged', previousCurrent: current, routingPropagated: true };
      const versions = (info.versionSummaries ?? []).map(versionRow);
      const buildId = unversioned ? '' : (opts.buildId ?? [...versions].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0]?.buildId);
      if (buildId === undefined) throw new ReleaseError(`deployment ${deploymentName} has no versions yet`);
      if (!unversioned && !versions.some((v) => v.buildId === buildId)) throw new ReleaseError(`no worker of ${deploymentName} build ${buildId} has polled yet`);
      const base = { deploymentName, buildId, ...(current ? { previousCurrent: current } : {}) };
      if (rampPercent === undefined) {
        if ((current ?? '') === buildId) return { ...base, outcome: 'unchanged', routingPropagated: await routingPropagated(client, deploymentName, deadline) };
        await client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: namespaceOf(client), deploymentName, buildId, conflictToken: described.conflictToken, identity });
        return { ...base, outcome: 'current', routingPropagated: await routingPropagated(client, deploymentName, deadline) };
      }
      if (current === buildId) throw new ReleaseError(`${deploymentName} build ${buildId} is the current version already: it cannot also ramp`);
      if (ramping === buildId && info.routingConfig?.rampingVersionPercentage === rampPercent)
        return { ...base, outcome: 'unchanged', rampPercent, routingPropagated: await routingPropagated(client, deploymentName, deadline) };
      await client.workflowService.setWorkerDeploymentRampingVersion({ namespace: namespaceOf(client), deploymentName, buildId, percentage: rampPercent, conflictToken: described.conflictToken, identity });
      return { ...base, outcome: 'ramping', rampPercent, routingPropagated: await routingPropagated(client, deploymentName, deadline) };
    } catch (err) {
      // Worth another try: the version has not polled yet, or the deployment changed under us (conflict token).
      const retryable = err instanceof ReleaseError ? /has (not )?polled|has no versions/.test(err.message) : isGrpcServiceError(err) && [NOT_FOUND, 9 /* FAILED_PRECONDITION */, 10 /* ABORTED */].includes(err.code);
      lastError = err;
      if (!retryable || Date.now() > deadline) break;
      await sleep(250);
    }
  }
  const message = lastError instanceof Error ? ((isGrpcServiceError(lastError) && lastError.details) || lastError.message) : String(lastError);
  throw new ReleaseError(`could not promote ${deploymentName}${opts.buildId ? ` build ${opts.buildId}` : ''}: ${message}`);
}

/** Wait (up to the deadline) until the deployment's last routing change has reached all its task queues. */
async function routingPropagated(client: Client, deploymentName: string, deadline: number): Promise<boolean> {
  for (;;) {
    const info = (await describeDeployment(client, deploymentName))?.workerDeploymentInfo;
    if (info?.routingConfigUpdateState !== RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

// ---- rendering ----

export function renderReleaseStatus(status: ReleaseStatus | undefined, deploymentName: string): string {
  if (!status) return `deployment ${deploymentName}: no versioned worker has polled yet`;
  const head = [
    `deployment ${status.deploymentName}`,
    `  current  ${status.current ?? '(none: no versioned worker receives tasks)'}`,
    ...(status.ramping ? [`  ramping  ${status.ramping.buildId} at ${status.ramping.percent}%`] : []),
    ...(status.routingPropagated ? [] : ['  routing  change still reaching the task queues']),
  ];
  const rows = status.versions.map((v) => {
    const since = v.state === 'current' ? v.currentSince : v.state === 'ramping' ? v.rampingSince : v.deactivatedAt;
    const drainage = v.drainage ? ` (${v.drainage !== v.state ? `${v.drainage}, ` : ''}checked ${v.drainageCheckedAt ?? '?'})` : '';
    return `  ${v.buildId.padEnd(14)} ${v.state.padEnd(9)}${since ? ` since ${since}` : ''}${drainage}${v.canStop && v.state !== 'current' && v.state !== 'ramping' ? '  workers may stop' : ''}`;
  });
  return [...head, 'versions (newest first):', ...(rows.length ? rows : ['  (none)'])].join('\n');
}

export function renderPromotion(result: PromoteResult): string {
  const what =
    result.outcome === 'current' && !result.buildId
      ? `${result.deploymentName}: unversioned workers take its task queues again${result.previousCurrent ? ` (current was ${result.previousCurrent})` : ''}`
      : result.outcome === 'current'
      ? `${result.deploymentName} build ${result.buildId} is now the current version${result.previousCurrent ? ` (was ${result.previousCurrent})` : ''}`
      : result.outcome === 'ramping'
        ? `${result.deploymentName} build ${result.buildId} is ramping at ${result.rampPercent}% (current: ${result.previousCurrent ?? 'none'})`
        : result.previousCurrent && result.previousCurrent !== result.buildId
          ? `${result.deploymentName} build ${result.buildId} is not promoted (current: ${result.previousCurrent}); it receives tasks once it is: warden release promote --build-id ${result.buildId}`
          : `${result.deploymentName}: nothing to change (build ${result.buildId}${result.rampPercent !== undefined ? ` ramping at ${result.rampPercent}%` : ' is current'})`;
  return result.routingPropagated ? what : `${what}\nthe routing change has not reached every task queue yet: check with warden release status`;
}

/**
 * At a worker's start (WARDEN_PROMOTE_ON_START): make its own version current, always (dev) or
 * only when the deployment has none yet (the first versioned deploy); never in a release that
 * promotes with `warden release promote`. Retries until the worker has polled.
 */
export async function promoteOnStart(client: Client, config: WorkerVersioningConfig, buildId: string, timeoutMs = 60_000): Promise<PromoteResult | undefined> {
  if (!config.enabled || config.promoteOnStart === 'never') return undefined;
  return promote(client, { deploymentName: config.deploymentName, buildId, onlyIfUnset: config.promoteOnStart === 'if-unset', timeoutMs });
}
