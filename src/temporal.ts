/**
 * Connecting to Temporal: the SDK's standard environment configuration (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the TOML
 * config file), so one build runs against the dev server, a self-hosted cluster or Temporal
 * Cloud. Every entry point connects through here.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { codecFromEnv } from './codec/encryption';
import { describeEncryption } from './codec/start';

export interface TemporalTarget {
  address: string;
  namespace: string;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const config = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  const address = config.connectionOptions.address ?? 'localhost:7233';
  return { address, namespace: config.namespace ?? 'default', connectionOptions: { ...config.connectionOptions, address } };
}

let announced = false;

/**
 * The data converter every client and worker uses: with `WARDEN_CODEC_KEYS` set, payloads are
 * encrypted (AES-256-GCM, src/codec), failure messages included; without, Temporal's default
 * converter (no encryption).
 * Search attributes and workflow ids are never encrypted: they carry only the case id (a hash)
 * and stage, severity, category and queue.
 */
export function wardenDataConverter(env: NodeJS.ProcessEnv = process.env, opts: { announce?: boolean } = {}): DataConverter | undefined {
  const codec = codecFromEnv(env);
  if ((opts.announce ?? true) && !announced) {
    announced = true;
    console.log(`warden: ${describeEncryption(codec)}`);
  }
  // Failure messages and stack traces are encrypted too (they can quote case data).
  return codec ? { payloadCodecs: [codec], failureConverterPath: require.resolve('./codec/failure-converter') } : undefined;
}

export async function connectClient(target = temporalTarget()): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(target.connectionOptions);
  return { connection, client: new Client({ connection, namespace: target.namespace, dataConverter: wardenDataConverter(process.env, { announce: false }) }) };
}

export async function connectWorker(target = temporalTarget()): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}
