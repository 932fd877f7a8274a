/**
 * Fuzz: the long run of the intake's property tests (test/fuzz-intake.test.ts), which the suite
 * runs short. Runs jest on that file with FUZZ_RUNS runs per property (default 5000) against a
 * real dev server (the suite's global setup), then prints, per property, its runs, time and
 * outcome, and the runs per second. A failing property prints fast-check's counterexample and
 * the exit code is non-zero.
 *
 *   npm run bench:fuzz                     (FUZZ_RUNS=5000)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { emitResult, round } from './result';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5_000);
const ROOT = resolve(__dirname, '..');

interface JestJson {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { title: string; status: string; duration?: number; failureMessages: string[] }[]; message: string }[];
}

function main(): void {
  const out = join(mkdtempSync(join(tmpdir(), 'warden-bench-fuzz-')), 'jest.json');
  const started = Date.now();
  const jest = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), '--runInBand', '--forceExit', '--testTimeout', String(Math.max(120_000, RUNS * 200)), '--json', '--outputFile', out, 'test/fuzz-intake.test.ts'],
    { cwd: ROOT, env: { ...process.env, FUZZ_RUNS: String(RUNS) }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  const seconds = (Date.now() - started) / 1000;
  let result: JestJson;
  try {
    result = JSON.parse(readFileSync(out, 'utf8')) as JestJson;
  } catch {
    console.error(jest.stderr);
    console.error(`fuzz: jest gave no results (exit ${jest.status})`);
    process.exit(1);
  }
  console.log(`fuzz: test/fuzz-intake.test.ts with FUZZ_RUNS=${RUNS} (runs per property), ${seconds.toFixed(0)} s in all`);
  let properties = 0;
  let propertyMs = 0;
  const tests: { title: string; status: string; seconds: number; runs: number | null }[] = [];
  for (const file of result.testResults) {
    for (const t of file.assertionResults) {
      const runs = /nothing was started/.test(t.title) ? 'check' : `${RUNS} runs`;
      if (runs !== 'check') {
        properties += 1;
        propertyMs += t.duration ?? 0;
      }
      tests.push({ title: t.title, status: t.status, seconds: round((t.duration ?? 0) / 1000, 1), runs: runs === 'check' ? null : RUNS });
      console.log(`  ${t.status.padEnd(7)} ${String(((t.duration ?? 0) / 1000).toFixed(1)).padStart(7)} s  ${runs.padEnd(10)} ${t.title}`);
      for (const m of t.failureMessages) console.log(m.split('\n').filter((l) => !/^\s+at /.test(l)).slice(0, 40).join('\n'));
    }
    if (file.message && !file.assertionResults.length) console.log(file.message);
  }
  console.log(`${properties * RUNS} generated inputs in ${(propertyMs / 1000).toFixed(1)} s: ${((properties * RUNS) / (propertyMs / 1000)).toFixed(0)} inputs/s; ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
  emitResult({
    runsPerProperty: RUNS,
    seconds: round(seconds, 1),
    properties,
    inputs: properties * RUNS,
    inputsPerSecond: round((properties * RUNS) / (propertyMs / 1000), 1),
    passed: result.numPassedTests,
    failed: result.numFailedTests,
    tests,
  });
  if (!result.success) {
    console.log(`jest's full report (with fast-check's seed and path for each failure): ${out}`);
    process.exitCode = 1;
  }
}

main();
