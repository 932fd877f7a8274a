/**
 * warden release: roll a new build of the case worker out (Worker Versioning, docs/versioning.md).
 *
 *   warden release status [--build-id X] [--deployment D] [--json]
 *       the deployment's current and ramping versions, and every version with its state and
 *       drainage (draining → drained: when its workers may stop); with --build-id, that version
 *       in detail (its task queues).
 *   warden release promote [--build-id X] [--ramp N%] [--deployment D] [--timeout 30s] [--json]
 *       make build X (default: the newest version that has polled) the current version, or with
 *       --ramp the ramping version at N% of the workflows. Rolling back is promoting the old
 *       build again (its workers must still run).
 *   warden release promote --unversioned
 *       hand the task queues back to unversioned workers (WARDEN_WORKER_VERSIONING=off).
 *
 * The deployment is WARDEN_DEPLOYMENT_NAME (default "warden") unless --deployment names one.
 */
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { connectClient } from './temporal';
import { promote, releaseStatus, renderPromotion, renderReleaseStatus, versionDetail, workerVersioningConfig } from './versioning';

export const RELEASE_USAGE = `warden release status [--build-id X] [--deployment D] [--json]
  warden release promote [--build-id X] [--ramp N%] [--deployment D] [--timeout 30s] [--json]
  warden release promote --unversioned [--deployment D]`;

export class ReleaseUsageError extends Error {}

function percentage(value: string): number {
  const n = Number(value.trim().replace(/%$/, ''));
  if (!/^\s*\d+(\.\d+)?\s*%?\s*$/.test(value) || !(n >= 0 && n <= 100)) throw new ReleaseUsageError(`--ramp takes a percentage from 0 to 100, e.g. --ramp 10% (got ${JSON.stringify(value)})`);
  return n;
}

function seconds(value: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new ReleaseUsageError(`--timeout takes a duration such as 30s or 2m (got ${JSON.stringify(value)})`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1_000);
}

/** Run `warden release …`; with `deps.client` against that client (tests), else connecting as every CLI command does. */
export async function runReleaseCommand(argv: string[], deps: { client?: Client; print?: (text: string) => void; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'build-id': { type: 'string' },
      ramp: { type: 'string' },
      deployment: { type: 'string' },
      timeout: { type: 'string' },
      unversioned: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const [sub] = positionals;
  if (sub !== 'status' && sub !== 'promote') throw new ReleaseUsageError(`usage: ${RELEASE_USAGE}`);
  const deploymentName = values.deployment ?? workerVersioningConfig(deps.env ?? process.env).deploymentName;
  const buildId = values['build-id'];
  const print = deps.print ?? ((text: string) => console.log(text));
  const out = (data: unknown, text: () => string) => print(values.json ? JSON.stringify(data, null, 2) : text());
  const connected = deps.client ? undefined : await connectClient();
  const client = deps.client ?? connected!.client;
  try {
    if (sub === 'status') {
      if (buildId) {
        const detail = await versionDetail(client, deploymentName, buildId);
        if (!detail) throw new ReleaseUsageError(`${deploymentName} has no version ${buildId} (no worker of that build has polled, or it was garbage-collected)`);
        out(detail, () =>
          [
            `${deploymentName} build ${buildId}: ${detail.state}${detail.state === 'ramping' ? ` at ${detail.rampPercent}%` : ''}${detail.drainage && detail.drainage !== detail.state ? `, ${detail.drainage}` : ''}${detail.drainageCheckedAt ? ` (drainage checked ${detail.drainageCheckedAt})` : ''}`,
            `workers may stop: ${detail.canStop ? 'yes' : 'no'}`,
            ...detail.taskQueues.map((q) => `  task queue ${q.name} (${q.type})`),
          ].join('\n'),
        );
        return 0;
      }
      const status = await releaseStatus(client, deploymentName);
      out(status ?? { deploymentName, versions: [] }, () => renderReleaseStatus(status, deploymentName));
      return 0;
    }
    const result = await promote(client, {
      deploymentName,
      ...(buildId ? { buildId } : {}),
      ...(values.ramp !== undefined ? { rampPercent: percentage(values.ramp) } : {}),
      ...(values.timeout ? { timeoutMs: seconds(values.timeout) } : {}),
      ...(values.unversioned ? { unversioned: true } : {}),
    });
    out(result, () => renderPromotion(result));
    return 0;
  } finally {
    await connected?.connection.close();
  }
}
