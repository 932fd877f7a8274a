/**
 * A real SMTP receiver for tests (smtp-server on 127.0.0.1, a free port, no TLS). Every accepted
 * message is parsed with mailparser and recorded; the next N MAIL FROM, RCPT TO or DATA
 * commands can be refused with a chosen reply code, and so can logins.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type HeaderValue } from 'mailparser';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

export interface ReceivedMail {
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The logged-in user, when the client authenticated. */
  user?: string;
  /** Parsed headers, lower-case names. */
  headers: Map<string, HeaderValue>;
  /** The message as it came over DATA. */
  raw: string;
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  subject?: string;
  text?: string;
}

export type SmtpStage = 'mail' | 'rcpt' | 'data';

export interface SmtpSimulator {
  host: string;
  port: number;
  /** smtp://host:port, with the given credentials (percent-encoded) when there are any. */
  url(credentials?: { user: string; pass: string }): string;
  /** Messages accepted, in order. */
  received: ReceivedMail[];
  /** Every login attempt, in order (user and whether it was accepted; never the password). */
  logins: { user?: string; accepted: boolean }[];
  /** Refuse the next `count` commands at `stage` with `code` (e.g. 451 temporary, 550 permanent). */
  rejectNext(stage: SmtpStage, code: number, count?: number, text?: string): void;
  /** Refuse the next `count` logins with `code` (535 by default), whatever the credentials. */
  rejectAuth(count?: number, code?: number): void;
  stop(): Promise<void>;
}

export interface SmtpSimulatorOptions {
  /** When set, clients must log in (PLAIN or LOGIN) with exactly these credentials. */
  auth?: { user: string; pass: string };
}

const DEFAULT_TEXT: Record<SmtpStage, string> = { mail: 'Sender refused', rcpt: 'Recipient refused', data: 'Message refused' };

export async function startSmtpSimulator(options: SmtpSimulatorOptions = {}): Promise<SmtpSimulator> {
  const received: ReceivedMail[] = [];
  const logins: { user?: string; accepted: boolean }[] = [];
  const pending: Record<SmtpStage, { code: number; text: string }[]> = { mail: [], rcpt: [], data: [] };
  const authFailures: number[] = [];

  const refusal = (stage: SmtpStage): SMTPServerError | undefined => {
    const next = pending[stage].shift();
    if (!next) return undefined;
    const err: SMTPServerError = new Error(next.text);
    err.responseCode = next.code;
    return err;
  };

  const server = new SMTPServer({
    secure: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    banner: 'warden test receiver',
    onAuth(auth, _session, callback) {
      const forced = authFailures.shift();
      const ok = forced === undefined && !!options.auth && auth.username === options.auth.user && auth.password === options.auth.pass;
      logins.push({ user: auth.username, accepted: ok });
      if (ok) return callback(null, { user: auth.username });
      return callback(null, { message: 'Authentication credentials invalid', responseCode: forced ?? 535 });
    },
    onMailFrom(_address, _session, callback) {
      callback(refusal('mail'));
    },
    onRcptTo(_address, _session, callback) {
      callback(refusal('rcpt'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        const refused = refusal('data');
        if (refused) return callback(refused);
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            received.push({
              envelope: {
                mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                rcptTo: session.envelope.rcptTo.map((r) => r.address),
              },
              user: typeof session.user === 'string' ? session.user : undefined,
              headers: parsed.headers,
              raw: raw.toString('utf8'),
              messageId: parsed.messageId,
              inReplyTo: parsed.inReplyTo,
              references: parsed.references === undefined ? [] : ([] as string[]).concat(parsed.references),
              subject: parsed.subject,
              text: parsed.text,
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  // smtp-server reports client errors (e.g. a client hanging up) as 'error' events: not a test failure.
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;
  const host = '127.0.0.1';

  return {
    host,
    port,
    url: (credentials) =>
      credentials
        ? `smtp://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@${host}:${port}`
        : `smtp://${host}:${port}`,
    received,
    logins,
    rejectNext(stage, code, count = 1, text = DEFAULT_TEXT[stage]) {
      for (let i = 0; i < count; i++) pending[stage].push({ code, text });
    },
    rejectAuth(count = 1, code = 535) {
      for (let i = 0; i < count; i++) authFailures.push(code);
    },
    stop: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
