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

/** The data converter every client and worker uses (payload encryption plugs in here). */
export function wardenDataConverter(): DataConverter | undefined {
  return undefined;
}

export async function connectClient(target = temporalTarget()): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect(target.connectionOptions);
  return { connection, client: new Client({ connection, namespace: target.namespace, dataConverter: wardenDataConverter() }) };
}

export async function connectWorker(target = temporalTarget()): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}
