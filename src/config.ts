/**
 * Runtime configuration from the environment, and the policy file, read and validated once at
 * start-up: a bad policy stops the process with every problem listed, before any case is touched.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parsePolicy, type Policy } from './domain';

export interface WardenConfig {
  temporalAddress: string;
  namespace: string;
  policyPath: string;
  httpPort: number;
  httpHost: string;
  outboxPath: string;
  /** The Temporal Web UI, for links from Slack cards and pages back to the case. */
  uiBaseUrl: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WardenConfig {
  const root = resolve(__dirname, __dirname.split('/').includes('dist') ? '../..' : '..');
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    policyPath: env.WARDEN_POLICY ?? resolve(root, 'config/policy.yaml'),
    httpPort: Number(env.WARDEN_HTTP_PORT ?? 8080),
    httpHost: env.WARDEN_HTTP_HOST ?? '127.0.0.1',
    outboxPath: env.WARDEN_OUTBOX ?? resolve(root, '.data/outbox.jsonl'),
    uiBaseUrl: env.WARDEN_UI_URL ?? 'http://localhost:8233',
  };
}

export function loadPolicyFile(path: string): Policy {
  return parsePolicy(readFileSync(path, 'utf8'), path);
}
