/**
 * Facts from a report: what its fields say, and what its words say, each with where it came
 * from (a field, or the span of text that states it), so a responder can check the reading.
 *
 * - people or records affected: the report's `affected` field, else a count the text states
 *   ("the ePHI of 640,436 individuals" → 640436; "4.5 million customers" → 4500000);
 * - data kinds: the report's `dataClasses`, the classes each named asset holds (the inventory's
 *   `dataClasses`), and kinds the text names (SSNs, card numbers, PHI, credentials);
 * - inventory assets named in the text (whole words; exact ids, not prefix patterns);
 * - accounts named in the text ("user jdoe", "a successful root login");
 * - activity signals the policy names (successful login after failures, beaconing, encryption of
 *   files, data staged or sent out…), by their phrases.
 *
 * Facts come from the report's own words only: what it quotes (a forwarded phish, a reported
 * message) is the attacker's, and states nothing about this incident (see ownWords).
 *
 * Pure and bounded: every pattern is linear in the text, and the text read is capped.
 */
import { detectDataClasses } from './data-classes';
import { findAsset, type Policy } from './policy';

/** How much of a report's text the readers look at (the report schema allows 20,000 characters). */
const MAX_TEXT = 20_000;

export interface AffectedFact {
  count: number;
  /** "field affected", "users field (n accounts)", or `text "…"` with the words that state it. */
  from: string;
}

export interface DataClassFact {
  dataClass: string;
  from: string;
}

export interface SignalFact {
  signal: string;
  from: string;
}

export interface ReportFacts {
  affected?: AffectedFact;
  dataClasses: DataClassFact[];
  /** Inventory assets the text names that the report's `assets` field did not. */
  assetsNamed: { asset: string; from: string }[];
  /** Accounts the text names ("user jdoe", "the account svc-backup", "a root login") that the `users` field did not. */
  usersNamed: { user: string; from: string }[];
  signals: SignalFact[];
}

export interface FactSources {
  title: string;
  description: string;
  assets: string[];
  users: string[];
  dataClasses: string[];
  /** People or records affected, as the report (or a responder) states it. */
  affected?: number;
  /** Signals a structured source's type implies (the policy's sourceTypes table). */
  signals?: SignalFact[];
}

// ── People or records affected ─────────────────────────────────────────────────────────────

const PEOPLE =
  'individuals?|patients?|people|persons?|members?|residents?|customers?|clients?|consumers?|employees?|beneficiar(?:y|ies)|enrollees?|participants?|subscribers?|users?|accounts?|records?|veterans?|students?|children|minors|donors?|applicants?|policyholders?|insureds?|cardholders?|citizens?|victims?|families|households?|members?';
/** A number, written with separators or as "4.5 million", then up to five words, then who. */
const COUNT = new RegExp(
  `(?<![\\w.,$])(\\d{1,3}(?:,\\d{3})+|\\d+(?:\\.\\d+)?)(\\s*(?:million|thousand|m\\b|k\\b))?((?:\\s+[\\w'’()-]+){0,5}?)\\s+(${PEOPLE})\\b`,
  'gi',
);
/** Words between the number and the noun that mean it is not a count of those people. */
const NOT_A_COUNT = /\b(years?|days?|hours?|minutes?|months?|weeks?|percent|%|pages?|boxes|files|emails?|laptops?|computers?|servers?|devices?|locations?|offices?|states?|dollars?|\$)\b/i;
const YEARS = /^(19|20)\d\d$/;

function parseCount(digits: string, scale: string | undefined): number | undefined {
  const base = Number(digits.replace(/,/g, ''));
  if (!Number.isFinite(base)) return undefined;
  const unit = scale?.trim().toLowerCase();
  const n = unit === 'million' || unit === 'm' ? base * 1_000_000 : unit === 'thousand' || unit === 'k' ? base * 1_000 : base;
  return Number.isInteger(n) || unit ? Math.round(n) : undefined;
}

/** Words just before a count that tie it to the incident ("affecting", "the PHI of", "involved"). */
const INCIDENT_CONTEXT = /\b(affect\w*|impact\w*|involv\w*|compromis\w*|expos\w*|breach\w*|access\w*|disclos\w*|stolen|(information|data|records|phi|ephi|pii)\s*\)?\s+of|of\s+(approximately|about|roughly|nearly|over|more than|up to|an estimated))\W*(approximately|about|roughly|nearly|over|more than|up to|an estimated)?\W*$/i;

/**
 * The count of people or records the text states, with its words. A count tied to the incident
 * by the words before it ("affecting 2,339 individuals", "the PHI of 1,208 individuals") wins
 * over one that is not ("the email accounts of 11 staff members"); among equals, the first.
 */
export function affectedInText(text: string): AffectedFact | undefined {
  const t = text.slice(0, MAX_TEXT);
  let best: { fact: AffectedFact; tied: boolean } | undefined;
  for (const m of t.matchAll(COUNT)) {
    const [span, digits, scale, between] = m;
    if (!scale && YEARS.test(digits) && between?.trim()) continue;
    if (between && NOT_A_COUNT.test(between)) continue;
    if (/^\s*(of|in|from|at)\b/i.test(between ?? '') && !/\b(the|its|their|our)\b/i.test(between ?? '')) continue;
    const count = parseCount(digits, scale);
    if (count === undefined || count < 1) continue;
    const tied = INCIDENT_CONTEXT.test(t.slice(Math.max(0, m.index! - 60), m.index));
    if (!best || (tied && !best.tied)) best = { fact: { count, from: `text "${span.trim().slice(0, 120)}"` }, tied };
    if (best.tied) break;
  }
  return best?.fact;
}

// ── Assets named in the text ───────────────────────────────────────────────────────────────

/** Inventory assets (exact ids; prefix patterns match the host names the text uses) the text names. */
export function assetsInText(text: string, policy: Pick<Policy, 'assets'>): { asset: string; from: string }[] {
  const t = text.slice(0, MAX_TEXT);
  const found = new Map<string, string>();
  for (const m of t.matchAll(/[A-Za-z0-9][A-Za-z0-9._-]{1,100}/g)) {
    const word = m[0].replace(/[._-]+$/, '');
    if (found.has(word)) continue;
    const asset = findAsset(policy as Policy, word);
    if (!asset) continue;
    // A prefix pattern ("db-prod-*") names a host only when the word goes beyond the prefix.
    if (asset.id.endsWith('*') && word.length <= asset.id.length - 1) continue;
    found.set(word, `text "${word}"`);
    if (found.size >= 50) break;
  }
  return [...found].map(([asset, from]) => ({ asset, from }));
}

// ── Accounts named in the text ─────────────────────────────────────────────────────────────

/** An account id after "user", "account"…: quoted, or shaped like one (a digit, a dot, a dash, an underscore or an @ in it). */
const ACCOUNT = /\b(?:user(?:name)?|account|login|mailbox|service account)\s*:?\s+(?:["'“‘]([a-z][a-z0-9._@-]{1,63})["'”’]|([a-z][a-z0-9]*[._@-][a-z0-9._@-]*[a-z0-9]|[a-z]+\d[a-z0-9]*)\b)/gi;
const PRIVILEGED = /\b(root|administrator|domain admin)\s+(?:log ?in|logon|sign[- ]?in|account|access|session)s?\b/gi;
const NOT_AN_ACCOUNT = new Set([
  'a', 'an', 'the', 'and', 'or', 'of', 'to', 'in', 'on', 'at', 'for', 'from', 'with', 'by', 'was', 'were', 'is', 'are', 'has', 'had', 'have', 'that',
  'this', 'which', 'who', 'whose', 'their', 'his', 'her', 'its', 'our', 'your', 'my', 'credentials', 'information', 'data', 'details', 'attempts',
  'accounts', 'users', 'names', 'name', 'access', 'activity', 'page', 'portal', 'error', 'errors', 'failures', 'failed', 'successful', 'as', 'after',
  'before', 'into', 'logins', 'login', 'password', 'passwords', 'number', 'numbers', 'id', 'ids', 'records', 'may', 'could', 'not', 'then', 'being',
]);

/** Accounts the text names, each with its words (at most 50). */
export function usersInText(text: string): { user: string; from: string }[] {
  const t = text.slice(0, MAX_TEXT);
  const found = new Map<string, string>();
  for (const re of [PRIVILEGED, ACCOUNT])
    for (const m of t.matchAll(re)) {
      const user = (m[1] ?? m[2]).toLowerCase().replace(/[._-]+$/, '');
      if (user.length < 2 || NOT_AN_ACCOUNT.has(user) || found.has(user)) continue;
      found.set(user, `text "${m[0].slice(0, 80)}"`);
      if (found.size >= 50) return [...found].map(([u, from]) => ({ user: u, from }));
    }
  return [...found].map(([user, from]) => ({ user, from }));
}

// ── Activity signals ───────────────────────────────────────────────────────────────────────

/** The policy's activity signals whose phrases the text contains. */
export function signalsInText(text: string, policy: Pick<Policy, 'severity'>): SignalFact[] {
  const t = text.slice(0, MAX_TEXT);
  const out: SignalFact[] = [];
  for (const signal of policy.severity.signals) {
    for (const phrase of signal.phrases) {
      const m = new RegExp(phrase, 'i').exec(t);
      if (m) {
        out.push({ signal: signal.id, from: `text "${m[0].slice(0, 120)}"` });
        break;
      }
    }
  }
  return out;
}

// ── Whose words ────────────────────────────────────────────────────────────────────────────

/**
 * Where a report quotes someone else's words: the suspicious mail a person forwarded (its subject
 * and its text), the Slack message a person reported, the message a feedback report is about. They
 * are the attacker's words, not a statement of what happened: a phish that says "5 million
 * customers' SSNs" or "your files were encrypted" states no scale, no data involved and no activity.
 * The intake adapters write these markers (src/intake/mail-report.ts, slack-report.ts).
 */
export const QUOTED_MARKERS = ['\nSuspicious message:\n', '\nReported message:\n', '\n--- Reported Slack message ---\n'] as const;
/** A mail report's title quotes the suspicious mail's subject. */
export const QUOTED_TITLE = /^Reported email: /;

/** The report's own words: its title and description without what they quote. */
export function ownWords(title: string, description: string): string {
  const cut = Math.min(...QUOTED_MARKERS.map((m) => description.indexOf(m)).filter((i) => i >= 0), description.length);
  return `${QUOTED_TITLE.test(title) ? '' : title}\n${description.slice(0, cut)}`;
}

// ── All of it ──────────────────────────────────────────────────────────────────────────────

/** Every fact triage weighs, from the report's fields and its words. */
export function reportFacts(sources: FactSources, policy: Policy): ReportFacts {
  const text = ownWords(sources.title, sources.description);
  const assetsNamed = assetsInText(text, policy).filter((a) => !sources.assets.includes(a.asset));
  const assets = [...sources.assets, ...assetsNamed.map((a) => a.asset)];

  const dataClasses: DataClassFact[] = [];
  const addClass = (dataClass: string, from: string) => {
    if (!dataClasses.some((d) => d.dataClass === dataClass)) dataClasses.push({ dataClass, from });
  };
  for (const c of sources.dataClasses) addClass(c, 'field dataClasses');
  for (const id of assets) for (const c of findAsset(policy, id)?.dataClasses ?? []) addClass(c, `asset ${id} holds ${c} data (inventory)`);
  for (const d of detectDataClasses(text.slice(0, MAX_TEXT))) addClass(d.dataClass, `text "${d.phrase}"`);

  let affected: AffectedFact | undefined =
    sources.affected !== undefined ? { count: sources.affected, from: 'field affected' } : affectedInText(text);
  if (sources.users.length > (affected?.count ?? 0)) affected = { count: sources.users.length, from: `field users (${sources.users.length} accounts)` };

  const usersNamed = usersInText(text).filter((u) => !sources.users.includes(u.user));

  const signals = [...(sources.signals ?? [])];
  for (const s of signalsInText(text, policy)) if (!signals.some((x) => x.signal === s.signal)) signals.push(s);

  return { affected, dataClasses, assetsNamed, usersNamed, signals };
}
