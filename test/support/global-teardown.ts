import type { DevServer } from './server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__wardenTemporal as DevServer | undefined;
  await server?.stop();
}
