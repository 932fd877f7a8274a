/**
 * The security mailbox: an IMAP poller that turns reported mails into Reports and files them.
 *
 * Each pass takes the mailbox's unseen messages that carry neither `$WardenFiled` nor
 * `$WardenRejected`, in UID order. For each one: fetch the source (BODY.PEEK, so reading does not
 * mark it), parse it with mailparser, build the report (./mail-report) and file it; only after
 * filing resolved is the message marked `\Seen` and `$WardenFiled`, in one STORE.
 *
 * - **Nothing lost**: a message is marked only once its report is filed. A crash or a lost
 *   connection in between leaves it unmarked, and the next pass files it again.
 * - **Nothing counted twice**: the report's id is derived from the mailbox, its UIDVALIDITY and
 *   the message's UID, so a report filed again after such a crash carries the same reportId, and
 *   the case ignores a reportId it already holds.
 * - **Nothing dropped**: a message that is not a report, or cannot be made into one, is flagged
 *   `$WardenRejected` and stays unseen for a human; the log says why.
 * - A filing failure (Temporal unreachable) ends the pass there, the message stays unmarked and
 *   the next pass starts again from it, in order.
 *
 * On a server that cannot store keywords, filed messages are marked `\Seen` only, and rejected
 * ones `\Flagged` (and left unseen); unseen flagged messages are then left alone.
 * Passes run every `intervalMs`, and at once when IDLE reports new mail. The password never
 * appears in a log line or an error.
 */
import { createHash } from 'node:crypto';
import { ImapFlow, type MailboxObject } from 'imapflow';
import { simpleParser } from 'mailparser';
import { describeIssues, type Report, ReportInput } from '../domain';
import { readMail } from './mail-report';
import { normalizedReport } from './sources';

export const FILED_FLAG = '$WardenFiled';
export const REJECTED_FLAG = '$WardenRejected';
const SEEN = '\\Seen';
const FLAGGED = '\\Flagged';

export interface MailboxLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface MailboxPollerOptions {
  imap: {
    host: string;
    port: number;
    /** true: TLS from the start (993). false: STARTTLS (143), required unless cleartext is allowed. */
    secure: boolean;
    /** Let the password cross the wire unencrypted when the server offers no STARTTLS (default: only to a loopback host). */
    allowCleartext?: boolean;
    auth: { user: string; pass: string };
    /** Node TLS options, e.g. `{ ca }` for a private CA. */
    tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer; servername?: string };
  };
  /** The IMAP folder to read (default INBOX). */
  mailbox?: string;
  /** The security mailbox's e-mail address (default: the IMAP user when it is an address). */
  address?: string;
  /** Domains whose senders are employees (default: the address's domain). */
  internalDomains?: string[];
  /**
   * The authserv-ids of the organisation's own mail servers (`WARDEN_MAIL_AUTHSERV_ID`): only
   * their Authentication-Results verify a reported mail's sender (src/intake/mail-auth.ts).
   * None: no sender is verified, so no rule on the sender (`senderDomainIn`) ever closes a report.
   */
  authservIds?: string[];
  /** Files one report; resolves once it is durable. */
  file: (report: Report) => Promise<unknown>;
  /** How often to look for new mail (default 60 s). */
  intervalMs?: number;
  /** Also listen with IMAP IDLE and poll as soon as mail arrives (default true). */
  idle?: boolean;
  /** No passes of its own (no start-up pass, timer or IDLE): only `pollNow()` runs them. */
  manual?: boolean;
  /** Larger messages are rejected for a human (default 25 MiB). */
  maxMessageBytes?: number;
  /** Every filing that failed, and any error of a pass the poller started itself (the connection, the server). */
  onError?: (error: Error) => void;
  logger?: MailboxLogger;
}

export interface PollResult {
  /** UIDs filed in this pass, in order. */
  filed: number[];
  /** UIDs flagged for a human, with the reason. */
  rejected: { uid: number; reason: string }[];
  /** The UID whose filing failed and ended the pass (it stays unmarked). */
  failed?: number;
}

export interface MailboxPoller {
  /** Run one pass after any pass under way; resolves with what it did, rejects with what failed. */
  pollNow(): Promise<PollResult>;
  /** Stop polling, let a pass under way finish, log out. */
  stop(): Promise<void>;
}

/** The report id of one message: stable across restarts, so filing it twice is recognisable. */
export function mailReportId(account: string, mailbox: string, uidValidity: bigint | number | string, uid: number): string {
  const box = createHash('sha256').update(`${account.toLowerCase()}\n${mailbox}`, 'utf8').digest('hex').slice(0, 12);
  return `mail-${box}-${uidValidity}-${uid}`;
}

export function startMailboxPoller(options: MailboxPollerOptions): MailboxPoller {
  const { imap, file } = options;
  const folder = options.mailbox ?? 'INBOX';
  const address = options.address ?? (imap.auth.user.includes('@') ? imap.auth.user : undefined);
  if (!address) throw new Error('mailbox poller: set the security mailbox address (the IMAP user is not an e-mail address)');
  const intervalMs = options.intervalMs ?? 60_000;
  const manual = options.manual ?? false;
  const idle = !manual && (options.idle ?? true);
  const maxBytes = options.maxMessageBytes ?? 25 * 1024 * 1024;
  const logger = options.logger ?? consoleLogger;
  const where = `${imap.auth.user}@${imap.host}:${imap.port}/${folder}`;
  // Defence in depth: the password is never put into a message, and should a server or library
  // echo it, it is cut out (a password under four characters cannot be told from ordinary text).
  const secret = imap.auth.pass.length >= 4 ? imap.auth.pass : undefined;
  const scrub = (text: string) => (secret ? text.split(secret).join('***') : text);
  /** An error fit to log: the password scrubbed out, and nothing of the original but its message and code. */
  const safeError = (err: unknown, context: string): Error => {
    const e = err as { message?: unknown; code?: unknown; authenticationFailed?: unknown; responseText?: unknown; response?: unknown };
    let message = typeof e?.message === 'string' ? e.message : String(err);
    if (e?.authenticationFailed === true) message = `authentication failed (check the user and password)${typeof e.response === 'string' && e.response ? `: ${e.response}` : ''}`;
    else if (typeof e?.responseText === 'string' && e.responseText) message = `${message}: ${e.responseText}`;
    const safe = new Error(scrub(`mailbox ${where}: ${context}: ${message}`));
    if (typeof e?.code === 'string') (safe as Error & { code: string }).code = e.code;
    return safe;
  };
  const onError = options.onError ?? ((err: Error) => logger.error(err.message));

  let client: ImapFlow | undefined;
  let stopping = false;
  let chain: Promise<unknown> = Promise.resolve();
  let queued = false;

  async function connected(): Promise<ImapFlow> {
    if (client?.usable) return client;
    client?.close();
    const c = new ImapFlow({
      host: imap.host,
      port: imap.port,
      secure: imap.secure,
      auth: { user: imap.auth.user, pass: imap.auth.pass },
      ...(imap.tls ? { tls: imap.tls } : {}),
      // Without TLS from the start, STARTTLS is required: a stripped capability list must not
      // make the login go out in cleartext (a loopback server may be cleartext when allowed).
      ...(!imap.secure && !(imap.allowCleartext ?? isLoopback(imap.host)) ? { doSTARTTLS: true } : {}),
      logger: false,
      disableAutoIdle: !idle,
      // IDLE soon after a pass, so new mail is seen within seconds rather than at the next interval.
      autoIdleDelay: 2_000,
      connectionTimeout: 30_000,
      greetingTimeout: 15_000,
      clientInfo: { name: 'warden-mailbox' },
    });
    // The connection's error is also the pass's error; without a listener it would end the process.
    c.on('error', (err: Error) => {
      if (!stopping) logger.warn(safeError(err, 'connection error').message);
    });
    c.on('close', () => {
      if (client === c) client = undefined;
    });
    c.on('exists', () => {
      if (!stopping && !manual) schedule();
    });
    try {
      await c.connect();
    } catch (err) {
      c.close();
      throw safeError(err, 'cannot connect');
    }
    client = c;
    return c;
  }

  async function pass(): Promise<PollResult> {
    const result: PollResult = { filed: [], rejected: [] };
    if (stopping) return result;
    const c = await connected();
    let lock;
    try {
      lock = await c.getMailboxLock(folder);
    } catch (err) {
      throw safeError(err, 'cannot open the mailbox');
    }
    try {
      const box = c.mailbox as MailboxObject;
      const keywords = storesKeywords(box);
      const query = keywords ? { seen: false, unKeyword: FILED_FLAG, not: { keyword: REJECTED_FLAG } } : { seen: false, flagged: false };
      const found = await c.search(query, { uid: true });
      const uids = [...(found || [])].sort((a, b) => a - b);
      for (const uid of uids) {
        if (stopping) break;
        const outcome = await handle(c, box, keywords, uid, result);
        if (outcome === 'failed') {
          result.failed = uid;
          break;
        }
      }
      return result;
    } catch (err) {
      throw safeError(err, 'pass failed');
    } finally {
      lock.release();
    }
  }

  async function handle(c: ImapFlow, box: MailboxObject, keywords: boolean, uid: number, result: PollResult): Promise<'filed' | 'rejected' | 'skipped' | 'failed'> {
    const meta = await c.fetchOne(String(uid), { uid: true, flags: true, size: true }, { uid: true });
    if (!meta) return 'skipped'; // expunged meanwhile
    const flags = meta.flags ?? new Set<string>();
    if (flags.has(SEEN) || flags.has(FILED_FLAG) || flags.has(REJECTED_FLAG)) return 'skipped';

    const reject = async (reason: string, messageId?: string) => {
      await c.messageFlagsAdd(String(uid), [keywords ? REJECTED_FLAG : FLAGGED], { uid: true });
      result.rejected.push({ uid, reason });
      logger.warn(`mailbox ${where}: message UID ${uid} is not filed, flagged for a human: ${reason}`, { uid, messageId, reason });
      return 'rejected' as const;
    };

    if (meta.size !== undefined && meta.size > maxBytes) return reject(`too large (${meta.size} bytes, limit ${maxBytes})`);
    const full = await c.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
    if (!full || !full.source) return 'skipped';
    const source = full.source;

    let report: Report;
    let kind: string;
    let messageId: string | undefined;
    try {
      const parsed = await simpleParser(source, { skipImageLinks: true });
      messageId = parsed.messageId;
      const read = await readMail(parsed, { mailbox: address!, internalDomains: options.internalDomains, authservIds: options.authservIds, source });
      kind = read.kind;
      const checked = ReportInput.safeParse(read.input);
      if (!checked.success) return reject(`the report built from it is invalid: ${describeIssues(checked.error).join('; ')}`, messageId);
      // What the adapter verified goes on the Report itself, never through ReportInput.
      report = {
        ...normalizedReport(read.input, source),
        reportId: mailReportId(imap.auth.user, folder, box.uidValidity, uid),
        ...(read.verified ? { verified: read.verified } : {}),
        ...(read.indicatorCounts ? { indicatorCounts: read.indicatorCounts } : {}),
      };
    } catch (err) {
      return reject(scrub((err as Error)?.message ?? String(err)), messageId);
    }

    try {
      await file(report);
    } catch (err) {
      onError(safeError(err, `filing message UID ${uid} failed (it stays unseen and is filed again on the next pass)`));
      return 'failed';
    }
    // Filed: mark it, both flags in one STORE. Should this fail, the next pass files it again
    // under the same reportId, which the case ignores.
    await c.messageFlagsAdd(String(uid), keywords ? [SEEN, FILED_FLAG] : [SEEN], { uid: true });
    result.filed.push(uid);
    logger.info(`mailbox ${where}: filed message UID ${uid} (${kind}) as report ${report.reportId}`, { uid, messageId, reportId: report.reportId });
    return 'filed';
  }

  function enqueue(): Promise<PollResult> {
    const run = chain.then(() => pass());
    chain = run.catch(() => undefined);
    return run;
  }

  /** A pass the poller starts itself: at most one waiting; its errors go to onError. */
  function schedule(): void {
    if (queued || stopping) return;
    queued = true;
    const run = chain.then(() => {
      queued = false;
      return pass();
    });
    chain = run.catch((err: unknown) => {
      if (!stopping) onError(err instanceof Error ? err : safeError(err, 'pass failed'));
    });
  }

  const timer = manual ? undefined : setInterval(schedule, intervalMs);
  timer?.unref?.();
  if (!manual) schedule();

  return {
    pollNow: enqueue,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      await chain;
      const c = client;
      client = undefined;
      if (!c) return;
      try {
        await Promise.race([c.logout(), new Promise((r) => setTimeout(r, 5_000).unref())]);
      } catch {
        // already gone
      } finally {
        c.close();
      }
    },
  };
}

/** Whether the open mailbox lets us store our own keywords (PERMANENTFLAGS has \* or both of ours). */
function storesKeywords(box: MailboxObject): boolean {
  const permanent = box.permanentFlags;
  if (!permanent) return true;
  return permanent.has('\\*') || (permanent.has(FILED_FLAG) && permanent.has(REJECTED_FLAG));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const consoleLogger: MailboxLogger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
