/**
 * The campaign key: what makes reports that arrive through different channels about one phishing
 * campaign (or one tool's finding on the same URL or file) land on one case. Pure and
 * deterministic; the filer (src/intake/filing.ts) computes a report's anchors and files it to the
 * open case that already holds any of them.
 *
 * A report has **anchors**, at most {@link MAX_REPORT_ANCHORS}:
 * - one per **attachment or file hash** in its indicators (`h:`), first (not an empty file's);
 * - one per **URL** in its indicators, normalized (`u:`), next. A bare origin (`https://host/`
 *   with no query left) is not an anchor: a home-page link ties unrelated mails together;
 * - only when there is neither: the suspicious mail's **sender domain with its subject** (`m:`,
 *   the claimed From domain the mail adapter records, and the report's title, lower-cased with
 *   its spaces collapsed). A Slack report has no sender, so it anchors on the URLs it quotes.
 * Hashes and URLs go in the order the report lists them (the adapters list a mail's links as they
 * appear, its call to action before its footer), repeats after normalization dropped, so the
 * same mail gives the same anchors to everyone who reports it, and the cap keeps the first ones.
 * Each anchor is its kind and the first 24 hex digits of the SHA-256 of the
 * canonical value: short enough for a KeywordList search attribute (`WardenCampaign`), and no URL
 * (nor a recipient's token) is written into visibility.
 *
 * **URL normalization** ({@link campaignUrl}): scheme and host lower-cased (the URL parser does
 * it, and writes internationalized hosts in punycode), the default port dropped, a trailing dot on
 * the host dropped, user name and password dropped, the fragment dropped, and of the query:
 * - dropped: every `utm_*` parameter, the known click trackers ({@link TRACKING_PARAMS}), the
 *   usual per-recipient parameter names ({@link RECIPIENT_PARAMS}, e.g. GoPhish's `rid`), and any
 *   parameter whose value looks like a per-recipient token: an e-mail address, a UUID, or 12 or
 *   more characters of `A–Z a–z 0–9 _ - + / = . ~ %` with at least one digit;
 * - kept, sorted by name then value: everything else (an open redirect's `q=https://…` target
 *   stays, so campaigns abusing one redirector are not merged).
 * The path is kept as it is (case and trailing slash included).
 *
 * A report that a false-alarm rule would close by itself is anchored in a scope of its own (the
 * filer passes the rule's id): a report the rule would not close never joins such a case through
 * a shared link, and so is never closed, and its reporters never told "no action needed", on
 * another report's verdict.
 */
import { createHash } from 'node:crypto';
import type { Report, VerifiedFacts } from './report';

export const MAX_REPORT_ANCHORS = 16;

/** Query parameters that are click trackers, whatever their value. */
export const TRACKING_PARAMS = new Set([
  'fbclid', 'gclid', 'gclsrc', 'dclid', 'gbraid', 'wbraid', 'msclkid', 'yclid', 'twclid', 'ttclid', 'li_fat_id', 'igshid',
  'mc_cid', 'mc_eid', '_hsenc', '_hsmi', '__hssc', '__hstc', '__hsfp', 'hsctatracking', 'mkt_tok', '_ga', '_gl',
  'vero_id', 'vero_conv', 'oly_anon_id', 'oly_enc_id', 'rb_clickid', 's_cid', 'sc_cid', 'ef_id', 'spm', 'trk', 'trkcampaign',
]);

/** Query parameters that usually name the recipient, whatever their value. */
export const RECIPIENT_PARAMS = new Set([
  'rid', 'recipient', 'recipient_id', 'email', 'e-mail', 'mail', 'uid', 'userid', 'user_id', 'subscriber', 'subscriber_id',
  'token', 'tracking_id', 'trackingid', 'click_id', 'clickid',
]);

/** The digests of an empty file (MD5, SHA-1, SHA-256): every empty attachment has them, so they tie nothing together. */
const EMPTY_FILE = new Set([
  'd41d8cd98f00b204e9800998ecf8427e',
  'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN = /^[A-Za-z0-9_\-+/=.~%]{12,}$/;

/** Whether a query parameter is dropped from the campaign URL (see the module's rule). */
export function isTrackingParam(name: string, value: string): boolean {
  const n = name.toLowerCase();
  if (n.startsWith('utm_') || TRACKING_PARAMS.has(n) || RECIPIENT_PARAMS.has(n)) return true;
  if (value.includes('@') || UUID.test(value)) return true;
  return TOKEN.test(value) && /\d/.test(value);
}

/** The URL as the campaign knows it (see the module's rule); undefined for anything but http(s). */
export function campaignUrl(href: string): string | undefined {
  let u: URL;
  try {
    u = new URL(href);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  u.hash = '';
  u.username = '';
  u.password = '';
  if (u.hostname.endsWith('.')) u.hostname = u.hostname.replace(/\.+$/, '');
  const kept = [...u.searchParams].filter(([name, value]) => !isTrackingParam(name, value));
  kept.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  u.search = '';
  for (const [name, value] of kept) u.searchParams.append(name, value);
  return u.href;
}

export type CampaignFacts = Pick<Report, 'indicators' | 'title'> & { verified?: Pick<VerifiedFacts, 'claimedSenderDomain'> };

/**
 * The report's campaign anchors (see the module's rule), at most {@link MAX_REPORT_ANCHORS};
 * `scope` separates reports a false-alarm rule would close by itself from all others.
 */
export function campaignAnchors(report: CampaignFacts, options: { scope?: string } = {}): string[] {
  const scope = options.scope ?? '';
  const values: [kind: 'h' | 'u' | 'm', value: string][] = [];
  for (const hash of new Set(report.indicators.hashes.map((h) => h.toLowerCase()))) if (!EMPTY_FILE.has(hash)) values.push(['h', hash]);
  const urls = new Set<string>();
  for (const href of report.indicators.urls) {
    const url = campaignUrl(href);
    if (!url) continue;
    const u = new URL(url);
    if (u.pathname === '/' && !u.search) continue; // a bare origin
    urls.add(url);
  }
  for (const url of urls) values.push(['u', url]);
  const sender = report.verified?.claimedSenderDomain;
  if (!values.length && sender && report.title.trim()) values.push(['m', `${sender.toLowerCase()}\n${report.title.toLowerCase().replace(/\s+/g, ' ').trim()}`]);
  return values.slice(0, MAX_REPORT_ANCHORS).map(([kind, value]) => anchor(kind, value, scope));
}

function anchor(kind: string, value: string, scope: string): string {
  return `${kind}:${createHash('sha256').update(`${scope}\n${kind}\n${value}`, 'utf8').digest('hex').slice(0, 24)}`;
}
