/**
 * Runtime configuration from the environment, and the policy file, read and validated once at
 * start-up: a bad policy stops the process with every problem listed, before any case is touched.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { temporalTarget } from './temporal';
import { overlayPolicy, type Policy, PolicyError, readPolicyText, validatePolicy } from './domain';

export interface WardenConfig {
  /** The Temporal namespace (from the SDK's environment configuration, see src/temporal.ts). */
  namespace: string;
  policyPath: string;
  httpPort: number;
  httpHost: string;
  outboxPath: string;
  /** The Temporal Web UI, for links from Slack cards and pages back to the case. */
  uiBaseUrl: string;
  /**
   * Cases a worker keeps in its cache (WARDEN_MAX_CACHED_WORKFLOWS, default 1,000). A cached
   * case answers its next task without replay; one that is not replays its history first. The
   * default bounds a worker to roughly half a GiB of cached cases (a worker caching 10,000 parked
   * cases was seen at 4.1 GiB RSS, about 0.4 MB a case) whatever the number of cases open.
   */
  maxCachedWorkflows: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WardenConfig {
  const root = resolve(__dirname, __dirname.split('/').includes('dist') ? '../..' : '..');
  return {
    namespace: temporalTarget(env).namespace,
    policyPath: env.WARDEN_POLICY ?? resolve(root, 'config/policy.yaml'),
    httpPort: Number(env.WARDEN_HTTP_PORT ?? 8080),
    httpHost: env.WARDEN_HTTP_HOST ?? '127.0.0.1',
    outboxPath: env.WARDEN_OUTBOX ?? resolve(root, '.data/outbox.jsonl'),
    uiBaseUrl: env.WARDEN_UI_URL ?? 'http://localhost:8233',
    maxCachedWorkflows: cacheSize(env.WARDEN_MAX_CACHED_WORKFLOWS),
  };
}

function cacheSize(value: string | undefined): number {
  if (value === undefined || value === '') return 1_000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`WARDEN_MAX_CACHED_WORKFLOWS must be a whole number, 0 or more (got ${JSON.stringify(value)})`);
  return n;
}

/**
 * The authserv-ids of the organisation's own mail servers (`WARDEN_MAIL_AUTHSERV_ID`,
 * comma-separated, e.g. `mx.corp.example`): the only Authentication-Results headers the
 * mailbox trusts to verify a reported mail's sender. Lower-cased; empty when unset.
 */
export function mailAuthservIds(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.WARDEN_MAIL_AUTHSERV_ID ?? '')
    .split(',')
    .map((id) => id.trim().toLowerCase())
    .filter(Boolean);
}

/** Read a policy file, following `extends:` to its base (relative to the file), and validate it. */
export function loadPolicyFile(path: string): Policy {
  return validatePolicy(readPolicyChain(path, []), path);
}

function readPolicyChain(path: string, seen: string[]): Record<string, unknown> {
  if (seen.includes(path)) throw new PolicyError(path, [`extends loops: ${[...seen, path].join(' → ')}`]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyError(path, [`cannot read: ${(err as Error).message}`]);
  }
  const raw = readPolicyText(text, path);
  if (typeof raw.extends !== 'string') return raw;
  return overlayPolicy(readPolicyChain(resolve(dirname(path), raw.extends), [...seen, path]), raw);
}
