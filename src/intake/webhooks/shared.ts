/**
 * What every tool-webhook adapter shares: authentication by shared token (compared in constant
 * time), parsing a body with zod into 400s that name the field, and the small normalizers that
 * turn vendor values into what ReportInput accepts: text clipped to its limits rather than
 * refused, indicators checked one by one (an invalid one is dropped, not fatal), timestamps in
 * ISO-8601 with a zone, and explicit dedupe keys that fit the fingerprint field.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { describeIssues, type Indicators } from '../../domain';
import { HttpError, parseJson } from '../http';

/** ReportInput's limits (src/domain/report.ts), applied by clipping. */
export const LIMITS = {
  title: 300,
  description: 20_000,
  source: 100,
  reporter: 200,
  asset: 200,
  assets: 1_000,
  user: 200,
  users: 100_000,
  externalId: 300,
  fingerprint: 300,
  categoryHint: 100,
  sourceType: 200,
  sourceTypes: 20,
  domain: 253,
  /** Not a ReportInput limit: a sanity bound per indicator kind from one payload. */
  indicatorsPerKind: 1_000,
} as const;

// ---------------------------------------------------------------------------------------------
// Authentication

/** How a token source is configured. */
export interface TokenOptions {
  /** The accepted token, or several while one is being rotated out. Empty strings are ignored. */
  token?: string | string[];
  /**
   * Only when no token is configured: accept requests without any authentication (local use).
   * The default is false, so a source someone forgot to configure refuses everything with
   * 401 "not configured" instead of silently taking unauthenticated reports from anyone who can
   * reach the intake. A configured token is always required, whatever this says.
   */
  allowUnauthenticated?: boolean;
}

export function tokenList(token: string | string[] | undefined): string[] {
  return (Array.isArray(token) ? token : token === undefined ? [] : [token]).filter((t) => t.length > 0);
}

/**
 * Equality of two secrets in constant time. Both sides are hashed first, so the comparison
 * neither throws on different lengths nor leaks the expected length.
 */
export function safeEqual(provided: string, expected: string): boolean {
  const a = createHash('sha256').update(provided, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * A check of a presented token against the configured ones; throws HttpError 401 when refused.
 * `where` names where the token is expected, for the refusal's reason.
 */
export function tokenCheck(options: TokenOptions, where: string): (provided: string | undefined) => void {
  const tokens = tokenList(options.token);
  return (provided) => {
    if (tokens.length === 0) {
      if (options.allowUnauthenticated) return;
      throw new HttpError(401, 'not configured', ['this source has no token configured, so it accepts nothing']);
    }
    if (provided === undefined || provided === '') throw new HttpError(401, 'missing token', [`expected ${where}`]);
    // Compare with every configured token, without stopping at the first match.
    let ok = false;
    for (const token of tokens) ok = safeEqual(provided, token) || ok;
    if (!ok) throw new HttpError(401, 'invalid token', [`${where} does not match`]);
  };
}

/** The one value of a request header (the first, if it was sent more than once). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The header tool webhooks (GuardDuty via EventBridge, OCSF, Defender) present their token in. */
export const TOKEN_HEADER = 'X-Warden-Token';

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parse a raw JSON body with a zod schema; 400 "invalid <what>" with one reason per problem and its path. */
export function parseBody<S extends z.ZodTypeAny>(raw: Buffer, schema: S, what: string): z.infer<S> {
  return parseValue(parseJson(raw), schema, what);
}

export function parseValue<S extends z.ZodTypeAny>(value: unknown, schema: S, what: string, pathPrefix: (string | number)[] = []): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const error = pathPrefix.length
      ? new z.ZodError(result.error.issues.map((issue) => ({ ...issue, path: [...pathPrefix, ...issue.path] })))
      : result.error;
    throw new HttpError(400, `invalid ${what}`, describeIssues(error));
  }
  return result.data;
}

/** A string a vendor may send as null or omit. */
export const optionalText = z.string().nullish();

/** An RFC 3339 timestamp with a zone (any number of fractional digits). */
export const rfc3339 = z.string().datetime({ offset: true, message: 'an RFC 3339 timestamp with a zone, e.g. 2026-11-25T08:00:00Z' });

// ---------------------------------------------------------------------------------------------
// Text

/** Trimmed, and clipped to `max` UTF-16 units with an ellipsis; never splits a surrogate pair. */
export function clip(text: string, max: number): string {
  const trimmed = text.trim();
  if (trimmed.length <= max) return trimmed;
  let cut = trimmed.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…`;
}

/** One line of at most `max` characters: runs of whitespace (newlines too) become one space. */
export function oneLine(text: string, max: number): string {
  return clip(text.replace(/\s+/g, ' '), max);
}

/** The first of the candidates that has text. */
export function firstText(...candidates: (string | null | undefined)[]): string | undefined {
  for (const c of candidates) if (typeof c === 'string' && c.trim()) return c;
  return undefined;
}

/** Paragraphs joined by a blank line, empty ones left out, clipped to the description limit. */
export function paragraphs(...parts: (string | null | undefined | false)[]): string {
  return clip(parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '').join('\n\n'), LIMITS.description);
}

/** Distinct, trimmed, non-empty names, each clipped, the list bounded. */
export function names(values: Iterable<string | null | undefined>, each: number, most: number): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const name = clip(value, each);
    if (name) out.add(name);
    if (out.size >= most) break;
  }
  return [...out];
}

export const assetNames = (values: Iterable<string | null | undefined>) => names(values, LIMITS.asset, LIMITS.assets);
export const userNames = (values: Iterable<string | null | undefined>) => names(values, LIMITS.user, LIMITS.users);
/**
 * The report's source-type fields (ReportInput.sourceType and sourceTypes) from the tool's
 * candidates, most telling first: the first with text is `sourceType`, the others (distinct,
 * clipped, at most 20) `sourceTypes`. Blank candidates are dropped; none gives neither field.
 */
export function sourceTypeFields(candidates: Iterable<string | null | undefined>): { sourceType?: string; sourceTypes?: string[] } {
  const [sourceType, ...more] = names(candidates, LIMITS.sourceType, LIMITS.sourceTypes + 1);
  if (sourceType === undefined) return {};
  return more.length ? { sourceType, sourceTypes: more } : { sourceType };
}

// ---------------------------------------------------------------------------------------------
// Indicators

// The same check ReportInput applies to indicators.ips, so a kept IP is never refused later.
const ipCheck = z.string().ip();
const HASH = /^([a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64})$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
const URL_SCHEMES = new Set(['http:', 'https:', 'ftp:']);
const UNSPECIFIED = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

export function isIp(value: string): boolean {
  return ipCheck.safeParse(value).success;
}

/** A DNS name with at least two labels and an alphabetic (or IDNA) top-level label. */
export function isDomain(value: string): boolean {
  if (value.length === 0 || value.length > LIMITS.domain) return false;
  const labels = value.split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && TLD.test(labels[labels.length - 1]);
}

/** An absolute http(s) or ftp URL with a host. */
export function isUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return URL_SCHEMES.has(url.protocol) && url.hostname.length > 0 && !/\s/.test(value);
  } catch {
    return false;
  }
}

export function isHash(value: string): boolean {
  return HASH.test(value);
}

/**
 * Collects indicators from a payload. Each value is checked on the way in; one that fails is
 * dropped (a vendor's odd value must not cost the whole report), duplicates are kept once.
 */
export class IndicatorSet {
  private readonly ips = new Set<string>();
  private readonly domains = new Set<string>();
  private readonly urls = new Set<string>();
  private readonly hashes = new Set<string>();

  private static add(set: Set<string>, value: string | undefined): void {
    if (value !== undefined && set.size < LIMITS.indicatorsPerKind) set.add(value);
  }

  /** An IP address; the unspecified address (0.0.0.0, ::), a placeholder in sanitized samples, is no indicator. */
  ip(value: unknown): this {
    const v = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    IndicatorSet.add(this.ips, v && isIp(v) && !UNSPECIFIED.has(v) ? v : undefined);
    return this;
  }

  domain(value: unknown): this {
    const v = typeof value === 'string' ? value.trim().toLowerCase().replace(/\.$/, '') : undefined;
    IndicatorSet.add(this.domains, v && !isIp(v) && isDomain(v) ? v : undefined);
    return this;
  }

  url(value: unknown): this {
    const v = typeof value === 'string' ? value.trim() : undefined;
    IndicatorSet.add(this.urls, v && isUrl(v) ? v : undefined);
    return this;
  }

  hash(value: unknown): this {
    const v = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    IndicatorSet.add(this.hashes, v && isHash(v) ? v : undefined);
    return this;
  }

  toJSON(): Indicators {
    return { ips: [...this.ips], domains: [...this.domains], urls: [...this.urls], hashes: [...this.hashes] };
  }
}

// ---------------------------------------------------------------------------------------------
// Time and keys

/** An ISO-8601 UTC timestamp for a value that is a parseable RFC 3339 string, else undefined. */
export function isoFromText(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string' || !rfc3339.safeParse(value).success) return undefined;
  return isoFromMs(Date.parse(value));
}

/** An ISO-8601 UTC timestamp for epoch milliseconds, if that is a real date after 1970. */
export function isoFromMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

/**
 * An explicit dedupe key, namespaced by the source so two tools' ids never meet. A key longer
 * than the fingerprint field allows is replaced by its SHA-256 (still stable, still unique).
 */
export function dedupeKey(source: string, ...parts: (string | null | undefined)[]): string {
  const key = `${source}:${parts.map((p) => p ?? '').join('|')}`;
  return key.length <= LIMITS.fingerprint ? key : `${source}:sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** A value of a loosely typed field as strings: text as is, numbers and booleans printed, lists flattened. */
export function textValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : []));
  return [];
}
