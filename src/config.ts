/**
 * Runtime configuration from the environment, and the policy file, read and validated once at
 * start-up: a bad policy stops the process with every problem listed, before any case is touched.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { temporalTarget } from './temporal';
import { overlayPolicy, type Policy, PolicyError, readPolicyText, validatePolicy } from './domain';
import { type WorkerVersioningConfig, workerVersioningConfig } from './versioning';

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
   * Cases a worker keeps in its cache (WARDEN_MAX_CACHED_WORKFLOWS, default 300). A cached
   * case answers its next task without replay; one that is not replays its history first (a
   * parked case's history is short: bounded state, continue-as-new). The cache is an LRU, so the
   * cases evicted are the parked ones. bench/open-cases measured 1,000 cached cases at about
   * 1.9 MB each above an idle 341 MiB (2.2 GiB RSS); 300 keeps a worker near 0.9 GiB.
   */
  maxCachedWorkflows: number;
  /**
   * Worker Versioning (src/versioning.ts, docs/versioning.md): WARDEN_WORKER_VERSIONING (on|off,
   * default on), WARDEN_DEPLOYMENT_NAME (default warden), WARDEN_BUILD_ID (default: from the
   * workflow bundle's hash), WARDEN_PROMOTE_ON_START (always|if-unset|never, default if-unset).
   */
  versioning: WorkerVersioningConfig;
  /** Where every report's full payload is kept, by SHA-256 (src/evidence/store.ts): see evidenceConfig. */
  evidence: EvidenceConfig;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WardenConfig {
  const root = projectRoot();
  return {
    namespace: temporalTarget(env).namespace,
    policyPath: env.WARDEN_POLICY ?? resolve(root, 'config/policy.yaml'),
    httpPort: Number(env.WARDEN_HTTP_PORT ?? 8080),
    httpHost: env.WARDEN_HTTP_HOST ?? '127.0.0.1',
    outboxPath: env.WARDEN_OUTBOX ?? resolve(root, '.data/outbox.jsonl'),
    uiBaseUrl: env.WARDEN_UI_URL ?? 'http://localhost:8233',
    maxCachedWorkflows: cacheSize(env.WARDEN_MAX_CACHED_WORKFLOWS),
    versioning: workerVersioningConfig(env),
    evidence: evidenceConfig(env),
  };
}

/** The checkout (or, built, the directory above dist/): where config/ and .data/ are. */
function projectRoot(): string {
  return resolve(__dirname, __dirname.split('/').includes('dist') ? '../..' : '..');
}

/**
 * The evidence store (src/evidence/store.ts, README "Evidence store"):
 * - WARDEN_EVIDENCE_STORE: `file` (default) or `s3`;
 * - file: WARDEN_EVIDENCE_DIR (default .data/evidence in the checkout);
 * - s3: WARDEN_EVIDENCE_S3_BUCKET (required), WARDEN_EVIDENCE_S3_ENDPOINT (an S3-compatible
 *   server's URL, e.g. MinIO's; default AWS, and then virtual-hosted-style addressing, else
 *   path-style), WARDEN_EVIDENCE_S3_REGION (default AWS_REGION, else us-east-1).
 * The S3 credentials are not Warden's settings: the AWS SDK's standard chain finds them
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, a container or instance role).
 */
export type EvidenceConfig =
  | { kind: 'file'; dir: string }
  | { kind: 's3'; bucket: string; endpoint?: string; region: string; forcePathStyle: boolean };

export function evidenceConfig(env: NodeJS.ProcessEnv = process.env): EvidenceConfig {
  const kind = env.WARDEN_EVIDENCE_STORE || 'file';
  if (kind === 'file') return { kind, dir: resolve(env.WARDEN_EVIDENCE_DIR || resolve(projectRoot(), '.data/evidence')) };
  if (kind !== 's3') throw new Error(`WARDEN_EVIDENCE_STORE must be file or s3 (got ${JSON.stringify(kind)})`);
  const bucket = env.WARDEN_EVIDENCE_S3_BUCKET ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(`WARDEN_EVIDENCE_STORE=s3 needs WARDEN_EVIDENCE_S3_BUCKET, an S3 bucket name (got ${JSON.stringify(bucket)})`);
  const endpoint = env.WARDEN_EVIDENCE_S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint))
    throw new Error('WARDEN_EVIDENCE_S3_ENDPOINT must be an http:// or https:// URL');
  const region = env.WARDEN_EVIDENCE_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return { kind, bucket, ...(endpoint ? { endpoint } : {}), region, forcePathStyle: endpoint !== undefined };
}

function cacheSize(value: string | undefined): number {
  if (value === undefined || value === '') return 300;
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
