/**
 * A real Temporal dev server for tests: the binary scripts/temporal finds or installs, on free
 * loopback ports, with Warden's search attributes registered.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';

export const ROOT = resolve(__dirname, '../..');

export function temporalBinary(): string {
  return execFileSync(resolve(ROOT, 'scripts/temporal'), ['path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

export interface DevServer {
  address: string;
  /** The Web UI's base URL, when started with `ui: true` (e.g. http://127.0.0.1:PORT). */
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start `temporal server start-dev`; `dbFile` keeps state across restarts, else in memory.
 * Headless unless `ui` is set: then the Web UI listens on a free loopback port (`uiUrl`).
 */
export async function startDevServer(opts: { port?: number; dbFile?: string; ui?: boolean } = {}): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const uiPort = opts.ui ? await freePort() : undefined;
  const args = [
    'server', 'start-dev', ...(uiPort ? ['--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), '--ui-disable-news-fetch'] : ['--headless']),
    '--ip', '127.0.0.1', '--port', String(port),
    '--http-port', String(await freePort()), '--metrics-port', String(await freePort()), '--log-level', 'error',
    ...['WardenStatus', 'WardenSeverity', 'WardenCategory', 'WardenQueue', 'WardenAutoCategory', 'WardenVerdict'].flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
    '--search-attribute', 'WardenCampaign=KeywordList',
    '--search-attribute', 'WardenAcknowledged=Bool',
    '--search-attribute', 'WardenNextDeadline=Datetime',
    // Worker Versioning needs no flag on this server; these only make an old deployment version report
    // "drained" seconds after it stops being current, not the default 3 minutes (test/worker-versioning.test.ts).
    '--dynamic-config-value', 'matching.wv.VersionDrainageStatusVisibilityGracePeriod="5s"',
    '--dynamic-config-value', 'matching.wv.VersionDrainageStatusRefreshInterval="1s"',
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
  ];
  // The server's own log goes to a file (WARDEN_TEST_SERVER_LOG, else a temp file), not the test output.
  const logPath = process.env.WARDEN_TEST_SERVER_LOG ?? join(tmpdir(), `warden-temporal-${port}.log`);
  const child = spawn(temporalBinary(), args, { stdio: ['ignore', openSync(logPath, 'a'), openSync(logPath, 'a')] });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      if (uiPort && !(await fetch(`http://127.0.0.1:${uiPort}/`)).ok) throw new Error('the Web UI is not serving yet');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`temporal dev server did not start on ${address}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    ...(uiPort ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    process: child,
    stop: () =>
      new Promise<void>((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** Listen on a free loopback port; the server's base URL. */
export async function listenOnLoopback(server: import('node:http').Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
