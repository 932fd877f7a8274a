/**
 * Mail to reporters: the false-alarm explanation, "we are on it", "resolved, thank you".
 *
 * `createMailPort` sends over SMTP (smtp:// with opportunistic STARTTLS, or smtps://), threaded
 * to the reporter's own message when its Message-ID is known. Failures are classified with
 * ./failures: 4xx replies and connection trouble are retryable, 5xx replies and bad credentials
 * are not. No message or error ever carries the SMTP password.
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { NodemailerError } from 'nodemailer';
import { ApplicationFailure } from '@temporalio/common';
import { rejected, unavailable } from './failures';
import type { Outbox } from './outbox';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The reporter's original Message-ID: the reply is threaded to it (In-Reply-To and References). */
  inReplyTo?: string;
}

export interface MailPort {
  /** Send once per key; the key also makes the Message-ID, so a resent copy is recognisably the same mail. */
  send(message: MailMessage, key: string): Promise<void>;
}

export function dryRunMail(outbox: Outbox): MailPort {
  return {
    async send(message, key) {
      await outbox.deliver({ system: 'mail', kind: 'send', key, body: { ...message } });
    },
  };
}

export interface SmtpMailOptions {
  /** smtp://host:587 (STARTTLS when offered) or smtps://host:465, with optional user:pass (percent-encoded). */
  smtpUrl: string;
  /** The From header, e.g. `Warden <security@corp.example>`. */
  from: string;
  /** Right-hand side of generated Message-IDs; defaults to the domain of `from`. */
  messageIdDomain?: string;
  /** Limit for connecting, the greeting and each wait on the server (default 10 s). */
  timeoutMs?: number;
}

const VENDOR = 'SMTP';
const CALL = 'send';
const DEFAULT_TIMEOUT_MS = 10_000;

/** `smtp://user:secret@host:587` → `smtp://user:***@host:587`; everything up to the last "@" is treated as credentials. */
export function redactSmtpUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo}@`;
  });
}

/** The Message-ID a key always gets: a retried send carries the same one. */
export function messageIdFor(key: string, domain: string): string {
  return `<warden.${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}@${domain}>`;
}

/** One header line's worth of text: line breaks and other control characters become spaces. */
export function headerSafe(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** A reply's subject: "Re: " in front unless it already starts with Re:. */
export function replySubject(subject: string): string {
  return /^re\s*:/i.test(subject) ? subject : `Re: ${subject}`;
}

/** One addr-spec, nothing else: no display name, no list, no whitespace or header syntax. */
const SINGLE_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+\.[^\s@<>,;:"()[\]\\]+$/;
/** One msg-id (RFC 5322 §3.6.4): angle brackets optional on input, no whitespace inside. */
const MESSAGE_ID = /^<?([^\s<>]+@[^\s<>]+)>?$/;
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;

/** The reporter's Message-ID as one well-formed `<id>`, or undefined when it is not one (the reply then goes unthreaded). */
export function normalizeMessageId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const match = MESSAGE_ID.exec(headerSafe(value));
  return match ? `<${match[1]}>` : undefined;
}

interface Endpoint {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  pass?: string;
}

function parseSmtpUrl(smtpUrl: string): Endpoint {
  const shown = redactSmtpUrl(smtpUrl);
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    // URL's own error carries the input: say it again, redacted.
    throw new Error(`mail: invalid SMTP URL "${shown}"`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error(`mail: SMTP URL must be smtp:// or smtps://, got "${shown}"`);
  if (!url.hostname) throw new Error(`mail: SMTP URL has no host: "${shown}"`);
  const secure = url.protocol === 'smtps:';
  let user: string | undefined;
  let pass: string | undefined;
  try {
    user = url.username ? decodeURIComponent(url.username) : undefined;
    pass = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    throw new Error(`mail: SMTP URL credentials are not valid percent-encoding: "${shown}"`);
  }
  if (pass !== undefined && user === undefined) throw new Error(`mail: SMTP URL has a password but no user: "${shown}"`);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    user,
    pass,
  };
}

/**
 * Mail over SMTP with nodemailer.
 *
 * One transport per port, not pooled: each send opens its own connection (EHLO, STARTTLS when
 * offered, AUTH, MAIL/RCPT/DATA, QUIT) and closes it. Reporter mail is a handful of messages
 * per case, hours apart; a pooled connection would sit idle until the server drops it, the next
 * send would meet a dead socket, and the port has no close() to release the pool when the
 * worker stops. A fresh connection per activity attempt also keeps attempts independent.
 */
export function createMailPort(options: SmtpMailOptions): MailPort {
  const endpoint = parseSmtpUrl(options.smtpUrl);
  const from = headerSafe(options.from);
  const fromAddress = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  if (!SINGLE_ADDRESS.test(fromAddress)) throw new Error(`mail: "from" is not an e-mail address: ${JSON.stringify(from)}`);
  const domain = options.messageIdDomain ?? fromAddress.slice(fromAddress.lastIndexOf('@') + 1);
  if (!DOMAIN.test(domain)) throw new Error(`mail: Message-ID domain is not a domain name: ${JSON.stringify(domain)}`);
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const transport = nodemailer.createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.secure,
    auth: endpoint.user !== undefined ? { user: endpoint.user, pass: endpoint.pass ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
    logger: false,
    debug: false,
  });

  const scrub = secretScrubber([endpoint.pass, options.smtpUrl]);
  const where = `${endpoint.host}:${endpoint.port}`;

  return {
    async send(message, key) {
      const to = headerSafe(message.to);
      if (!SINGLE_ADDRESS.test(to) || to.length > 254)
        throw rejected(VENDOR, CALL, `recipient is not one e-mail address: ${JSON.stringify(to.slice(0, 100))}`);
      const inReplyTo = normalizeMessageId(message.inReplyTo);
      const subject = headerSafe(message.subject);

      // SMTP has no idempotency key: when the server's reply to DATA is lost, a retried send
      // delivers a second copy. The Message-ID comes from the key, so that copy is the same
      // message to the reporter's mail client and to receiving servers that drop duplicates.
      try {
        const info = await transport.sendMail({
          from,
          to,
          envelope: { from: fromAddress, to: [to] },
          subject: inReplyTo ? replySubject(subject) : subject,
          text: message.text,
          messageId: messageIdFor(key, domain),
          ...(inReplyTo ? { inReplyTo, references: [inReplyTo] } : {}),
          // RFC 3834: an automatic message, so auto-responders do not answer it.
          headers: { 'Auto-Submitted': inReplyTo ? 'auto-replied' : 'auto-generated' },
        });
        if (info.rejected.length > 0) throw rejected(VENDOR, CALL, 'the server refused the recipient');
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw classifySmtpError(err as NodemailerError, where, scrub);
      }
    },
  };
}

/** Replaces every given secret (as is and percent-encoded) with "***". */
function secretScrubber(secrets: (string | undefined)[]): (text: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => (s ? [s, encodeURIComponent(s)] : [])))].sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((out, needle) => out.split(needle).join('***'), text);
}

const CONNECTION_TROUBLE: Record<string, string> = {
  ECONNECTION: 'connection closed unexpectedly',
  ETIMEDOUT: 'timed out',
  ESOCKET: 'connection failed',
  EDNS: 'host name lookup failed',
  ETLS: 'TLS failed',
  EPROXY: 'proxy failed',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * An SMTP failure as a retry decision:
 *   4xx reply (421, 450, 451, 452, 454…), 503 bad sequence → unavailable (retryable)
 *   5xx reply (550, 553, 554, 535…)                        → rejected (non-retryable)
 *   EAUTH / ENOAUTH without a reply code (no credentials,   → rejected
 *     no common auth method)
 *   connection refused/reset, timeouts, DNS, TLS, socket   → unavailable
 *   a message or envelope nodemailer refused to send       → rejected
 *   anything else                                          → unavailable
 * The message names the reply code, the SMTP command and the server's text (scrubbed of the
 * password): never the credentials.
 */
export function classifySmtpError(err: NodemailerError, where: string, scrub: (text: string) => string = (t) => t): ApplicationFailure {
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const tag = [code, err?.originalCode].filter(Boolean).join(' ');
  const reply = typeof err?.responseCode === 'number' ? err.responseCode : undefined;
  if (reply !== undefined && reply >= 400 && reply < 600) {
    const text = serverText(err.response, reply, scrub);
    // nodemailer names its own steps CONN and API; only real SMTP commands are worth showing.
    const command = err.command && !['CONN', 'API'].includes(err.command) ? ` after ${err.command}` : '';
    const detail = `${reply}${command}${text ? `: ${text}` : ''}${tag ? ` (${tag})` : ''}`;
    return reply >= 500 && reply !== 503 ? rejected(VENDOR, CALL, detail) : unavailable(VENDOR, CALL, detail);
  }
  if (code === 'EAUTH' || code === 'ENOAUTH' || code === 'EOAUTH2')
    return rejected(VENDOR, CALL, `authentication failed at ${where} (${tag})`);
  const trouble = CONNECTION_TROUBLE[err?.originalCode ?? ''] ?? CONNECTION_TROUBLE[code ?? ''];
  if (trouble) {
    const which = err.timeoutType ? ` (${err.timeoutType})` : '';
    return unavailable(VENDOR, CALL, `${trouble}${which} at ${where} (${tag})`);
  }
  if (code === 'EENVELOPE' || code === 'EMESSAGE' || code === 'ECONFIG' || code === 'EREQUIRETLS')
    return rejected(VENDOR, CALL, `${scrub(headerSafe(String(err.message ?? ''))).slice(0, 200)} (${tag})`);
  return unavailable(VENDOR, CALL, `${code ? `${tag}: ` : ''}${scrub(headerSafe(String(err?.message ?? err))).slice(0, 200)}`);
}

/** The server's reply text after the code, one line, at most 200 characters. */
function serverText(response: string | undefined, reply: number, scrub: (text: string) => string): string {
  if (!response) return '';
  return scrub(headerSafe(response.replace(new RegExp(`^${reply}[ -]?`), ''))).slice(0, 200);
}
