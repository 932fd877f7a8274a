/**
 * Liveness, readiness and metrics over HTTP, and graceful shutdown of an HTTP server.
 *
 *   /healthz  the process is up (always 200 while it answers)
 *   /readyz   it can do its job: the intake reaches Temporal, the worker is RUNNING (else 503)
 *   /metrics  Prometheus text
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
  checkedAt: string;
}

export type ReadinessCheck = () => Promise<Readiness>;

/**
 * Ready = Temporal answers getSystemInfo within `timeoutMs` (default 2 s). The answer is cached
 * for `cacheMs` (default 5 s), and concurrent probes share one call.
 */
export function temporalReadiness(client: Client, options: { timeoutMs?: number; cacheMs?: number } = {}): ReadinessCheck {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const cacheMs = options.cacheMs ?? 5_000;
  let last: { at: number; result: Readiness } | undefined;
  let pending: Promise<Readiness> | undefined;
  const probe = async (): Promise<Readiness> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const call = client.connection.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({}));
      const timeout = new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`no answer from Temporal within ${timeoutMs} ms`)), timeoutMs + 250);
      });
      await Promise.race([call, timeout]);
      return { ready: true, checkedAt: new Date().toISOString() };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { ready: false, reason: `Temporal unreachable: ${message.split('\n')[0]}`, checkedAt: new Date().toISOString() };
    } finally {
      clearTimeout(timer);
    }
  };
  return async () => {
    if (last && Date.now() - last.at < cacheMs) return last.result;
    pending ??= probe().then((result) => {
      last = { at: Date.now(), result };
      pending = undefined;
      return result;
    });
    return pending;
  };
}

export async function sendReadiness(res: ServerResponse, check: ReadinessCheck): Promise<void> {
  const result = await check();
  sendJson(res, result.ready ? 200 : 503, result);
}

export async function sendMetrics(res: ServerResponse, registry: Registry): Promise<void> {
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** "host:port" (or ":port", or "port") → listen arguments. */
export function parseBindAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(value.trim());
  if (!m) throw new Error(`not a host:port address: "${value}"`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export interface HealthServer {
  server: Server;
  /** e.g. http://127.0.0.1:8081 */
  url: string;
  close(): Promise<void>;
}

/** The worker's small HTTP server: /healthz, /readyz (the `ready` predicate) and /metrics. */
export async function startHealthServer(options: { host?: string; port: number; ready: () => boolean | string; registry: Registry }): Promise<HealthServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET' });
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = options.ready();
      return sendJson(res, ready === true ? 200 : 503, { ready: ready === true, ...(ready === true ? {} : { reason: ready || 'not ready' }) });
    }
    if (path === '/metrics') return void sendMetrics(res, options.registry).catch(() => sendJson(res, 500, { error: 'metrics unavailable' }));
    return sendJson(res, 404, { error: `no route ${path}` });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: async () => void (await closeServer(server, 2_000)),
  };
}

/** Count the requests a server is handling (for graceful shutdown and the in-flight gauge). */
export function trackInFlight(server: Server, onChange?: (inFlight: number) => void): { count(): number } {
  let inFlight = 0;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    onChange?.(inFlight);
    res.once('close', () => {
      inFlight -= 1;
      onChange?.(inFlight);
    });
  });
  return { count: () => inFlight };
}

/**
 * Stop accepting connections, let the requests in flight finish (a report being filed answers
 * only once it is durably recorded), and after `deadlineMs` cut what is left. Resolves with
 * whether everything finished in time.
 */
export function closeServer(server: Server, deadlineMs: number): Promise<boolean> {
  return new Promise((ok) => {
    if (!server.listening) return ok(true);
    let done = false;
    // Keep-alive connections with no request in flight would hold close() open: end them as they go idle.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      clearInterval(idle);
      server.closeAllConnections();
      ok(false);
    }, deadlineMs);
    timer.unref();
    server.close(() => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(idle);
      ok(true);
    });
    server.closeIdleConnections();
  });
}
