/**
 * Auto-close that cannot be turned against the reporter, on the real Temporal server with mails
 * read from a real Dovecot by the poller. The phishing-simulation rule closes a drill report only
 * on facts Warden verified: the drill's sender as our own mail servers (authserv-id
 * mx.corp.example) authenticated it, and every link and attachment of it counted. A mail whose
 * From merely claims the drill vendor, or whose real link is too long to keep or comes after the
 * 200th, goes on to triage with the reason on the timeline; a genuine drill still closes with
 * the polite notice. A mail failing DMARC is not attributed to the employee its From names.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { CaseView, Report } from '../src/domain';
import type { FilingResult } from '../src/intake/filing';
import { fileReport } from '../src/intake/filing';
import { type MailboxPoller, startMailboxPoller } from '../src/intake/mailbox';
import { appendMessages, startImapServer, type TestImapServer } from './support/imap';
import { eventually, startWarden, type TestWarden, testPolicy } from './support/warden';

const MAILBOX = 'phishing@corp.example';
const AUTHSERV = 'mx.corp.example';
const DRILL_FROM = '"IT Security Training" <training@phish-training.example>';
const DRILL_AUTH = `${AUTHSERV}; spf=pass smtp.mailfrom=phish-training.example; dkim=pass header.d=phish-training.example; dmarc=pass header.from=phish-training.example`;
const EMPLOYEE_AUTH = `${AUTHSERV}; spf=pass smtp.mailfrom=corp.example; dkim=pass header.d=corp.example; dmarc=pass header.from=corp.example`;

describe('auto-close on verified facts only', () => {
  const policy = testPolicy();
  let w: TestWarden;
  let imap: TestImapServer;
  let poller: MailboxPoller;
  const filed: { report: Report; result: FilingResult }[] = [];
  const tag = `${process.pid}${Date.now()}`;
  const folder = `autoclose-${tag}`;

  beforeAll(async () => {
    [w, imap] = await Promise.all([startWarden(policy), startImapServer()]);
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({ ...imap.imap, logger: false, disableAutoIdle: true });
    await client.connect();
    await client.mailboxCreate(folder);
    await client.logout();
    poller = startMailboxPoller({
      imap: imap.imap,
      mailbox: folder,
      address: MAILBOX,
      authservIds: [AUTHSERV],
      manual: true,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      file: async (report) => {
        const result = await fileReport(w.client, policy, report, w.taskQueue);
        filed.push({ report, result });
        return result;
      },
    });

    const landing = (n: string) => `https://phish-training.example/landing/${tag}/${n}?rid=Q7x${n}`;
    const employee = (n: string) => `${n}@corp.example`;
    const mails = [
      // A genuine drill, authenticated by our servers, every link on the vendor's domain.
      forward(employee('drill.reporter'), await drillMail({ subject: 'Your parcel could not be delivered', links: [landing('genuine')] })),
      // The real link is longer than 4,096 characters: it is not kept, so it is not checked.
      forward(
        employee('long.link'),
        await drillMail({ subject: 'Shared document waiting', links: [landing('long'), `https://files-${tag}.evil.example/d/${'A1b2C3d4'.repeat(640)}`] }),
      ),
      // The real link comes after 200 links on the vendor's domain.
      forward(
        employee('many.links'),
        await drillMail({
          subject: 'Quarterly benefits update',
          links: [...Array.from({ length: 200 }, (_, i) => `https://phish-training.example/p/${tag}/${i}`), `https://benefits-${tag}.evil.example/login`],
        }),
      ),
      // The From claims the vendor, but no result of ours says so (a header from their own server proves nothing).
      forward(
        employee('claimed.sender'),
        await drillMail({
          subject: 'Password expiry notice',
          links: [landing('claimed')],
          auth: 'mx.phish-training.example; spf=pass smtp.mailfrom=phish-training.example; dkim=pass header.d=phish-training.example; dmarc=pass header.from=phish-training.example',
        }),
      ),
      // Spoofed from an employee: fails SPF and DMARC per our servers.
      await build({
        from: '"Dana Reyes" <dana.reyes@corp.example>',
        to: MAILBOX,
        subject: `Quick favour ${tag}`,
        messageId: `<spoof-${tag}@corp.example>`,
        text: `Are you at your desk? I need you to buy gift cards for a client today: https://giftcards-${tag}.example/buy`,
        headers: { 'Authentication-Results': `${AUTHSERV}; spf=fail smtp.mailfrom=corp.example; dkim=none; dmarc=fail (p=reject dis=none) header.from=corp.example` },
      }),
    ];
    const uids = await appendMessages(imap, await Promise.all(mails), folder);
    expect(await poller.pollNow()).toEqual({ filed: uids, rejected: [] });
  });
  afterAll(async () => {
    await poller?.stop();
    await imap?.stop();
    await w?.stop();
  });

  const caseOf = (reporter: string) => {
    const f = filed.find((x) => x.report.reporter === reporter);
    if (!f) throw new Error(`no report from ${reporter}`);
    return f.result.caseId;
  };
  const view = (caseId: string) => w.view(caseId) as Promise<CaseView>;
  /** The case went on past validation (not closed as the drill), with the rule's verdict on the timeline. */
  async function workedNotClosed(reporter: string): Promise<{ view: CaseView; why: string }> {
    const caseId = caseOf(reporter);
    const v = await eventually(async () => {
      const c = await view(caseId);
      return c.stage === 'closed' || c.timeline.some((t) => t.action === 'stage validating → triage') ? c : undefined;
    }, `case of ${reporter} past validation`);
    expect(v.closure).toBeUndefined();
    expect(v.stage).not.toBe('closed');
    const verdict = v.timeline.find((t) => t.action === 'false-alarm rule phishing-simulation matched but not applied');
    expect(verdict).toBeDefined();
    expect((await w.outbox.read()).filter((m) => m.key === `${caseId}:false-alarm:${reporter}`)).toEqual([]);
    return { view: v, why: verdict!.reason! };
  }

  test('a genuine drill, authenticated by our mail servers, is closed with the polite notice', async () => {
    const reporter = 'drill.reporter@corp.example';
    const caseId = caseOf(reporter);
    const result = (await w.handle(caseId).result()) as CaseView;
    expect(result.closure).toMatchObject({ by: 'warden', resolution: 'false-alarm', reason: 'false-alarm rule phishing-simulation' });
    expect(result.firstReport?.verified).toMatchObject({ senderDomain: 'phish-training.example', by: `${AUTHSERV}: dmarc=pass header.from=phish-training.example` });
    const notice = (await w.outbox.read()).find((m) => m.key === `${caseId}:false-alarm:${reporter}`);
    expect(notice?.body).toMatchObject({ to: reporter });
    expect(String(notice?.body.text)).toContain('phishing-awareness exercise');
  });

  test('a drill-looking mail whose real link is longer than 4,096 characters is not closed as the drill', async () => {
    const { view: v, why } = await workedNotClosed('long.link@corp.example');
    expect(why).toMatch(/not every indicator was checked: 1 of 2 URLs seen not kept: 1 too long \(over 4,096 characters\)/);
    expect(v.firstReport?.description).toContain('Not every indicator was kept');
    expect(v.indicators.urls.some((u) => u.includes('evil.example'))).toBe(false); // dropped: which is why the rule must not trust the rest
  });

  test('a drill-looking mail whose real link comes after the 200th URL is not closed as the drill', async () => {
    const { view: v, why } = await workedNotClosed('many.links@corp.example');
    expect(why).toMatch(/1 of 201 URLs seen not kept: 1 past the cap of 200/);
    expect(v.firstReport?.description).toMatch(/hosts of URLs not kept: benefits-\d+\.evil\.example/);
  });

  test('a mail that only claims the drill vendor as its sender is not closed as the drill', async () => {
    const { view: v, why } = await workedNotClosed('claimed.sender@corp.example');
    expect(why).toMatch(/^the sender phish-training\.example is not verified \(no Authentication-Results header from our mail servers \(mx\.corp\.example\)\)/);
    expect(v.firstReport?.verified).toEqual({ claimedSenderDomain: 'phish-training.example', notVerified: expect.any(String) });
  });

  test('a mail that fails SPF and DMARC is not attributed to the employee its From names', async () => {
    const f = filed.find((x) => x.report.title.endsWith(`Quick favour ${tag}`))!;
    expect(f.report.reporter).toBe(MAILBOX);
    expect(f.report.description).toContain('The From address dana.reyes@corp.example fails DMARC (dmarc=fail by mx.corp.example): the mail is not attributed to that address');
    expect(f.report.messageId).toBeUndefined(); // no thread to the spoofer
    const v = await eventually(async () => {
      const c = await view(f.result.caseId);
      return c.stage !== 'received' && c.stage !== 'validating' ? c : undefined;
    }, 'the spoofed mail triaged');
    expect(v.reporters).toEqual([MAILBOX]);
    expect(v.indicators.domains).toEqual(expect.arrayContaining(['corp.example', `giftcards-${tag}.example`]));
    expect((await w.outbox.read()).filter((m) => m.system === 'mail' && m.body.to === 'dana.reyes@corp.example')).toEqual([]);
  });
});

// ── Helpers ───────────────────────────────────────────────────────────────────────────────────

type ComposeOptions = ConstructorParameters<typeof MailComposer>[0];

function build(options: ComposeOptions): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

let seq = 0;

/** A mail as the drill platform (or someone posing as it) sends it, with our MTA's Authentication-Results. */
function drillMail(o: { subject: string; links: string[]; auth?: string }): Promise<Buffer> {
  return build({
    from: DRILL_FROM,
    to: 'someone@corp.example',
    subject: o.subject,
    date: new Date('2025-04-01T08:00:00Z'),
    messageId: `<drill-${++seq}-${Date.now()}@phish-training.example>`,
    text: 'Please follow the link in this message to continue.',
    html: `<p>Please follow the link to continue.</p>${o.links.map((l, i) => `<a href="${l}">link ${i + 1}</a>`).join(' ')}`,
    headers: { 'Authentication-Results': o.auth ?? DRILL_AUTH },
  });
}

/** An employee's forward as attachment, authenticated by our servers as theirs. */
function forward(employee: string, attached: Buffer): Promise<Buffer> {
  return build({
    from: employee,
    to: MAILBOX,
    subject: 'FW: is this the phishing test?',
    messageId: `<fw-${++seq}-${Date.now()}@corp.example>`,
    text: 'Is this one of the phishing tests?',
    headers: { 'Authentication-Results': EMPLOYEE_AUTH },
    attachments: [{ filename: 'suspicious.eml', content: attached, contentType: 'message/rfc822' }],
  });
}
