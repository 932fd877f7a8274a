/**
 * A mail in the security mailbox, as a report. Pure: no network, no files, no clock except as a
 * last resort for a message without any date.
 *
 * What the mail is decides who reported what:
 * - a **feedback report** (RFC 5965 ARF: `multipart/report; report-type=feedback-report`, or any
 *   `message/feedback-report` part, base64 or not) is a machine report: DMARC failure reports,
 *   abuse complaints. Reporter = its From; title from Feedback-Type and the reported domain;
 *   indicators from Source-IP, Reported-Domain and Reported-URI.
 * - an employee's **forward as attachment**: the suspicious mail is the attached
 *   `message/rfc822` (or `.eml`, or `text/rfc822-headers`), parsed with mailparser too, headers
 *   and attachments intact.
 * - an employee's **inline forward**: the suspicious mail is the quoted block after an
 *   Outlook-style `From:/Sent:/To:/Subject:` header block or a `---------- Forwarded message
 *   ---------` marker (Gmail, Apple Mail, Thunderbird and a few languages too); its URLs are taken
 *   only from the quoted part, so the reporter's own signature links are not indicators.
 * - anything else from an internal domain is an employee's **note** (no mail attached); from
 *   outside, it is the suspicious mail itself **arriving directly** (a redirect, a trap address):
 *   the reporter is the redirecting user (Resent-From) or else the security mailbox.
 * - a mail whose From **fails DMARC** (per our own mail servers' Authentication-Results, or per
 *   any server's when no authserv-id is configured) is not attributed to the person its From
 *   names, whatever it looks like: it is read as arriving directly, and the description says why.
 *
 * Indicators come from src/domain/indicators.ts, with their counts: every URL in the suspicious
 * mail's text and links in its HTML (href, form action), its attachments' hashes, what was kept
 * and what was dropped. The suspicious mail's sender is **verified** only when our own mail
 * servers authenticated it (src/intake/mail-auth.ts): for a forward as attachment, the
 * employee's forward must itself be authenticated as theirs and the attached mail must carry our
 * servers' passing result; for mail arriving directly, its own; an inline forward carries no
 * headers, so its sender is never verified. Both facts go on the Report outside ReportInput
 * (`verified`, `indicatorCounts`), set by the mailbox (src/intake/mailbox.ts).
 *
 * Not reports, thrown as {@link NotAReport} (the poller flags them for a human): delivery status
 * notifications, auto-replies and other automatic mail (Auto-Submitted), Warden's own notices,
 * mail from the security mailbox itself, DMARC aggregate reports, a mail without a From address.
 */
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { type AddressObject, type Attachment, type HeaderLines, type ParsedMail, simpleParser } from 'mailparser';
import type { ReportInput, VerifiedFacts } from '../domain';
import { IndicatorCollector, type IndicatorCounts, incompleteIndicators, urlsInText } from '../domain/indicators';
import { dmarcFailure, senderVerification } from './mail-auth';

export const MAILBOX_SOURCE = 'phishing-mailbox';

/** ReportInput's limits (src/domain/report.ts). */
const LIMITS = { title: 300, description: 20_000, reporter: 200, messageId: 998, replyTo: 300, domain: 253, fingerprint: 300 };
/** How much of the suspicious mail's text the description quotes. */
const QUOTED_TEXT = 4_000;

export interface MailReportOptions {
  /** The security mailbox's address, e.g. phishing@corp.example. */
  mailbox: string;
  /** Domains whose senders are employees (default: the mailbox's domain); subdomains count. */
  internalDomains?: string[];
  /**
   * The raw message. With it, an attached message whose sender marked it `inline` (Apple Mail,
   * nodemailer and others do), which mailparser folds into the body, is still read as a message.
   */
  source?: Buffer | string;
  /**
   * The authserv-ids of the organisation's own mail servers (`WARDEN_MAIL_AUTHSERV_ID`): only
   * their Authentication-Results verify a sender. None: no sender is ever verified.
   */
  authservIds?: string[];
}

/** What one mail says, as a report input and the facts only the mailbox may put on the Report. */
export interface MailReading {
  kind: MailKind;
  input: ReportInput;
  /** The suspicious message's sender as our mail servers authenticated it, or why not (not for a note or a machine report). */
  verified?: VerifiedFacts;
  /** Every indicator seen, kept and dropped. */
  indicatorCounts?: IndicatorCounts;
}

interface Context {
  mailbox: string;
  internal: string[];
  authservIds: string[];
}

/** The mail is not a report (a bounce, an auto-reply, a loop): left for a human, with the reason. */
export class NotAReport extends Error {
  override name = 'NotAReport';
}

export type MailKind = 'forward-attachment' | 'forward-inline' | 'note' | 'direct' | 'feedback-report';

/** One message's facts that the description and indicators are made of. */
interface Suspect {
  from?: string;
  fromName?: string;
  replyTo?: string;
  returnPath?: string;
  to?: string;
  subject: string;
  date?: Date;
  dateText?: string;
  messageId?: string;
  authentication: string[];
  /** Its Authentication-Results values, topmost first (none for an inline forward). */
  authResults: string[];
  text: string;
  /** URLs as found in its text, and links (href, form action) in its HTML, in order. */
  textUrls: string[];
  links: string[];
  attachments: { name: string; type: string; size: number; sha256: string }[];
  /** Parts of it that could not be read for indicators. */
  unread?: string[];
}

/** Build the report input for one parsed mail. Throws {@link NotAReport} for mail that is not one. */
export async function reportFromMail(parsed: ParsedMail, options: MailReportOptions): Promise<ReportInput> {
  return (await readMail(parsed, options)).input;
}

/** The report input, what kind of mail it came from, and what Warden verified. Throws {@link NotAReport} for mail that is not a report. */
export async function readMail(parsed: ParsedMail, options: MailReportOptions): Promise<MailReading> {
  const mailbox = options.mailbox.trim().toLowerCase();
  const internal = (options.internalDomains?.length ? options.internalDomains : [domainOf(mailbox)]).map((d) => d.toLowerCase()).filter(Boolean);
  const ctx: Context = { mailbox, internal, authservIds: (options.authservIds ?? []).map((id) => id.trim().toLowerCase()).filter(Boolean) };

  const contentType = structuredValue(parsed, 'content-type');
  const reportType = contentType?.params['report-type']?.toLowerCase();
  const feedbackPart = parsed.attachments.find((a) => a.contentType.toLowerCase() === 'message/feedback-report');
  if ((contentType?.value === 'multipart/report' && reportType === 'feedback-report') || feedbackPart)
    return feedbackReport(parsed, feedbackPart);

  refuseNonReports(parsed, mailbox, contentType?.value, reportType);

  const sender = firstAddress(parsed.from);
  if (!sender) throw new NotAReport('the message has no From address: no one to attribute the report to');

  // A From that fails DMARC is not the person it names: whatever the mail looks like, it is read as arriving directly.
  const failed = dmarcFailure(rawHeader(parsed.headerLines, 'authentication-results'), ctx.authservIds);
  if (failed)
    return arrivedDirectly(
      parsed,
      ctx,
      `The From address ${sender.address.toLowerCase()} fails DMARC (${failed}): the mail is not attributed to that address, and is read as delivered directly.`,
    );

  const attachedPart = parsed.attachments.find(isAttachedMessage);
  const attached = attachedPart?.content;
  const folded = attached ? undefined : options.source !== undefined ? attachedMessages(options.source)[0] : undefined;
  if (attached || folded) {
    const inner = await simpleParser((attached ?? folded)!, { skipImageLinks: true });
    const suspect = fromParsed(inner, inner.html ? inner.html : '');
    if (attachedPart?.contentType.toLowerCase() === 'text/rfc822-headers') suspect.unread = ['the attached message is its headers only (text/rfc822-headers): its body, links and attachments were not there to read'];
    const text = parsed.text ?? htmlText(parsed.html);
    // mailparser folded an inline message into the text, after a From/Subject/Date block: the note is what precedes it.
    const note = folded ? (findForwardBlock(text)?.note ?? text) : text;
    return userReport(parsed, ctx, sender, 'forward-attachment', suspect, noteOf(note));
  }

  const text = parsed.text?.trim() ? parsed.text : htmlText(parsed.html);
  const inline = findForwardBlock(text);
  if (inline) {
    const html = typeof parsed.html === 'string' ? parsed.html : '';
    const htmlStart = html ? forwardStartInHtml(html) : -1;
    const suspect: Suspect = {
      from: inline.from,
      fromName: inline.fromName,
      to: inline.to,
      subject: inline.subject ?? stripForwardPrefix(parsed.subject ?? ''),
      date: inline.date,
      dateText: inline.dateText,
      authentication: [],
      authResults: [],
      text: inline.body,
      textUrls: urlsInText(inline.body),
      links: htmlStart >= 0 ? hrefsIn(html.slice(htmlStart)) : [],
      // An inline forward carries the original's attachments as its own.
      attachments: hashed(parsed.attachments.filter((a) => !a.related)),
    };
    return userReport(parsed, ctx, sender, 'forward-inline', suspect, inline.note);
  }

  if (isInternal(ctx, sender.address)) return userReport(parsed, ctx, sender, 'note', undefined, text);
  return arrivedDirectly(parsed, ctx);
}

/** The suspicious mail itself, delivered here directly. Never reply to its sender. */
function arrivedDirectly(parsed: ParsedMail, ctx: Context, notAttributed?: string): MailReading {
  const resentFrom = addressIn(rawHeader(parsed.headerLines, 'resent-from')[0] ?? '');
  const suspect = fromParsed(parsed, typeof parsed.html === 'string' ? parsed.html : '');
  const reporter = resentFrom ? { address: resentFrom, name: '' } : { address: ctx.mailbox, name: '' };
  return userReport(parsed, ctx, reporter, 'direct', suspect, undefined, notAttributed);
}

function isInternal(ctx: Context, address: string): boolean {
  const domain = domainOf(address);
  return ctx.internal.some((d) => domain === d || domain.endsWith(`.${d}`));
}

// ── Employee reports ─────────────────────────────────────────────────────────────────────────

function userReport(
  envelope: ParsedMail,
  ctx: Context,
  reporter: { address: string; name: string },
  kind: Exclude<MailKind, 'feedback-report'>,
  suspect: Suspect | undefined,
  note: string | undefined,
  notAttributed?: string,
): MailReading {
  const { mailbox } = ctx;
  const reporterAddress = reporter.address.toLowerCase();
  const reportDate = validDate(envelope.date);
  const observed = suspect?.date ?? reportDate ?? new Date();
  const direct = kind === 'direct';

  // Indicators, in order of importance: the sender's domain, the URLs (their hosts with them), the attachments.
  const fromDomain = suspect?.from ? asciiDomain(domainOf(suspect.from)) : undefined;
  const senderDomain = fromDomain || undefined;
  const collector = new IndicatorCollector();
  if (senderDomain) collector.addDomain(senderDomain);
  if (suspect) {
    for (const url of suspect.textUrls) collector.addUrl(url);
    for (const link of suspect.links) collector.addLink(link);
    for (const a of suspect.attachments) collector.addHash(a.sha256);
    for (const what of suspect.unread ?? []) collector.markUnread(what);
  } else {
    for (const url of urlsInText(note ?? '')) collector.addUrl(url);
    for (const a of hashed(envelope.attachments.filter((x) => !x.related))) collector.addHash(a.sha256);
  }
  const { indicators, counts } = collector.result();
  const { urls, hashes } = indicators;
  const incomplete = incompleteIndicators(counts);
  const verified = suspect ? verifiedSender(envelope, ctx, reporter, kind, suspect, senderDomain) : undefined;

  const lines: string[] = [];
  const how = {
    'forward-attachment': 'forwarded as an attachment',
    'forward-inline': 'forwarded inline (the original headers are not included: ask for a forward as attachment to see them)',
    note: 'written by an employee, no message attached',
    direct: 'delivered directly to the security mailbox, not forwarded by an employee',
  }[kind];
  const who = direct && reporterAddress === mailbox ? `${reporterAddress} (the security mailbox itself)` : display(reporter);
  lines.push(`Reported by ${who} on ${(reportDate ?? observed).toISOString()}: ${how}.`);
  if (notAttributed) lines.push(notAttributed);
  const reportAuth = direct ? [] : authenticationOf(envelope.headerLines);
  if (reportAuth.length) lines.push(`The report's own authentication: ${reportAuth.join('; ')}`);
  if (note?.trim()) lines.push('', "Reporter's note:", indent(clip(note.trim(), 4_000)));
  if (suspect) {
    lines.push('', 'Suspicious message:');
    lines.push(`  From: ${suspect.fromName && suspect.fromName !== suspect.from ? `${suspect.fromName} <${suspect.from ?? '?'}>` : suspect.from ?? '(none)'}`);
    if (suspect.replyTo) lines.push(`  Reply-To: ${suspect.replyTo}`);
    if (suspect.returnPath) lines.push(`  Return-Path: ${suspect.returnPath}`);
    if (suspect.to) lines.push(`  To: ${suspect.to}`);
    lines.push(`  Subject: ${suspect.subject || '(no subject)'}`);
    if (suspect.dateText) lines.push(`  Date: ${suspect.dateText}`);
    if (suspect.messageId) lines.push(`  Message-ID: ${suspect.messageId}`);
    if (kind !== 'forward-inline')
      lines.push(`  Authentication: ${suspect.authentication.length ? suspect.authentication.join('; ') : 'no Authentication-Results or Received-SPF header'}`);
    for (const a of suspect.attachments) lines.push(`  Attachment: ${a.name} (${a.type}, ${a.size} bytes, sha256 ${a.sha256})`);
    if (verified?.senderDomain) lines.push(`  Sender verified: ${verified.senderDomain} (${verified.by})`);
    else if (verified?.notVerified) lines.push(`  Sender not verified: ${verified.notVerified}`);
    if (urls.length) lines.push(`  URLs: ${urls.length} (in indicators)`);
    if (incomplete)
      lines.push(`  Not every indicator was kept: ${incomplete}${collector.droppedHosts.length ? ` (hosts of URLs not kept: ${collector.droppedHosts.join(', ')})` : ''}`);
    const body = suspect.text.trim();
    lines.push('', `Text${body.length > QUOTED_TEXT ? ` (first ${QUOTED_TEXT} characters)` : ''}:`, body ? indent(clip(body, QUOTED_TEXT)) : '  (empty)');
  }

  const subject = suspect ? suspect.subject || '(no subject)' : envelope.subject?.trim() || '(no subject)';
  const replyTo = direct ? undefined : firstAddress(envelope.replyTo)?.address;
  const messageId = direct ? undefined : envelope.messageId;
  return {
    kind,
    input: {
      title: clip(`${suspect ? 'Reported email' : 'Reported by email'}: ${oneLine(subject)}`, LIMITS.title),
      description: clip(lines.join('\n'), LIMITS.description),
      source: MAILBOX_SOURCE,
      reporter: clip(reporterAddress, LIMITS.reporter),
      assets: [],
      observedAt: observed.toISOString(),
      indicators,
      ...(suspect ? { categoryHint: 'phishing' } : {}),
      fingerprint: fingerprintFor(kind, fromDomain, urls, hashes, subject, envelope.messageId),
      ...(replyTo && replyTo.length <= LIMITS.replyTo && replyTo.toLowerCase() !== reporterAddress ? { replyTo } : {}),
      ...(messageId ? { messageId: clip(messageId, LIMITS.messageId) } : {}),
    },
    ...(verified ? { verified } : {}),
    indicatorCounts: counts,
  };
}

/**
 * The suspicious mail's sender as our mail servers authenticated it, or why it is not verified.
 * A forward as attachment counts only when the forward itself is an employee's, authenticated by
 * our servers (else anyone could mail us a "forward" with forged headers inside); mail arriving
 * directly carries our servers' results itself; an inline forward has no headers to check.
 */
function verifiedSender(
  envelope: ParsedMail,
  ctx: Context,
  reporter: { address: string },
  kind: Exclude<MailKind, 'feedback-report'>,
  suspect: Suspect,
  senderDomain: string | undefined,
): VerifiedFacts {
  const claimed = senderDomain ? { claimedSenderDomain: senderDomain } : {};
  if (!senderDomain) return { notVerified: 'the message has no usable From address' };
  const notVerified = (why: string): VerifiedFacts => ({ ...claimed, notVerified: why });
  if (kind === 'forward-inline') return notVerified('an inline forward does not carry the original headers (a forward as attachment does)');
  if (kind === 'forward-attachment') {
    const reporterDomain = domainOf(reporter.address);
    if (!isInternal(ctx, reporter.address)) return notVerified(`the forward is not from one of our domains (${reporterDomain})`);
    const forward = senderVerification(rawHeader(envelope.headerLines, 'authentication-results'), reporterDomain, ctx.authservIds, true);
    if (!forward.verified) return notVerified(`the forward itself is not authenticated as from ${reporterDomain}: ${forward.why}`);
  }
  const result = senderVerification(suspect.authResults, senderDomain, ctx.authservIds);
  return result.verified ? { ...claimed, senderDomain, by: result.by } : notVerified(result.why);
}

/**
 * The dedupe key, so that fifty employees forwarding the same phish make one case: the sender's
 * domain, the URLs without query and fragment (per-recipient tracking tokens do not split a
 * campaign; the full URLs stay in the indicators) and the attachment hashes. A mail with neither
 * URLs nor attachments adds its subject, else every mail from one webmail domain would be one case.
 * An employee's note without a mail attached and without URLs is its own case. Forwards that
 * differ here (an inline forward without the attachment, a Slack report with the link only)
 * still reach one case through their campaign anchors (src/domain/campaign.ts, src/intake/filing.ts).
 */
function fingerprintFor(kind: MailKind, senderDomain: string | undefined, urls: string[], hashes: string[], subject: string, messageId?: string): string {
  const campaignUrls = unique(urls.map(withoutQuery)).sort();
  const parts = [`sender=${senderDomain ?? ''}`, `urls=${campaignUrls.join(' ')}`, `hashes=${[...hashes].sort().join(' ')}`];
  if (!campaignUrls.length && !hashes.length)
    parts.push(kind === 'note' ? `message=${messageId ?? subject}` : `subject=${normalizeSubject(subject)}`);
  return clip(`mail:${senderDomain ?? 'note'}:${sha256(parts.join('|'))}`, LIMITS.fingerprint);
}

function fromParsed(mail: ParsedMail, html: string): Suspect {
  const from = firstAddress(mail.from);
  const text = mail.text?.trim() ? mail.text : htmlText(html);
  return {
    from: from?.address.toLowerCase(),
    fromName: from?.name || undefined,
    replyTo: mail.replyTo?.text,
    returnPath: rawHeader(mail.headerLines, 'return-path')[0],
    to: addressText(mail.to),
    subject: (mail.subject ?? '').trim(),
    date: validDate(mail.date),
    dateText: rawHeader(mail.headerLines, 'date')[0],
    messageId: mail.messageId,
    authentication: authenticationOf(mail.headerLines),
    authResults: rawHeader(mail.headerLines, 'authentication-results'),
    text,
    textUrls: urlsInText(text),
    links: hrefsIn(html),
    attachments: hashed(mail.attachments.filter((a) => !a.related)),
  };
}

/** The reporter's own words in a forward-as-attachment: the text, when there is any. */
function noteOf(text: string): string | undefined {
  return text.trim() ? text : undefined;
}

// ── Machine reports (ARF, RFC 5965 / RFC 6591) ────────────────────────────────────────────────

async function feedbackReport(parsed: ParsedMail, part: Attachment | undefined): Promise<MailReading> {
  const sender = firstAddress(parsed.from);
  if (!sender) throw new NotAReport('feedback report without a From address');
  if (!part) throw new NotAReport('multipart/report feedback-report without a message/feedback-report part');
  const feedbackText = part.content.toString('utf8');
  const fields = feedbackFields(feedbackText);
  const get = (name: string) => fields.get(name)?.[0]?.trim() || undefined;
  const type = (get('feedback-type') ?? 'unknown').toLowerCase();
  const original = parsed.attachments.find((a) => ['message/rfc822', 'text/rfc822-headers'].includes(a.contentType.toLowerCase()));
  const reported = original ? await simpleParser(original.content, { skipImageLinks: true }) : undefined;
  const originalMailFrom = addressIn(get('original-mail-from') ?? '');
  const reportedFrom = firstAddress(reported?.from)?.address;
  const domain =
    asciiDomain(get('reported-domain') ?? '') ||
    (reportedFrom ? asciiDomain(domainOf(reportedFrom)) : '') ||
    (originalMailFrom ? asciiDomain(domainOf(originalMailFrom)) : '') ||
    'unknown domain';

  const collector = new IndicatorCollector();
  for (const ip of fields.get('source-ip') ?? []) collector.addIp(ip.trim());
  if (domain !== 'unknown domain') collector.addDomain(domain);
  for (const uri of fields.get('reported-uri') ?? []) collector.addUrl(uri.trim().replace(/^<|>$/g, ''));
  const { indicators, counts } = collector.result();

  const authFailure = (get('auth-failure') ?? '').toLowerCase();
  const label =
    type === 'auth-failure'
      ? authFailure.includes('dmarc') || /dmarc/i.test(parsed.subject ?? '')
        ? 'DMARC failure report'
        : 'Authentication failure report'
      : type === 'abuse'
        ? 'Abuse complaint'
        : type === 'fraud'
          ? 'Fraud report'
          : type === 'virus'
            ? 'Virus report'
            : 'Feedback report';

  const lines = [
    `Machine report from ${display(sender)} (Feedback-Type: ${type}), received ${(validDate(parsed.date) ?? new Date()).toISOString()}.`,
    '',
    'Feedback fields:',
    ...fieldLines(feedbackText).map(([name, value]) => `  ${name}: ${oneLine(value)}`),
  ];
  if (reported) {
    lines.push('', 'Reported message:');
    lines.push(`  From: ${reported.from?.text ?? '(none)'}`);
    if (reported.subject) lines.push(`  Subject: ${oneLine(reported.subject)}`);
    const dateText = rawHeader(reported.headerLines, 'date')[0];
    if (dateText) lines.push(`  Date: ${dateText}`);
    if (reported.messageId) lines.push(`  Message-ID: ${reported.messageId}`);
    const auth = authenticationOf(reported.headerLines);
    if (auth.length) lines.push(`  Authentication: ${auth.join('; ')}`);
  }
  const text = (parsed.text?.trim() ? parsed.text : htmlText(parsed.html)).trim();
  if (text) lines.push('', 'Text:', indent(clip(text, QUOTED_TEXT)));

  const arrival = validDate(new Date(get('arrival-date') ?? get('received-date') ?? ''));
  return {
    kind: 'feedback-report',
    input: {
      title: clip(`${label} (${type}) for ${domain}`, LIMITS.title),
      description: clip(lines.join('\n'), LIMITS.description),
      source: MAILBOX_SOURCE,
      reporter: clip(sender.address.toLowerCase(), LIMITS.reporter),
      assets: [],
      observedAt: (arrival ?? validDate(parsed.date) ?? new Date()).toISOString(),
      indicators,
      ...(type === 'auth-failure' || type === 'fraud' ? { categoryHint: 'phishing' } : {}),
      // One case per kind of feedback and reported domain: a spoofing wave is one case, its
      // sources accumulate as indicators.
      fingerprint: clip(`feedback:${type}:${domain}`, LIMITS.fingerprint),
      ...(parsed.messageId ? { messageId: clip(parsed.messageId, LIMITS.messageId) } : {}),
    },
    indicatorCounts: counts,
  };
}

/** `Name: value` lines (folded lines unfolded), names as written, in order. */
export function fieldLines(text: string): [name: string, value: string][] {
  const out: [string, string][] = [];
  for (const line of text.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ').split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) out.push([m[1], m[2]]);
  }
  return out;
}

/** The same fields by lower-cased name, repeated ones kept in order. */
export function feedbackFields(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [name, value] of fieldLines(text)) fields.set(name.toLowerCase(), [...(fields.get(name.toLowerCase()) ?? []), value]);
  return fields;
}

// ── What is not a report ──────────────────────────────────────────────────────────────────────

function refuseNonReports(parsed: ParsedMail, mailbox: string, contentType: string | undefined, reportType: string | undefined): void {
  if (contentType === 'multipart/report' && reportType === 'delivery-status')
    throw new NotAReport('a delivery status notification (bounce), not a report');
  if (contentType === 'multipart/report' && reportType === 'disposition-notification')
    throw new NotAReport('a read receipt (disposition notification), not a report');
  if (/^<warden\./i.test(parsed.messageId ?? '')) throw new NotAReport("one of Warden's own notices (its Message-ID), not a report");
  const autoSubmitted = rawHeader(parsed.headerLines, 'auto-submitted')[0]?.toLowerCase();
  if (autoSubmitted && !autoSubmitted.startsWith('no'))
    throw new NotAReport(`an automatic message (Auto-Submitted: ${oneLine(autoSubmitted).slice(0, 60)}), not a report`);
  if (rawHeader(parsed.headerLines, 'x-autoreply').length || rawHeader(parsed.headerLines, 'x-autorespond').length)
    throw new NotAReport('an auto-reply (X-Autoreply), not a report');
  const from = firstAddress(parsed.from)?.address.toLowerCase();
  if (from && from === mailbox) throw new NotAReport('sent from the security mailbox itself (a loop), not a report');
  const aggregate = parsed.attachments.find(
    (a) => /^application\/(zip|gzip|x-gzip|xml)$/i.test(a.contentType) && /^[^!]+![^!]+![0-9]+![0-9]+/.test(a.filename ?? ''),
  );
  if (aggregate) throw new NotAReport(`a DMARC aggregate report (${aggregate.filename}), not an incident report`);
}

function isAttachedMessage(a: Attachment): boolean {
  const type = a.contentType.toLowerCase();
  if (type === 'message/rfc822' || type === 'message/global' || type === 'text/rfc822-headers') return true;
  return /\.eml$/i.test(a.filename ?? '') && (type === 'application/octet-stream' || type.startsWith('text/') || type === 'message/rfc822');
}

/**
 * The `message/rfc822` (or `message/global`) parts of a raw message, outermost first, decoded;
 * whatever their Content-Disposition. A small, tolerant MIME walk: LF or CRLF, a missing close
 * boundary, an mbox `From ` line; nested messages are not entered.
 */
export function attachedMessages(source: Buffer | string): Buffer[] {
  const raw = typeof source === 'string' ? Buffer.from(source, 'utf8').toString('latin1') : source.toString('latin1');
  return walk(raw, 0, true).map((part) => Buffer.from(part, 'latin1'));
}

function walk(entity: string, depth: number, top: boolean): string[] {
  if (depth > 10) return [];
  const split = /^\r?\n|\r?\n\r?\n/.exec(entity); // a part without headers starts with its blank line
  const head = split ? entity.slice(0, split.index) : entity;
  const body = split ? entity.slice(split.index + split[0].length) : '';
  const fields = feedbackFields(head.replace(/^From [^\n]*\n/, ''));
  const contentType = fields.get('content-type')?.[0] ?? 'text/plain';
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (!top && (type === 'message/rfc822' || type === 'message/global')) {
    const encoding = (fields.get('content-transfer-encoding')?.[0] ?? '').trim().toLowerCase();
    if (encoding === 'base64') return [Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1')];
    if (encoding === 'quoted-printable')
      return [body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))];
    return [body];
  }
  if (!type.startsWith('multipart/')) return [];
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) return [];
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${escapeRegExp(boundary[1] ?? boundary[2])}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const parts: string[] = [];
  let start = -1;
  for (const m of body.matchAll(delimiter)) {
    if (start >= 0) parts.push(body.slice(start, m.index));
    if (m[1]) {
      start = -1;
      break;
    }
    start = m.index! + m[0].length;
    start += /^\r?\n/.exec(body.slice(start))?.[0].length ?? 0;
  }
  if (start >= 0) parts.push(body.slice(start)); // no close delimiter: the last part runs to the end
  return parts.flatMap((part) => walk(part, depth + 1, false));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ── Inline forwards ───────────────────────────────────────────────────────────────────────────

interface ForwardBlock {
  note: string;
  from?: string;
  fromName?: string;
  to?: string;
  subject?: string;
  date?: Date;
  dateText?: string;
  body: string;
}

const HEADER_KEYS: Record<string, 'from' | 'date' | 'to' | 'cc' | 'subject'> = {
  from: 'from', von: 'from', de: 'from', van: 'from', da: 'from',
  sent: 'date', date: 'date', gesendet: 'date', datum: 'date', envoyé: 'date', enviado: 'date', verzonden: 'date', inviato: 'date',
  to: 'to', an: 'to', à: 'to', para: 'to', aan: 'to', a: 'to',
  cc: 'cc',
  subject: 'subject', betreff: 'subject', objet: 'subject', asunto: 'subject', onderwerp: 'subject', oggetto: 'subject',
};
const HEADER_LINE = /^\s*(?:>\s*)*[*_]*\s*([A-Za-zÀ-ÿ]+)\s*[*_]*\s*:\s*[*_]*\s*(.*?)\s*$/;
const MARKER_LINE = /^\s*(?:>\s*)*(?:-{2,}\s*(?:original message|forwarded message|mensaje original|message d'origine|ursprüngliche nachricht|weitergeleitete nachricht|message transféré)\s*-*|begin forwarded message:?|_{8,}|-{8,})\s*$/i;

/** The first quoted header block (From and Subject or Date, a few lines together) in the text. */
export function findForwardBlock(text: string): ForwardBlock | undefined {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = headerLineAt(lines[i]);
    if (!first) continue;
    const fields: Partial<Record<'from' | 'date' | 'to' | 'cc' | 'subject', string>> = {};
    let j = i;
    for (; j < lines.length; j++) {
      const h = headerLineAt(lines[j]);
      if (!h) break;
      if (fields[h.key] === undefined) fields[h.key] = h.value;
    }
    const markerBefore = lines.slice(Math.max(0, i - 3), i).some((l) => MARKER_LINE.test(l));
    if (!fields.from || !(fields.subject !== undefined || fields.date !== undefined) || (j - i < 3 && !markerBefore)) continue;
    const noteLines = lines.slice(0, i);
    while (noteLines.length && (MARKER_LINE.test(noteLines[noteLines.length - 1]) || !noteLines[noteLines.length - 1].trim())) noteLines.pop();
    const body = lines
      .slice(j)
      .map((l) => l.replace(/^>\s?/, ''))
      .join('\n')
      .trim();
    const sender = senderIn(fields.from);
    const dateText = fields.date || undefined;
    return {
      note: noteLines.join('\n').trim(),
      from: sender?.address,
      fromName: sender?.name,
      to: fields.to || undefined,
      subject: fields.subject?.trim(),
      // A quoted date without a zone ("Thursday, March 13, 2025 10:31 AM") is not a point in time.
      date: dateText && /([+-]\d{4}\b|\b(GMT|UTC|UT|Z)\b)/.test(dateText) ? validDate(new Date(dateText.replace(/\s+at\s+/i, ' '))) : undefined,
      dateText,
      body,
    };
  }
  return undefined;
}

function headerLineAt(line: string): { key: 'from' | 'date' | 'to' | 'cc' | 'subject'; value: string } | undefined {
  const m = HEADER_LINE.exec(line);
  if (!m) return undefined;
  const key = HEADER_KEYS[m[1].toLowerCase()];
  return key ? { key, value: m[2].replace(/[*_]+$/, '').trim() } : undefined;
}

/** "Name <a@b>", "Name [mailto:a@b]" or "a@b": the address inside brackets wins over one in the name. */
function senderIn(value: string): { address: string; name?: string } | undefined {
  const bracketed = /<\s*([^<>\s]+@[^<>\s]+)\s*>|\[mailto:([^\]\s]+@[^\]\s]+)\]/i.exec(value);
  const address = bracketed ? (bracketed[1] ?? bracketed[2]) : [...value.matchAll(EMAIL)].pop()?.[0];
  if (!address) return undefined;
  const name = value
    .slice(0, bracketed ? bracketed.index : value.indexOf(address))
    .replace(/^["'\s]+|["'\s]+$/g, '')
    .trim();
  return { address: address.toLowerCase(), ...(name ? { name } : {}) };
}

/** Where the forwarded part of an HTML body starts, or -1: its hrefs are the suspicious mail's. */
function forwardStartInHtml(html: string): number {
  const m = /id=["']?divRplyFwdMsg|class=["']?gmail_quote|-{2,}\s*(?:original message|forwarded message)|begin forwarded message|<(?:b|strong)>\s*(?:from|von|de)\s*:\s*<\/(?:b|strong)>/i.exec(html);
  return m ? m.index : -1;
}

function stripForwardPrefix(subject: string): string {
  return subject.replace(/^\s*((fw|fwd|tr|wg|rv|doorst)\s*:\s*)+/i, '').trim();
}

// ── Indicators ────────────────────────────────────────────────────────────────────────────────

const EMAIL = /[A-Z0-9._%+'-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi;

/** Every link in the HTML (href, form action), in any scheme: the collector decides what counts. */
export function hrefsIn(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/\b(?:href|action)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) out.push(decodeEntities((m[1] ?? m[2] ?? m[3] ?? '').trim()));
  return out;
}

function withoutQuery(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

function hashed(attachments: Attachment[]): Suspect['attachments'] {
  return attachments.map((a) => ({
    name: oneLine(a.filename ?? '(unnamed)'),
    type: a.contentType,
    size: a.content.length,
    sha256: createHash('sha256').update(a.content).digest('hex'),
  }));
}

// ── Headers ───────────────────────────────────────────────────────────────────────────────────

/** SPF/DKIM/DMARC results from Authentication-Results (each server's), else from Received-SPF. */
export function authenticationOf(headerLines: HeaderLines): string[] {
  const out: string[] = [];
  for (const value of rawHeader(headerLines, 'authentication-results')) {
    const server = /^\s*([^;\s]+)\s*;/.exec(value)?.[1];
    const results = [...value.matchAll(/\b(spf|dkim|dmarc|arc|compauth)\s*=\s*([a-z]+)/gi)].map((m) => `${m[1].toLowerCase()}=${m[2].toLowerCase()}`);
    if (results.length) out.push(`${unique(results).join(' ')}${server && !server.includes('=') ? ` (by ${server})` : ''}`);
  }
  for (const value of rawHeader(headerLines, 'received-spf')) {
    const result = /^\s*([a-z]+)/i.exec(value)?.[1];
    if (result) out.push(`Received-SPF: ${result.toLowerCase()}`);
  }
  return out;
}

/** Every value of one header, unfolded, in order (raw: encoded words stay encoded). */
export function rawHeader(headerLines: HeaderLines, name: string): string[] {
  return headerLines
    .filter((h) => h.key === name)
    .map((h) => oneLine(h.line.slice(h.line.indexOf(':') + 1)))
    .filter(Boolean);
}

function structuredValue(parsed: ParsedMail, name: string): { value: string; params: Record<string, string> } | undefined {
  const v = parsed.headers.get(name) as unknown;
  if (v && typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value === 'string') {
    const s = v as { value: string; params?: Record<string, string> };
    return { value: s.value.toLowerCase(), params: s.params ?? {} };
  }
  return undefined;
}

function firstAddress(obj: AddressObject | AddressObject[] | undefined): { address: string; name: string } | undefined {
  for (const o of Array.isArray(obj) ? obj : obj ? [obj] : [])
    for (const v of o.value) {
      const found = v.address ? v : v.group?.find((g) => g.address);
      if (found?.address && found.address.includes('@')) return { address: found.address.trim(), name: found.name ?? '' };
    }
  return undefined;
}

function addressText(obj: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  return list.length ? list.map((o) => o.text).join(', ') : undefined;
}

function addressIn(value: string): string | undefined {
  return senderIn(value)?.address;
}

// ── Small helpers ─────────────────────────────────────────────────────────────────────────────

function domainOf(address: string | undefined): string {
  if (!address) return '';
  return address.slice(address.lastIndexOf('@') + 1).replace(/[>\s]+$/, '').toLowerCase();
}

/** The domain as it appears on the wire (punycode for an internationalized one), or "". */
function asciiDomain(domain: string): string {
  const ascii = domainToASCII(domain.trim().replace(/\.$/, '').toLowerCase());
  return ascii && ascii.length <= LIMITS.domain && /^[a-z0-9.-]+$/.test(ascii) && ascii.includes('.') ? ascii : '';
}

function validDate(d: Date | undefined): Date | undefined {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d : undefined;
}

function display(a: { address: string; name: string }): string {
  return a.name ? `${oneLine(a.name)} <${a.address.toLowerCase()}>` : a.address.toLowerCase();
}

function htmlText(html: string | false | undefined): string {
  if (!html) return '';
  return decodeEntities(
    html
      .replace(/<(script|style|head)[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
      .replace(/<[^>]*>/g, ' '),
  )
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n\n')
    .trim();
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|nbsp);/gi, (all, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return safeCodePoint(parseInt(lower.slice(2), 16), all);
    if (lower.startsWith('#')) return safeCodePoint(parseInt(lower.slice(1), 10), all);
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' } as Record<string, string>)[lower] ?? all;
  });
}

function safeCodePoint(n: number, fallback: string): string {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : fallback;
}

function normalizeSubject(s: string): string {
  return stripForwardPrefix(s).toLowerCase().replace(/\s+/g, ' ').trim();
}

function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Cut to `max` UTF-16 units (zod's measure), never inside a surrogate pair; an ellipsis marks the cut. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
