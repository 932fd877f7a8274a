/**
 * `npm run bench`: every benchmark in turn, at the sizes issue #6 names (10,000 open cases, 1,000
 * chaos cases: each about 20 minutes on one 2-core machine; the others a few minutes; override any
 * of them through the environment), each writing a JSON record to
 * bench/results/<bench>.json: what ran, with which sizes, on what machine and versions, how long
 * it took, its exit code, its figures as data (`results`: the `BENCH_RESULT {json}` line each
 * bench prints last, see bench/result.ts) and the lines it printed (`printed`, each figure with
 * its ratio to the limit).
 *
 *   npm run bench                     all of them
 *   npm run bench -- chaos storm      some of them
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { RESULT_PREFIX } from './result';

const ROOT = resolve(__dirname, '..');
const RESULTS = join(__dirname, 'results');

/** Each bench and the sizes `npm run bench` gives it unless the environment says otherwise. */
const BENCHES: { name: string; script: string; sizes: Record<string, string> }[] = [
  { name: 'limit', script: 'bench:limit', sizes: { LIMIT_COUNT: '2000', CONCURRENCY: '100' } },
  { name: 'intake', script: 'bench:intake', sizes: { INTAKE_REPORTS: '1000' } },
  { name: 'storm', script: 'bench:storm', sizes: { ALERTS: '10000', FINGERPRINTS: '100', CONCURRENCY: '500' } },
  { name: 'page', script: 'bench:page', sizes: { PAGES: '200' } },
  { name: 'open-cases', script: 'bench:open-cases', sizes: { OPEN_CASES: '10000' } },
  { name: 'chaos', script: 'bench:chaos', sizes: { CASES: '1000' } },
  { name: 'fuzz', script: 'bench:fuzz', sizes: { FUZZ_RUNS: '2000' } },
  { name: 'classify', script: 'bench:classify', sizes: {} },
];

function versions(): Record<string, string> {
  const pkg = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  let temporal = 'unknown';
  try {
    const bin = execFileSync(join(ROOT, 'scripts/temporal'), ['path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    temporal = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // recorded as unknown
  }
  return { node: process.version, '@temporalio/worker': pkg('@temporalio/worker'), temporal };
}

async function run(bench: (typeof BENCHES)[number]): Promise<number> {
  const sizes = Object.fromEntries(Object.entries(bench.sizes).map(([k, v]) => [k, process.env[k] ?? v]));
  const started = new Date();
  const lines: string[] = [];
  const code = await new Promise<number>((done) => {
    const child = spawn('npm', ['run', '-s', bench.script], { cwd: ROOT, env: { ...process.env, ...sizes }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.trim()));
    });
    child.on('close', (c) => {
      if (buffer.trim()) lines.push(buffer);
      done(c ?? 1);
    });
  });
  const resultLine = lines.filter((l) => l.startsWith(RESULT_PREFIX)).pop();
  let results: unknown = null;
  try {
    if (resultLine) results = JSON.parse(resultLine.slice(RESULT_PREFIX.length));
  } catch (err) {
    console.error(`bench ${bench.name}: unreadable ${RESULT_PREFIX.trim()} line: ${(err as Error).message}`);
  }
  const record = {
    bench: bench.name,
    command: `npm run ${bench.script}`,
    sizes,
    startedAt: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 100) / 10,
    exitCode: code,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: process.platform },
    versions: versions(),
    /** The bench's figures as data (null when it printed none, e.g. it failed before the end). */
    results,
    /** What the bench printed: its figures, each with its ratio to the limit measured in the same run. */
    printed: lines.filter((l) => !l.startsWith('{') && !l.startsWith(RESULT_PREFIX) && !/\[(INFO|WARN)\]/.test(l)),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${bench.name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`bench ${bench.name}: exit ${code}, ${record.seconds} s → bench/results/${bench.name}.json`);
  return code;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')} (benches: ${BENCHES.map((b) => b.name).join(', ')})`);
  let failed = 0;
  for (const bench of BENCHES.filter((b) => !wanted.length || wanted.includes(b.name))) if ((await run(bench)) !== 0) failed++;
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
