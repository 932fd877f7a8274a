import { startDevServer } from './server';

export default async function globalSetup(): Promise<void> {
  if (process.env.WARDEN_TEST_TEMPORAL_ADDRESS) return; // a server the caller runs
  const server = await startDevServer();
  process.env.WARDEN_TEST_TEMPORAL_ADDRESS = server.address;
  (globalThis as Record<string, unknown>).__wardenTemporal = server;
}
