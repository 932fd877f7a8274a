/**
 * Regulatory notification clocks: durable deadlines counted from the recorded awareness time,
 * with warnings before them, until a human records the filing. Pure: the workflow keeps the
 * clocks in its state (absolute times, so they survive restarts and continue-as-new) and sleeps
 * until the next event these functions name.
 */
import { type BusinessCalendar, deadlineAfter } from './deadlines';
import { durationToMs } from './duration';
import { type Policy, WEEKDAYS } from './policy';
import type { DeterminationRecord, RegulatoryFlag } from './regimes';

export interface RegulatoryClock {
  /** "<regime>/<clock>", e.g. "gdpr-art33/notify-authority". */
  key: string;
  regime: string;
  name: string;
  /** Roles that own the filing: warned before the deadline, allowed to record it. */
  owners: string[];
  awareAt: string;
  /** What the clock counts from, and when that was (awareness, a determination, an earlier filing). */
  startedAt?: string;
  /** How the deadline was reached, in the policy's words, e.g. "4bd from the material determination". */
  dueBecause?: string;
  dueAt: string;
  warnings: { at: string; sent: boolean }[];
  filed?: { at: string; by: string; reference: string };
  /** The determination that started it was reversed: the clock no longer runs. */
  withdrawn?: { at: string; by: string; reason: string };
  /** When the deadline passed without a filing. */
  missedAt?: string;
}

/** The moments clocks can count from: awareness, each determination made, each filing recorded. */
export interface ClockAnchors {
  awareAt: string;
  /** Determination id → when it was made (positive determinations only). */
  determinations: Record<string, string>;
  /** Clock key → when its filing was recorded. */
  filings: Record<string, string>;
}

export function clockAnchors(awareAt: string, determinations: DeterminationRecord[], clocks: RegulatoryClock[]): ClockAnchors {
  const made: Record<string, string> = {};
  for (const d of determinations) {
    if (d.decision) made[d.id] ??= d.at;
    else delete made[d.id];
  }
  return { awareAt, determinations: made, filings: Object.fromEntries(clocks.filter((c) => c.filed).map((c) => [c.key, c.filed!.at])) };
}

function calendarFor(policy: Policy, id: string | undefined): BusinessCalendar | undefined {
  const cal = id === undefined ? undefined : policy.calendars[id];
  return cal && { timeZone: cal.timeZone, weekend: cal.weekend.map((d) => WEEKDAYS.indexOf(d)), holidays: cal.holidays };
}

/**
 * The clocks of the flagged regimes that can start now, each from its anchor (awareness, a
 * determination, an earlier stage's filing); `running` are already there and are kept. A clock
 * whose anchor has not happened yet waits for it.
 */
export function startClocks(flags: RegulatoryFlag[], policy: Policy, anchors: ClockAnchors, running: RegulatoryClock[]): RegulatoryClock[] {
  const started: RegulatoryClock[] = [];
  const anchorOf = (regime: string, from: string): { at: string; what: string } | undefined => {
    const [kind, id] = from.split(':');
    if (kind === 'awareness') return { at: anchors.awareAt, what: 'awareness' };
    if (kind === 'determination') return anchors.determinations[id] ? { at: anchors.determinations[id], what: `the ${id} determination` } : undefined;
    const filed = anchors.filings[`${regime}/${id}`];
    return filed ? { at: filed, what: `the filing of ${regime}/${id}` } : undefined;
  };
  for (const flag of flags) {
    const regime = policy.regulatory.find((r) => r.id === flag.regime);
    for (const clock of regime?.clocks ?? []) {
      const key = `${flag.regime}/${clock.id}`;
      if (running.some((c) => c.key === key && !c.withdrawn) || started.some((c) => c.key === key)) continue;
      const anchor = anchorOf(flag.regime, clock.from);
      if (!anchor) continue;
      const start = Date.parse(anchor.at);
      let due = deadlineAfter(start, clock.due, calendarFor(policy, clock.calendar));
      let dueBecause = `${clock.due} from ${anchor.what}`;
      const limit = clock.notLaterThan && anchorOf(flag.regime, clock.notLaterThan.from);
      if (clock.notLaterThan && limit) {
        const latest = deadlineAfter(Date.parse(limit.at), clock.notLaterThan.due, calendarFor(policy, clock.calendar));
        if (latest < due) {
          due = latest;
          dueBecause = `${clock.notLaterThan.due} from ${limit.what} (earlier than ${clock.due} from ${anchor.what})`;
        }
      }
      started.push({
        key,
        regime: flag.regime,
        name: `${regime!.name}: ${clock.name}`,
        owners: clock.owners,
        awareAt: anchors.awareAt,
        startedAt: anchor.at,
        dueBecause,
        dueAt: new Date(due).toISOString(),
        warnings: clock.warnBefore
          .map((before) => due - durationToMs(before))
          .sort((a, b) => a - b)
          .map((at) => ({ at: new Date(Math.max(at, start)).toISOString(), sent: false })),
      });
    }
  }
  return started;
}

/** A clock still waiting for its filing (neither filed nor withdrawn). */
export function isOpenClock(c: RegulatoryClock): boolean {
  return !c.filed && !c.withdrawn;
}

/**
 * The open clocks a reversed determination withdraws: those of regimes that need it made.
 * (The regime no longer applies; its filings are no longer due.)
 */
export function clocksWithdrawnBy(determination: string, clocks: RegulatoryClock[], policy: Policy): RegulatoryClock[] {
  const regimes = regimesNeeding(determination, policy);
  return clocks.filter((c) => isOpenClock(c) && regimes.includes(c.regime));
}

/** The ids of the regimes that apply only once this determination is made. */
export function regimesNeeding(determination: string, policy: Policy): string[] {
  return policy.regulatory.filter((r) => r.when.determinations?.includes(determination)).map((r) => r.id);
}

/** The next moment a clock needs attention (a warning or its deadline), if any. */
export function nextClockEvent(clocks: RegulatoryClock[]): number | undefined {
  const times: number[] = [];
  for (const c of clocks) {
    if (!isOpenClock(c) || c.missedAt) continue;
    const warning = c.warnings.find((w) => !w.sent);
    times.push(warning ? Math.min(Date.parse(warning.at), Date.parse(c.dueAt)) : Date.parse(c.dueAt));
  }
  return times.length ? Math.min(...times) : undefined;
}

export function openClocks(clocks: RegulatoryClock[]): RegulatoryClock[] {
  return clocks.filter(isOpenClock);
}
