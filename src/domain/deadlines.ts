/**
 * Deadlines as regulations write them: a span of time ("72h"), calendar months ("1mo": the same
 * day of the month after), or business days ("4bd": the end of the fourth business day after the
 * start, in a named calendar's time zone, skipping its weekend and holidays). Pure and
 * deterministic: the time-zone arithmetic uses only `Intl`, with the start instant as input.
 */
import { durationToMs, isDuration } from './duration';

export interface BusinessCalendar {
  /** IANA time zone whose local days count, e.g. "America/New_York". */
  timeZone: string;
  /** Days that are not business days, as 0 (Sunday) … 6 (Saturday). */
  weekend: number[];
  /** Local dates (YYYY-MM-DD) that are not business days. */
  holidays: string[];
}

const MONTHS = /^(\d+)\s*mo$/;
const BUSINESS_DAYS = /^(\d+)\s*bd$/;

export function isDeadline(text: string): boolean {
  const t = text.trim();
  return isDuration(t) || MONTHS.test(t) || BUSINESS_DAYS.test(t);
}

export function needsCalendar(text: string): boolean {
  return BUSINESS_DAYS.test(text.trim());
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The instant a deadline written as `due` falls on, counted from `startMs`. */
export function deadlineAfter(startMs: number, due: string, calendar?: BusinessCalendar): number {
  const text = due.trim();
  const months = MONTHS.exec(text);
  if (months) return addMonths(startMs, Number(months[1]));
  const days = BUSINESS_DAYS.exec(text);
  if (days) {
    if (!calendar) throw new Error(`"${due}" counts business days and needs a calendar`);
    return endOfBusinessDay(startMs, Number(days[1]), calendar);
  }
  return startMs + durationToMs(text);
}

/** The same time of day, `n` months later; the month's last day when the day does not exist. */
function addMonths(startMs: number, n: number): number {
  const d = new Date(startMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

interface LocalDate {
  y: number;
  m: number; // 1–12
  d: number;
}

function localParts(ms: number, timeZone: string): LocalDate & { hh: number; mm: number; ss: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), m: get('month'), d: get('day'), hh: get('hour'), mm: get('minute'), ss: get('second') };
}

/** The zone's offset from UTC at an instant, in ms (local = utc + offset). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant local midnight starts the given date in the zone. */
function startOfLocalDay(date: LocalDate, timeZone: string): number {
  const guess = Date.UTC(date.y, date.m - 1, date.d);
  let instant = guess - offsetAt(guess, timeZone);
  // Across an offset change the first guess can be an hour out; one correction settles it.
  instant = guess - offsetAt(instant, timeZone);
  return instant;
}

function nextDate(date: LocalDate): LocalDate {
  const next = new Date(Date.UTC(date.y, date.m - 1, date.d + 1));
  return { y: next.getUTCFullYear(), m: next.getUTCMonth() + 1, d: next.getUTCDate() };
}

const iso = (date: LocalDate) => `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;

export function isBusinessDay(date: LocalDate, calendar: BusinessCalendar): boolean {
  const weekday = new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
  return !calendar.weekend.includes(weekday) && !calendar.holidays.includes(iso(date));
}

/** The last instant of the `n`th business day after the local day `startMs` falls on. */
function endOfBusinessDay(startMs: number, n: number, calendar: BusinessCalendar): number {
  const p = localParts(startMs, calendar.timeZone);
  let date: LocalDate = { y: p.y, m: p.m, d: p.d };
  for (let counted = 0; counted < n; ) {
    date = nextDate(date);
    if (isBusinessDay(date, calendar)) counted += 1;
  }
  return startOfLocalDay(nextDate(date), calendar.timeZone) - 1;
}
