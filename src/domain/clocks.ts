/**
 * Regulatory notification clocks: durable deadlines counted from the recorded awareness time,
 * with warnings before them, until a human records the filing. Pure: the workflow keeps the
 * clocks in its state (absolute times, so they survive restarts and continue-as-new) and sleeps
 * until the next event these functions name.
 */
import { durationToMs } from './duration';
import type { Policy } from './policy';
import type { RegulatoryFlag } from './triage';

export interface RegulatoryClock {
  /** "<regime>/<clock>", e.g. "gdpr-art33/notify-authority". */
  key: string;
  regime: string;
  name: string;
  /** Roles that own the filing: warned before the deadline, allowed to record it. */
  owners: string[];
  awareAt: string;
  dueAt: string;
  warnings: { at: string; sent: boolean }[];
  filed?: { at: string; by: string; reference: string };
  /** When the deadline passed without a filing. */
  missedAt?: string;
}

/** The clocks the flagged regimes start, from the awareness time; `running` are already there and are kept. */
export function startClocks(flags: RegulatoryFlag[], policy: Policy, awareAt: string, running: RegulatoryClock[]): RegulatoryClock[] {
  const started: RegulatoryClock[] = [];
  const aware = Date.parse(awareAt);
  for (const flag of flags) {
    const regime = policy.regulatory.find((r) => r.id === flag.regime);
    for (const clock of regime?.clocks ?? []) {
      const key = `${flag.regime}/${clock.id}`;
      if (running.some((c) => c.key === key) || started.some((c) => c.key === key)) continue;
      const due = aware + durationToMs(clock.due);
      started.push({
        key,
        regime: flag.regime,
        name: `${regime!.name}: ${clock.name}`,
        owners: clock.owners,
        awareAt,
        dueAt: new Date(due).toISOString(),
        warnings: clock.warnBefore
          .map((before) => due - durationToMs(before))
          .sort((a, b) => a - b)
          .map((at) => ({ at: new Date(Math.max(at, aware)).toISOString(), sent: false })),
      });
    }
  }
  return started;
}

/** The next moment a clock needs attention (a warning or its deadline), if any. */
export function nextClockEvent(clocks: RegulatoryClock[]): number | undefined {
  const times: number[] = [];
  for (const c of clocks) {
    if (c.filed || c.missedAt) continue;
    const warning = c.warnings.find((w) => !w.sent);
    times.push(warning ? Math.min(Date.parse(warning.at), Date.parse(c.dueAt)) : Date.parse(c.dueAt));
  }
  return times.length ? Math.min(...times) : undefined;
}

export function openClocks(clocks: RegulatoryClock[]): RegulatoryClock[] {
  return clocks.filter((c) => !c.filed);
}
