/**
 * Indicators found in what people send us: URLs (Outlook Safe Links unwrapped), domains, IPs and
 * hashes, each list bounded, and a count of everything seen, kept and dropped. Pure (no I/O, no
 * clock); the mail adapter (src/intake/mail-report.ts) and the Slack report adapter
 * (src/intake/slack-report.ts) both use it, so a Slack report quoting a phishing link carries the
 * same URL indicator as the mail that contained it.
 *
 * Nothing is dropped silently. A candidate is **seen** when it looks like one (an http(s) URL in
 * text, an href, a host); it is **kept** unless it is:
 * - **too long** (a URL over {@link INDICATOR_LIMITS.urlLength} characters, a domain over 253);
 * - **past the cap** (the list already holds its maximum, {@link INDICATOR_LIMITS});
 * - **unparsed** (the URL parser refuses it, a Safe Links wrapper around something unusable, a
 *   link with a scheme Warden does not check such as `javascript:` or `ftp:`).
 * Repeats are seen but neither kept again nor dropped. Parts of a message that could not be read
 * at all (a quoted message cut to fit, an attached message without its body) are listed as
 * `unread`. A false-alarm rule never closes a report whose counts show anything dropped or unread
 * (src/domain/validation.ts): a link Warden did not keep is a link it did not check.
 *
 * Uses only the global URL parser, so it has no Node-only imports; it is not re-exported from the
 * domain index because the case workflow has no use for it.
 */
import type { Indicators } from './report';

export const INDICATOR_LIMITS = { urls: 200, domains: 200, ips: 200, hashes: 200, urlLength: 4_096, domainLength: 253 } as const;

export interface Tally {
  /** Candidates found, repeats included. */
  seen: number;
  kept: number;
  tooLong: number;
  pastCap: number;
  unparsed: number;
}

export interface IndicatorCounts {
  urls: Tally;
  domains: Tally;
  ips: Tally;
  hashes: Tally;
  /** Parts that could not be read for indicators at all, in words. */
  unread?: string[];
}

export type IndicatorKind = 'urls' | 'domains' | 'ips' | 'hashes';
const KINDS: IndicatorKind[] = ['urls', 'domains', 'ips', 'hashes'];

export function emptyTally(): Tally {
  return { seen: 0, kept: 0, tooLong: 0, pastCap: 0, unparsed: 0 };
}

export function droppedOf(t: Tally): number {
  return t.tooLong + t.pastCap + t.unparsed;
}

/**
 * Why the indicators are not the whole story, in one line for the timeline and the description;
 * undefined when every candidate seen was kept (or repeated) and every part was read.
 */
export function incompleteIndicators(counts: IndicatorCounts | undefined): string | undefined {
  if (!counts) return undefined;
  const parts: string[] = [];
  const names: Record<IndicatorKind, [string, string]> = { urls: ['URL', 'URLs'], domains: ['domain', 'domains'], ips: ['IP', 'IPs'], hashes: ['hash', 'hashes'] };
  for (const kind of KINDS) {
    const t = counts[kind];
    const dropped = droppedOf(t);
    if (!dropped) continue;
    const why = [
      t.tooLong ? `${t.tooLong} too long${kind === 'urls' ? ` (over ${thousands(INDICATOR_LIMITS.urlLength)} characters)` : ''}` : '',
      t.pastCap ? `${t.pastCap} past the cap of ${INDICATOR_LIMITS[kind]}` : '',
      t.unparsed ? `${t.unparsed} unparsed` : '',
    ].filter(Boolean);
    parts.push(`${dropped} of ${t.seen} ${names[kind][t.seen === 1 ? 0 : 1]} seen not kept: ${why.join(', ')}`);
  }
  for (const u of counts.unread ?? []) parts.push(`not read: ${u}`);
  return parts.length ? parts.join('; ') : undefined;
}

// ── Finding candidates ────────────────────────────────────────────────────────────────────────

const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`{}|\\^\[\]]+/gi;
const EMAIL = /[A-Z0-9._%+'-]+@((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+[A-Z][A-Z0-9-]{0,61}[A-Z0-9])/gi;
const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)/g;
const HASH = /(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})(?![0-9a-f])/gi;
/** A bare host name in prose: at least two labels, an alphabetic top-level label, not part of a word, path or address. */
const BARE_DOMAIN = /(?<![\w@.\/-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]{1,59}))(?![\w@-]|\.[a-z0-9])/gi;
/** Top-level labels that in prose are far more often file extensions than domains. */
const FILE_EXTENSIONS = new Set(
  'pdf doc docx docm xls xlsx xlsm ppt pptx txt csv rtf exe dll msi zip rar 7z gz tgz tar js mjs json xml html htm png jpg jpeg gif bmp svg eml msg iso img bat cmd ps1 sh py ts md log bin dat tmp ics vbs lnk hta jar apk dmg mov mp4 mp3 wav'.split(
    ' ',
  ),
);

/** http(s) URLs as they appear in text, trailing punctuation taken off. */
export function urlsInText(text: string): string[] {
  return [...text.matchAll(TEXT_URL)].map((m) => m[0].replace(/[.,;:!?)'"\]]+$/, ''));
}

// ── Collecting ────────────────────────────────────────────────────────────────────────────────

/**
 * Collects indicators with their counts. Add candidates in order of importance (the first ones
 * are kept when a list is full); `result()` gives the lists and the counts.
 */
export class IndicatorCollector {
  private readonly lists: Record<IndicatorKind, string[]> = { urls: [], domains: [], ips: [], hashes: [] };
  private readonly seen: Record<IndicatorKind, Set<string>> = { urls: new Set(), domains: new Set(), ips: new Set(), hashes: new Set() };
  private readonly counts: IndicatorCounts = { urls: emptyTally(), domains: emptyTally(), ips: emptyTally(), hashes: emptyTally() };
  /** Hosts of URLs that were not kept, a few, for the description. */
  readonly droppedHosts: string[] = [];

  /** One http(s) URL candidate (from text or an href). */
  addUrl(candidate: string): void {
    const t = this.counts.urls;
    t.seen += 1;
    const url = parseUrl(candidate);
    if (url === 'too-long') return void (t.tooLong += 1);
    if (!url) return void (t.unparsed += 1);
    const href = url.href;
    if (href.length > INDICATOR_LIMITS.urlLength) return void (t.tooLong += 1);
    if (this.seen.urls.has(href)) return;
    if (this.lists.urls.length >= INDICATOR_LIMITS.urls) {
      t.pastCap += 1;
      if (this.droppedHosts.length < 10 && !this.droppedHosts.includes(url.hostname)) this.droppedHosts.push(url.hostname);
      return;
    }
    this.seen.urls.add(href);
    this.lists.urls.push(href);
    t.kept += 1;
    this.addHost(url.hostname);
  }

  /** A link (an href, a form action) in any scheme: http(s) is a URL; mailto:, tel:, cid: and in-page anchors are not indicators; other schemes are counted as unparsed. */
  addLink(candidate: string): void {
    const link = candidate.trim();
    if (!link || link.startsWith('#')) return;
    if (/^https?:/i.test(link)) return this.addUrl(link);
    if (/^(mailto|tel|sms|cid|mid):/i.test(link)) return;
    // Another scheme (javascript:, data:, ftp:, file:…), or a protocol-relative //host link: a link Warden does not check.
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) {
      this.counts.urls.seen += 1;
      this.counts.urls.unparsed += 1;
    }
    // A relative link in a mail goes nowhere by itself.
  }

  /** A host: an IP literal or a domain name. */
  addHost(host: string): void {
    const bare = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    if (!bare) return;
    if (isIpLiteral(bare)) this.addIp(bare);
    else this.addDomain(bare);
  }

  addDomain(domain: string): void {
    const t = this.counts.domains;
    t.seen += 1;
    const d = asciiDomain(domain);
    if (d === 'too-long') return void (t.tooLong += 1);
    if (!d) return void (t.unparsed += 1);
    this.keep('domains', d);
  }

  addIp(ip: string): void {
    const t = this.counts.ips;
    t.seen += 1;
    const bare = ip.replace(/^\[|\]$/g, '');
    if (!isIpLiteral(bare)) return void (t.unparsed += 1);
    this.keep('ips', bare.toLowerCase());
  }

  /** An MD5, SHA-1 or SHA-256 hex digest. */
  addHash(hash: string): void {
    const t = this.counts.hashes;
    t.seen += 1;
    if (!/^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i.test(hash)) return void (t.unparsed += 1);
    this.keep('hashes', hash.toLowerCase());
  }

  /**
   * Everything in free text: URLs first, then in what remains e-mail addresses' domains, IPv4
   * addresses, hex digests and bare domain names.
   */
  addText(text: string): void {
    for (const url of urlsInText(text)) this.addUrl(url);
    const rest = text.replace(TEXT_URL, ' ');
    for (const m of rest.matchAll(EMAIL)) this.addDomain(m[1]);
    const prose = rest.replace(EMAIL, ' ');
    for (const m of prose.matchAll(IPV4)) if (isIpLiteral(m[0])) this.addIp(m[0]);
    for (const m of prose.matchAll(HASH)) this.addHash(m[0]);
    for (const m of prose.replace(HASH, ' ').matchAll(BARE_DOMAIN)) {
      const tld = m[1].slice(m[1].lastIndexOf('.') + 1).toLowerCase();
      if (!FILE_EXTENSIONS.has(tld)) this.addDomain(m[1]);
    }
  }

  /** A part that could not be read for indicators at all. */
  markUnread(what: string): void {
    (this.counts.unread ??= []).push(what);
  }

  result(): { indicators: Indicators; counts: IndicatorCounts } {
    return {
      indicators: { urls: [...this.lists.urls], domains: [...this.lists.domains], ips: [...this.lists.ips], hashes: [...this.lists.hashes] },
      counts: structuredCopy(this.counts),
    };
  }

  private keep(kind: IndicatorKind, value: string): void {
    const t = this.counts[kind];
    if (this.seen[kind].has(value)) return;
    if (this.lists[kind].length >= INDICATOR_LIMITS[kind]) return void (t.pastCap += 1);
    this.seen[kind].add(value);
    this.lists[kind].push(value);
    t.kept += 1;
  }
}

/** Indicators and their counts in free text (a Slack report, a reporter's note). */
export function indicatorsInText(...texts: string[]): { indicators: Indicators; counts: IndicatorCounts } {
  const c = new IndicatorCollector();
  for (const text of texts) c.addText(text);
  return c.result();
}

// ── Parsing ───────────────────────────────────────────────────────────────────────────────────

/** An http(s) URL with its host, Outlook Safe Links unwrapped; 'too-long', or undefined when unusable. */
function parseUrl(candidate: string): URL | 'too-long' | undefined {
  if (candidate.length > INDICATOR_LIMITS.urlLength) return 'too-long';
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return undefined;
  }
  if (/\.safelinks\.protection\.outlook\.com$/i.test(url.hostname) && url.searchParams.get('url')) {
    const inner = url.searchParams.get('url')!;
    if (inner.length > INDICATOR_LIMITS.urlLength) return 'too-long';
    try {
      url = new URL(inner);
    } catch {
      return undefined;
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!url.hostname) return undefined;
  return url;
}

function isIpLiteral(s: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s)) return s.split('.').every((p) => Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
  if (!s.includes(':') || !/^[0-9a-f:.]+$/i.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** The domain as it appears on the wire (punycode for an internationalized one), 'too-long', or undefined. */
function asciiDomain(domain: string): string | 'too-long' | undefined {
  const d = domain.trim().replace(/\.$/, '').toLowerCase();
  if (!d || /[\s/?#@:\[\]\\%]/.test(d)) return undefined;
  if (d.length > 1_000) return 'too-long';
  let ascii: string;
  try {
    ascii = new URL(`http://${d}/`).hostname;
  } catch {
    return undefined;
  }
  if (ascii.length > INDICATOR_LIMITS.domainLength) return 'too-long';
  return /^[a-z0-9.-]+$/.test(ascii) && ascii.includes('.') && !isIpLiteral(ascii) ? ascii : undefined;
}

/** 4096 → "4,096" (no Intl: this module may run anywhere). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function structuredCopy(c: IndicatorCounts): IndicatorCounts {
  return {
    urls: { ...c.urls },
    domains: { ...c.domains },
    ips: { ...c.ips },
    hashes: { ...c.hashes },
    ...(c.unread?.length ? { unread: [...c.unread] } : {}),
  };
}
