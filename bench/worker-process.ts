/** Running bench/chaos-worker.ts as a child process: a real process to SIGKILL, whose memory can be read. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleCaseWorkflowCode } from '../src/workflow-bundle';

const ROOT = resolve(__dirname, '..');

/** Bundle Warden's workflows once, to a file the worker processes load (a restart then takes about a second). */
export async function bundleWarden(dir: string): Promise<string> {
  const { code } = await bundleCaseWorkflowCode({ trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never);
  const path = join(dir, 'workflow-bundle.js');
  writeFileSync(path, code);
  return path;
}

export class WorkerProcess {
  child?: ChildProcess;
  starts = 0;
  kills = 0;
  /** Queries the task guard refused (src/workflows/task-guard.ts), over every start: counted from the worker's log lines. */
  guardRefusals = 0;
  private log = '';
  private readonly partialLines = { stdout: '', stderr: '' };

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start the worker; resolves when it says it is polling, rejects if it exits first. */
  start(timeoutMs = 60_000): Promise<void> {
    this.starts += 1;
    this.log = '';
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', resolve(__dirname, 'chaos-worker.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`worker not ready after ${timeoutMs} ms: ${this.log.slice(-2000)}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        this.countGuardRefusals(d, 'stdout');
        out += d.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          ok();
        }
      });
      child.stderr!.on('data', (d: Buffer) => {
        this.countGuardRefusals(d, 'stderr');
        this.log = (this.log + d.toString()).slice(-20_000);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`worker exited (${code ?? signal}) before ready: ${this.log.slice(-2000)}`));
      });
    });
  }

  /** The SDK core logs each refused query (to stdout, as the core's console log does by default). */
  private countGuardRefusals(chunk: Buffer, stream: 'stdout' | 'stderr'): void {
    const lines = (this.partialLines[stream] + chunk.toString()).split('\n');
    this.partialLines[stream] = lines.pop() ?? '';
    this.guardRefusals += lines.filter((l) => l.includes('Failing legacy query request') && l.includes('task guard')).length;
  }

  /** Resident set size of the worker process, in bytes (from /proc). */
  rss(): number {
    return this.status('VmRSS');
  }

  /** The worker process's peak resident set size so far, in bytes (VmHWM). */
  peakRss(): number {
    return this.status('VmHWM');
  }

  private status(field: string): number {
    if (!this.child?.pid) return NaN;
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  }

  /** Send a signal and wait for the process to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (signal === 'SIGKILL') this.kills += 1;
    await new Promise<void>((ok) => {
      child.once('exit', () => ok());
      child.kill(signal);
      if (signal !== 'SIGKILL') setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    });
  }

  lastLog(): string {
    return this.log.slice(-2000);
  }
}
