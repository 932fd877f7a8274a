/**
 * The SMTP mail connector against a real SMTP receiver on loopback: threading to the reporter's
 * message, deterministic Message-IDs, header injection, and how each SMTP failure is classified
 * for Temporal's retry policy.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { simpleParser } from 'mailparser';
import { REJECTED, UNAVAILABLE } from '../../src/activities/failures';
import { createMailPort, type MailMessage, type MailPort, redactSmtpUrl } from '../../src/activities/mail';
import { type SmtpSimulator, startSmtpSimulator } from '../simulators/smtp';

/** A real phishing mail as a reporter would forward it (override the location with WARDEN_SAMPLE_PHISHING_EML). */
const SAMPLE_PHISHING_EML =
  process.env.WARDEN_SAMPLE_PHISHING_EML ?? '/work/shared/reference/email/real/phishing-spoofed-bank-sender.eml';

const USER = 'warden-mailer';
const PASSWORD = 'c0rrect:h0rse/b@ttery%staple';
const FROM = 'Warden <security@corp.example>';
const REPORTER = 'reporter@corp.example';

const expectedMessageId = (key: string, domain = 'corp.example') =>
  `<warden.${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;

let keyCounter = 0;
const freshKey = () => `WRD-0123456789AB:received:${REPORTER}:${process.pid}:${++keyCounter}`;

const notice = (overrides: Partial<MailMessage> = {}): MailMessage => ({
  to: REPORTER,
  subject: 'Your security report: we are on it (WRD-0123456789AB)',
  text: 'We received your report and are looking into it.\n\n.\nA line with only a dot above.',
  ...overrides,
});

/** The failure a send ended with (the test fails when it succeeded or threw something else). */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected the send to fail');
}

describe('SMTP mail connector', () => {
  let smtp: SmtpSimulator;
  let mail: MailPort;

  beforeAll(async () => {
    smtp = await startSmtpSimulator({ auth: { user: USER, pass: PASSWORD } });
    mail = createMailPort({ smtpUrl: smtp.url({ user: USER, pass: PASSWORD }), from: FROM, timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await smtp.stop();
  });

  test('logs in with percent-encoded credentials and delivers one message to the one recipient', async () => {
    const key = freshKey();
    await mail.send(notice(), key);
    const got = smtp.received.at(-1)!;
    expect(got.user).toBe(USER);
    expect(got.envelope).toEqual({ mailFrom: 'security@corp.example', rcptTo: [REPORTER] });
    expect(got.subject).toBe('Your security report: we are on it (WRD-0123456789AB)');
    expect(got.text?.trim()).toBe('We received your report and are looking into it.\n\n.\nA line with only a dot above.');
    expect(got.messageId).toBe(expectedMessageId(key));
    expect(got.inReplyTo).toBeUndefined();
    expect(got.headers.has('references')).toBe(false);
    expect(got.headers.get('auto-submitted')).toBe('auto-generated');
  });

  (existsSync(SAMPLE_PHISHING_EML) ? test : test.skip)(
    "a reply to a forwarded phishing mail is threaded to the reporter's Message-ID",
    async () => {
      const reported = await simpleParser(readFileSync(SAMPLE_PHISHING_EML));
      expect(reported.messageId).toBe('<202210102011.29AKBWwn005317@vps-051e4cda.vps.ovh.net>');
      const key = freshKey();
      await mail.send(notice({ inReplyTo: reported.messageId }), key);
      const got = smtp.received.at(-1)!;
      expect(got.inReplyTo).toBe(reported.messageId);
      expect(got.references).toEqual([reported.messageId]);
      expect(got.subject).toBe('Re: Your security report: we are on it (WRD-0123456789AB)');
      expect(got.messageId).toBe(expectedMessageId(key));
      expect(got.headers.get('auto-submitted')).toBe('auto-replied');
    },
  );

  test('threading: a bare Message-ID gets its angle brackets, and "Re:" is not doubled', async () => {
    await mail.send(notice({ subject: 'RE: suspicious invoice', inReplyTo: 'CAF=abc.123@mail.example.org' }), freshKey());
    const got = smtp.received.at(-1)!;
    expect(got.inReplyTo).toBe('<CAF=abc.123@mail.example.org>');
    expect(got.references).toEqual(['<CAF=abc.123@mail.example.org>']);
    expect(got.subject).toBe('RE: suspicious invoice');
  });

  test('a Message-ID that is not one id (injection, several ids) is not used: the reply goes unthreaded', async () => {
    await mail.send(notice({ inReplyTo: '<a@b.example>\r\nBcc: attacker@evil.example' }), freshKey());
    const got = smtp.received.at(-1)!;
    expect(got.inReplyTo).toBeUndefined();
    expect(got.headers.has('bcc')).toBe(false);
    expect(got.envelope.rcptTo).toEqual([REPORTER]);
    expect(got.subject).not.toMatch(/^Re:/);
  });

  test('the Message-ID is the same for the same key and different for different keys', async () => {
    const key = freshKey();
    const other = freshKey();
    await mail.send(notice(), key);
    await mail.send(notice(), key); // a retried activity attempt
    await mail.send(notice(), other);
    const [first, retried, different] = smtp.received.slice(-3);
    expect(first.messageId).toBe(expectedMessageId(key));
    expect(retried.messageId).toBe(first.messageId);
    expect(different.messageId).toBe(expectedMessageId(other));
    expect(different.messageId).not.toBe(first.messageId);
  });

  test('messageIdDomain sets the right-hand side of the Message-ID', async () => {
    const port = createMailPort({ smtpUrl: smtp.url({ user: USER, pass: PASSWORD }), from: FROM, messageIdDomain: 'warden.corp.example' });
    const key = freshKey();
    await port.send(notice(), key);
    expect(smtp.received.at(-1)!.messageId).toBe(expectedMessageId(key, 'warden.corp.example'));
  });

  test('a header-injection attempt in the subject does not add a header', async () => {
    const before = smtp.received.length;
    await mail.send(
      notice({ subject: 'Invoice overdue\r\nBcc: attacker@evil.example\r\nX-Injected: yes\nReply-To: attacker@evil.example', inReplyTo: '<x1@corp.example>' }),
      freshKey(),
    );
    expect(smtp.received.length).toBe(before + 1);
    const got = smtp.received.at(-1)!;
    expect(got.envelope.rcptTo).toEqual([REPORTER]);
    expect(got.headers.has('bcc')).toBe(false);
    expect(got.headers.has('x-injected')).toBe(false);
    expect(got.headers.has('reply-to')).toBe(false);
    expect(got.raw).not.toMatch(/^(Bcc|X-Injected|Reply-To):/im);
    expect(got.subject).toBe('Re: Invoice overdue Bcc: attacker@evil.example X-Injected: yes Reply-To: attacker@evil.example');
  });

  test('a recipient that is not exactly one address is refused before anything is sent', async () => {
    const before = smtp.received.length;
    for (const to of [`${REPORTER}\r\nBcc: attacker@evil.example`, `${REPORTER}, attacker@evil.example`, 'Someone <attacker@evil.example>', 'not-an-address']) {
      const failure = await failureOf(mail.send(notice({ to }), freshKey()));
      expect(failure.type).toBe(REJECTED);
      expect(failure.nonRetryable).toBe(true);
    }
    expect(smtp.received.length).toBe(before);
  });

  test.each([
    ['rcpt', 421],
    ['rcpt', 450],
    ['rcpt', 451],
    ['data', 451],
    ['mail', 452],
  ] as const)('%s refused with %d: retryable VendorUnavailable, and the retry delivers the same message', async (stage, code) => {
    smtp.rejectNext(stage, code);
    const key = freshKey();
    const failure = await failureOf(mail.send(notice(), key));
    expect(failure.type).toBe(UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain(`SMTP send: ${code}`);
    expect(failure.message).not.toContain(PASSWORD);

    await mail.send(notice(), key); // what the next activity attempt does
    expect(smtp.received.at(-1)!.messageId).toBe(expectedMessageId(key));
  });

  test.each([
    ['rcpt', 550],
    ['rcpt', 553],
    ['data', 554],
    ['mail', 550],
  ] as const)('%s refused with %d: non-retryable VendorRejected', async (stage, code) => {
    const before = smtp.received.length;
    smtp.rejectNext(stage, code, 1, 'Requested action not taken: mailbox unavailable');
    const failure = await failureOf(mail.send(notice(), freshKey()));
    expect(failure.type).toBe(REJECTED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`SMTP send: ${code}`);
    expect(failure.message).toContain('mailbox unavailable');
    expect(smtp.received.length).toBe(before);
  });

  test('a temporary login failure (454) is retryable', async () => {
    smtp.rejectAuth(1, 454);
    const failure = await failureOf(mail.send(notice(), freshKey()));
    expect(failure.type).toBe(UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('454');
  });

  test('bad credentials: non-retryable, and the password appears nowhere in the failure', async () => {
    const wrong = 'Wr0ng-P@ss:word/%!';
    const port = createMailPort({ smtpUrl: smtp.url({ user: USER, pass: wrong }), from: FROM, timeoutMs: 5_000 });
    const failure = await failureOf(port.send(notice(), freshKey()));
    expect(failure.type).toBe(REJECTED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('535');
    const everything = [failure.message, failure.stack ?? '', JSON.stringify(failure), JSON.stringify(failure.details ?? null)].join('\n');
    for (const secret of [wrong, encodeURIComponent(wrong), Buffer.from(`\u0000${USER}\u0000${wrong}`).toString('base64')])
      expect(everything).not.toContain(secret);
    expect(smtp.logins.at(-1)).toEqual({ user: USER, accepted: false });
  });
});

describe('SMTP mail connector: no server to talk to', () => {
  const sockets = new Set<Socket>();
  let silent: Server;
  let silentPort: number;
  let closedPort: number;

  beforeAll(async () => {
    // A port that was free a moment ago and is closed now: connecting is refused.
    const probe = createServer();
    closedPort = await new Promise<number>((ok) => probe.listen(0, '127.0.0.1', () => ok((probe.address() as { port: number }).port)));
    await new Promise((ok) => probe.close(ok));
    // A server that accepts the connection and never greets.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    silentPort = await new Promise<number>((ok) => silent.listen(0, '127.0.0.1', () => ok((silent.address() as { port: number }).port)));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((ok) => silent.close(ok));
  });

  test('connection refused (a closed port): retryable VendorUnavailable, credentials not named', async () => {
    const port = createMailPort({ smtpUrl: `smtp://${USER}:hunter2-secret@127.0.0.1:${closedPort}`, from: FROM, timeoutMs: 2_000 });
    const failure = await failureOf(port.send(notice(), freshKey()));
    expect(failure.type).toBe(UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('ECONNREFUSED');
    expect(failure.message).not.toContain('hunter2-secret');
  });

  test('a server that never answers: timed out, retryable', async () => {
    const port = createMailPort({ smtpUrl: `smtp://127.0.0.1:${silentPort}`, from: FROM, timeoutMs: 300 });
    const failure = await failureOf(port.send(notice(), freshKey()));
    expect(failure.type).toBe(UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('ETIMEDOUT');
  });
});

describe('SMTP mail connector: configuration', () => {
  test('SMTP URLs are shown with the password redacted', () => {
    expect(redactSmtpUrl('smtp://user:pass@host:587')).toBe('smtp://user:***@host:587');
    expect(redactSmtpUrl('smtps://mailer:p@ss@w0rd@mail.example:465')).toBe('smtps://mailer:***@mail.example:465');
    expect(redactSmtpUrl('smtp://host:25')).toBe('smtp://host:25');
  });

  test.each([
    ['an invalid URL', 'smtp://user:hunter2@mail.example:99999'],
    ['another scheme', 'http://user:hunter2@mail.example:587'],
    ['broken percent-encoding', 'smtp://user:hunter2%zz@mail.example:587'],
  ])('%s is refused at start-up without showing the password', (_what, smtpUrl) => {
    let message = '';
    try {
      createMailPort({ smtpUrl, from: FROM });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^mail: /);
    expect(message).toContain('user:***@');
    expect(message).not.toContain('hunter2');
  });

  test('a From without an address is refused at start-up', () => {
    expect(() => createMailPort({ smtpUrl: 'smtp://127.0.0.1:25', from: 'Warden' })).toThrow(/"from" is not an e-mail address/);
  });
});
