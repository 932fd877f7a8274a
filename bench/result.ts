/**
 * A bench's figures as data: each bench prints, as its last line, `BENCH_RESULT {json}`, and
 * bench/run.ts files that object under `results` in bench/results/<bench>.json (the
 * human-readable lines go under `printed`). Numbers only where a number is meant: rates per
 * second, latencies in ms, ratios to the limit measured in the same run, counts, sizes in bytes.
 */
import type { Limit, Rate } from './limit';

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Round to 3 significant decimals for the record (NaN and ±Infinity become null in JSON anyway). */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function rateResult(r: Rate): { perSecond: number; p50Ms: number; p99Ms: number } {
  return { perSecond: round(r.perSecond, 1), p50Ms: round(r.p50, 1), p99Ms: round(r.p99, 1) };
}

export function limitResult(limit: Limit) {
  return { count: limit.count, concurrency: limit.concurrency, starts: rateResult(limit.starts), signals: rateResult(limit.signals) };
}

/** Print the bench's structured figures: the last line of its output. */
export function emitResult(results: Record<string, unknown>): void {
  console.log(`${RESULT_PREFIX}${JSON.stringify(results)}`);
}
