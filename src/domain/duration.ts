/**
 * Durations in policy are written the way Temporal's own APIs accept them: "90s", "15m", "4h",
 * "3d", "500ms". They are kept as strings (readable in the policy and in workflow history) and
 * converted to milliseconds only where arithmetic is needed, e.g. absolute SLA deadlines.
 */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function isDuration(text: string): boolean {
  return DURATION.test(text.trim());
}

export function durationToMs(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 30s, 15m, 4h, 3d)`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

/** A short human form of a millisecond span, for timelines and notices. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${ms}ms`;
  if (abs < 60_000) return `${Math.round(ms / 100) / 10}s`;
  if (abs < 3_600_000) return `${Math.round(ms / 6_000) / 10}m`;
  if (abs < 86_400_000) return `${Math.round(ms / 360_000) / 10}h`;
  return `${Math.round(ms / 8_640_000) / 10}d`;
}
