/**
 * The security mailbox end to end: messages APPENDed to a real Dovecot on loopback, read by the
 * poller, filed into the real Temporal server, and read back from the case views and the flags.
 * The samples are ../shared/reference/email (real phishing and DMARC reports, constructed
 * employee reports and an ARF complaint).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer';
import { simpleParser } from 'mailparser';
import type { CaseView, Report } from '../src/domain';
import { caseIdFor, fileReport, type FilingResult, fingerprintOf, toReport } from '../src/intake/filing';
import { readMail, reportFromMail } from '../src/intake/mail-report';
import { FILED_FLAG, mailReportId, type MailboxLogger, type MailboxPoller, REJECTED_FLAG, startMailboxPoller } from '../src/intake/mailbox';
import { appendMessages, flagsByUid, markAllUnseen, startImapServer, type TestImapServer, uidValidity } from './support/imap';
import { eventually, startWarden, type TestWarden, testPolicy } from './support/warden';

const EMAIL = process.env.WARDEN_EMAIL_REFERENCE ?? resolve(__dirname, '../../shared/reference/email');
const sample = (path: string) => readFileSync(resolve(EMAIL, path));
const MAILBOX = 'phishing@corp.example';
const SEEN = '\\Seen';

describe('security mailbox poller', () => {
  let w: TestWarden;
  let imap: TestImapServer;
  const policy = testPolicy();
  const pollers: MailboxPoller[] = [];
  let folderCount = 0;

  beforeAll(async () => {
    [w, imap] = await Promise.all([startWarden(policy), startImapServer()]);
  });
  afterAll(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await imap?.stop();
    await w?.stop();
  });

  /** A fresh folder per test, so each starts from an empty mailbox. */
  async function newFolder(): Promise<string> {
    const name = `t${++folderCount}-${Date.now()}`;
    const client = new ImapFlow({ ...imap.imap, logger: false, disableAutoIdle: true });
    await client.connect();
    await client.mailboxCreate(name);
    await client.logout();
    return name;
  }

  interface Filing {
    report: Report;
    result: FilingResult;
  }

  /** A poller on `folder` that files into the test worker; it polls only when asked. */
  function poller(folder: string, opts: { file?: (report: Report) => Promise<unknown>; logs?: string[]; onError?: (e: Error) => void } = {}) {
    const filings: Filing[] = [];
    const logs = opts.logs ?? [];
    const logger: MailboxLogger = {
      info: (m, f) => logs.push(`info ${m} ${JSON.stringify(f ?? {})}`),
      warn: (m, f) => logs.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
      error: (m, f) => logs.push(`error ${m} ${JSON.stringify(f ?? {})}`),
    };
    const file =
      opts.file ??
      (async (report: Report) => {
        const result = await fileReport(w.client, policy, report, w.taskQueue);
        filings.push({ report, result });
        return result;
      });
    const p = startMailboxPoller({
      imap: imap.imap,
      mailbox: folder,
      address: MAILBOX,
      file,
      manual: true,
      logger,
      onError: opts.onError ?? ((e) => logs.push(`onError ${e.message}`)),
    });
    pollers.push(p);
    return { p, filings, logs };
  }

  const viewOf = async (caseId: string) => (await w.view(caseId)) as CaseView;
  const categorized = (caseId: string, evidence = 1) =>
    eventually(async () => {
      const v = await viewOf(caseId);
      return v.classification && v.evidenceCount >= evidence ? v : undefined;
    }, `case ${caseId} categorized with ${evidence} report(s)`);
  const uidOf = (report: Report) => Number(report.reportId.split('-').pop());

  test('reported mails become cases: forwards, the real phishing mail, DMARC and ARF reports; marked only after filing', async () => {
    const folder = await newFolder();
    const messages = {
      attachment: sample('constructed/user-report-forward-as-attachment.eml'),
      inline: sample('constructed/user-report-inline-forward.eml'),
      direct: sample('real/phishing-spoofed-bank-sender.eml'),
      dmarc: sample('real/dmarc-failure-report-arf.eml'),
      netease: sample('real/dmarc-failure-report-netease-base64.eml'),
      abuse: sample('constructed/arf-abuse-complaint.eml'),
    };
    const names = Object.keys(messages) as (keyof typeof messages)[];
    const uids = await appendMessages(imap, Object.values(messages), folder);
    const uidOfName = Object.fromEntries(names.map((n, i) => [n, uids[i]])) as Record<keyof typeof messages, number>;

    // Check the message's flags at the moment it is filed, through a second connection.
    const seenWhenFiled: Record<number, boolean> = {};
    const filings: Filing[] = [];
    const { p } = poller(folder, {
      file: async (report) => {
        seenWhenFiled[uidOf(report)] = (await flagsByUid(imap, folder)).get(uidOf(report))?.has(SEEN) ?? false;
        const result = await fileReport(w.client, policy, report, w.taskQueue);
        filings.push({ report, result });
        return result;
      },
    });
    const outcome = await p.pollNow();
    expect(outcome).toEqual({ filed: uids, rejected: [] });
    expect(Object.values(seenWhenFiled)).toEqual(uids.map(() => false));
    const flags = await flagsByUid(imap, folder);
    for (const uid of uids) expect([...flags.get(uid)!].sort()).toEqual([FILED_FLAG, SEEN].sort());

    const validity = await uidValidity(imap, folder);
    const byName = (n: keyof typeof messages) => filings.find((f) => uidOf(f.report) === uidOfName[n])!;
    for (const n of names) expect(byName(n).report.reportId).toBe(mailReportId(MAILBOX, folder, validity, uidOfName[n]));
    for (const f of filings) {
      expect(f.report.source).toBe('phishing-mailbox');
      expect(f.report.raw?.sha256).toMatch(/^[0-9a-f]{64}$/);
    }

    // Dana forwarded the real phishing mail as an attachment, and the same mail also arrived
    // directly: one case, two reports.
    const bank = byName('attachment').result.caseId;
    expect(byName('direct').result.caseId).toBe(bank);
    const bankView = await categorized(bank, 2);
    expect(bankView.title).toBe('Reported email: Transferencia Interbancaria Banca en Línea');
    expect(bankView.reporters.sort()).toEqual(['dana.reyes@corp.example', MAILBOX]);
    expect(bankView.reporterThreads['dana.reyes@corp.example']).toBe('<a3f9c2e1-7d44-4b1e-9c0a-5e2b8f6d1c90@corp.example>');
    expect(bankView.reporterThreads[MAILBOX]).toBeUndefined(); // no thread to the phisher's message
    expect(bankView.indicators.domains).toContain('bbva.mx');
    expect(bankView.classification!.category).toBe('phishing');
    expect(bankView.evidenceCount).toBe(2);
    const dana = byName('attachment').report;
    expect(dana.messageId).toBe('<a3f9c2e1-7d44-4b1e-9c0a-5e2b8f6d1c90@corp.example>');
    expect(dana.categoryHint).toBe('phishing');
    expect(dana.observedAt).toBe('2022-10-10T20:11:32.000Z'); // the suspicious mail's Date
    expect(dana.description).toContain('I did not click anything');
    expect(dana.description).toContain('Reply-To: info@alejandrosalcedo.es');
    expect(dana.description).toContain('Return-Path: www-data@vps-051e4cda.vps.ovh.net');
    expect(dana.description).toMatch(/Authentication: spf=none .*Received-SPF: none/);

    // Mark's inline forward: the link is only in the quoted part (text and quoted-printable HTML).
    const mark = byName('inline');
    const markView = await categorized(mark.result.caseId);
    expect(markView.title).toBe('Reported email: Action required: your mailbox storage is full');
    expect(markView.reporters).toEqual(['mark.chen@corp.example']);
    expect(markView.reporterThreads['mark.chen@corp.example']).toBe('<DB9PR10MB5123A1B2C3D4E5F6@DB9PR10MB5123.corp.example>');
    expect(markView.indicators.urls).toEqual(['https://mailbox-upgrade.corp-example-support.example/owa/validate?u=mark.chen%40corp.example']);
    expect(markView.indicators.domains.sort()).toEqual(['corp-example-support.example', 'mailbox-upgrade.corp-example-support.example']);
    expect(markView.classification!.category).toBe('phishing');
    expect(mark.report.description).toContain('Looks like phishing?');
    expect(mark.report.description).toContain('From: IT Helpdesk <helpdesk@corp-example-support.example>');

    // Machine reports: DMARC failure reports (conforming, and base64 in multipart/mixed) and an ARF complaint.
    const dmarc = await categorized(byName('dmarc').result.caseId);
    expect(dmarc.title).toBe('DMARC failure report (auth-failure) for example.com');
    expect(dmarc.reporters).toEqual(['dmarc-noreply@linkedin.com']);
    expect(dmarc.reporterThreads['dmarc-noreply@linkedin.com']).toBe('<BB.91.26019.C3EA7CC5@mail516.prod.linkedin.com>');
    expect(dmarc.indicators).toMatchObject({ ips: ['10.10.10.10'], domains: ['example.com'] });
    expect(dmarc.classification!.category).toBe('phishing');

    const netease = await categorized(byName('netease').result.caseId);
    expect(netease.title).toBe('DMARC failure report (auth-failure) for cardinal.com');
    expect(netease.reporters).toEqual(['abuse@163.com']);
    expect(netease.indicators).toMatchObject({ ips: ['167.89.69.24'], domains: ['cardinal.com'] });

    const abuse = await categorized(byName('abuse').result.caseId);
    expect(abuse.title).toBe('Abuse complaint (abuse) for corp.example');
    expect(abuse.reporters).toEqual(['fbl-noreply@isp.example.net']);
    expect(abuse.indicators).toMatchObject({ ips: ['192.0.2.25'], urls: ['https://promo.corp.example/spring-sale'] });
    expect(abuse.indicators.domains.sort()).toEqual(['corp.example', 'promo.corp.example']);

    expect(new Set(filings.map((f) => f.result.caseId)).size).toBe(5);
    // A second pass finds nothing new.
    expect(await p.pollNow()).toEqual({ filed: [], rejected: [] });
  });

  test('a campaign: the same phish forwarded as attachment by five employees is one case with five reporters', async () => {
    const folder = await newFolder();
    const employees = ['ana', 'ben', 'chloe', 'dev', 'eve'].map((n) => `${n}@corp.example`);
    const invoice = Buffer.from('%PDF-1.4\n% an invoice that is not one\n', 'utf8');
    const wrappers = await Promise.all(
      employees.map(async (employee, i) => {
        // Each employee got the same mail, with their own tracking token in the link.
        const phish = await build({
          from: '"Accounts Payable" <ap@invoices-portal.example>',
          to: employee,
          subject: 'Overdue invoice INV-2291',
          date: new Date('2025-03-10T09:00:00Z'),
          messageId: `<inv-2291-${i}@invoices-portal.example>`,
          text: `Please settle the overdue invoice: https://pay.invoices-portal.example/inv/2291?r=${i}`,
          html: `<p>Please settle <a href="https://pay.invoices-portal.example/inv/2291?r=${i}">the overdue invoice</a>.</p>`,
          attachments: [{ filename: 'INV-2291.pdf', content: invoice, contentType: 'application/pdf' }],
        });
        return build({
          from: employee,
          to: MAILBOX,
          subject: 'Phishing?',
          messageId: `<report-${i}@corp.example>`,
          text: `Looks fake, reporting. (${employee})`,
          attachments: [{ filename: 'Overdue invoice INV-2291.eml', content: phish, contentType: 'message/rfc822' }],
        });
      }),
    );
    const uids = await appendMessages(imap, wrappers, folder);
    const { p, filings } = poller(folder);
    expect(await p.pollNow()).toEqual({ filed: uids, rejected: [] });

    const caseIds = new Set(filings.map((f) => f.result.caseId));
    expect(caseIds.size).toBe(1);
    expect(filings.map((f) => f.result.deduplicated)).toEqual([false, true, true, true, true]);
    const [caseId] = caseIds;
    const view = await categorized(caseId, 5);
    expect(view.evidenceCount).toBe(5);
    expect(view.reporters.sort()).toEqual(employees);
    for (const [i, employee] of employees.entries()) expect(view.reporterThreads[employee]).toBe(`<report-${i}@corp.example>`);
    expect(view.title).toBe('Reported email: Overdue invoice INV-2291');
    expect(view.indicators.hashes).toEqual([createHash('sha256').update(invoice).digest('hex')]);
    expect(view.indicators.domains.sort()).toEqual(['invoices-portal.example', 'pay.invoices-portal.example']);
    expect(view.indicators.urls).toHaveLength(5);
    expect(view.firstReport?.observedAt).toBe('2025-03-10T09:00:00.000Z');
    expect(view.classification!.category).toBe('phishing');
  });

  test('a crash between filing and marking: nothing lost, nothing counted twice', async () => {
    const folder = await newFolder();
    const phishes = await Promise.all(
      ['alpha', 'bravo', 'charlie'].map((n) =>
        build({
          from: `"${n} support" <support@${n}-login.example>`,
          to: MAILBOX,
          subject: `Verify your ${n} account`,
          date: new Date('2025-03-11T12:00:00Z'),
          text: `Verify now: https://${n}-login.example/verify`,
        }),
      ),
    );
    const uids = await appendMessages(imap, phishes, folder);
    const validity = await uidValidity(imap, folder);

    // First poller: the second message's report is filed, then the poller "crashes" before marking it.
    const filedIds: string[] = [];
    let crashed = false;
    const errors: Error[] = [];
    const first = poller(folder, {
      file: async (report) => {
        const result = await fileReport(w.client, policy, report, w.taskQueue);
        filedIds.push(report.reportId);
        if (uidOf(report) === uids[1] && !crashed) {
          crashed = true;
          throw new Error('simulated crash after filing, before marking');
        }
        return result;
      },
      onError: (e) => errors.push(e),
    });
    expect(await first.p.pollNow()).toEqual({ filed: [uids[0]], rejected: [], failed: uids[1] });
    expect(errors.map((e) => e.message).join()).toMatch(/filing message UID \d+ failed .*simulated crash/);
    let flags = await flagsByUid(imap, folder);
    expect(flags.get(uids[0])!.has(FILED_FLAG)).toBe(true);
    expect([...flags.get(uids[1])!]).toEqual([]); // filed, but not marked: not lost
    expect([...flags.get(uids[2])!]).toEqual([]); // the pass ended at the failure, in order
    await first.p.stop();

    // A new poller files the unmarked one again (same reportId) and the rest.
    const second = poller(folder, {
      file: async (report) => {
        const result = await fileReport(w.client, policy, report, w.taskQueue);
        filedIds.push(report.reportId);
        return result;
      },
    });
    expect(await second.p.pollNow()).toEqual({ filed: [uids[1], uids[2]], rejected: [] });
    const ids = uids.map((uid) => mailReportId(MAILBOX, folder, validity, uid));
    expect(filedIds).toEqual([ids[0], ids[1], ids[1], ids[2]]);
    flags = await flagsByUid(imap, folder);
    for (const uid of uids) expect([...flags.get(uid)!].sort()).toEqual([FILED_FLAG, SEEN].sort());

    // The case ignores the reportId it already holds: one report, not two. (This relies on the
    // case workflow dropping a report whose reportId it has already folded in.)
    const caseOf = async (uid: number) => {
      const input = await reportFromMail(await simpleParser(phishes[uids.indexOf(uid)]), { mailbox: MAILBOX });
      return caseIdFor(fingerprintOf(toReport(input), policy));
    };
    const crashedCase = await categorized(await caseOf(uids[1]));
    expect(crashedCase.evidence.map((e) => e.reportId)).toEqual([ids[1]]);
    expect(crashedCase.evidenceCount).toBe(1);

    // A message already filed is skipped even if someone marks it unseen again.
    await markAllUnseen(imap, folder);
    expect(await second.p.pollNow()).toEqual({ filed: [], rejected: [] });
    expect(filedIds).toHaveLength(4);
  });

  test('a message that is not a report is flagged $WardenRejected, left unseen and not filed', async () => {
    const folder = await newFolder();
    const garbage = Buffer.from('this is not a mail at all\r\n\x00\x01\x02 no headers, no sender\r\n', 'binary');
    const autoReply = await build({
      from: 'out-of-office@corp.example',
      to: MAILBOX,
      subject: 'Automatic reply: Re: your report',
      text: 'I am out of the office until Monday.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    const good = sample('constructed/user-report-inline-forward.eml');
    const uids = await appendMessages(imap, [garbage, autoReply, good], folder);
    const logs: string[] = [];
    const { p, filings } = poller(folder, { logs });
    const outcome = await p.pollNow();
    expect(outcome.filed).toEqual([uids[2]]);
    expect(outcome.rejected.map((r) => r.uid)).toEqual([uids[0], uids[1]]);
    expect(outcome.rejected[0].reason).toMatch(/no From address/);
    expect(outcome.rejected[1].reason).toMatch(/Auto-Submitted: auto-replied/);
    expect(filings.map((f) => uidOf(f.report))).toEqual([uids[2]]);
    const flags = await flagsByUid(imap, folder);
    expect([...flags.get(uids[0])!]).toEqual([REJECTED_FLAG]);
    expect([...flags.get(uids[1])!]).toEqual([REJECTED_FLAG]);
    expect(logs.filter((l) => l.startsWith('warn')).join('\n')).toMatch(new RegExp(`UID ${uids[0]} is not filed.*no From address`));
    // Rejected messages stay for a human; later passes leave them alone.
    expect(await p.pollNow()).toEqual({ filed: [], rejected: [] });
  });

  test('new mail is picked up by itself: at once with IDLE, else on the interval', async () => {
    for (const mode of [{ idle: true, intervalMs: 3_600_000 }, { idle: false, intervalMs: 300 }]) {
      const folder = await newFolder();
      const filed: Report[] = [];
      const p = startMailboxPoller({
        imap: imap.imap,
        mailbox: folder,
        address: MAILBOX,
        file: async (report) => {
          filed.push(report);
          return fileReport(w.client, policy, report, w.taskQueue);
        },
        ...mode,
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      });
      pollers.push(p);
      // Let the start-up pass run on the empty folder (and IDLE begin), then mail arrives.
      await new Promise((r) => setTimeout(r, 3_000));
      const [uid] = await appendMessages(imap, [sample('constructed/user-report-inline-forward.eml')], folder);
      await eventually(async () => (filed.length === 1 ? true : undefined), `the new message filed (idle: ${mode.idle})`, 10_000);
      expect(uidOf(filed[0])).toBe(uid);
      await eventually(async () => ((await flagsByUid(imap, folder)).get(uid)?.has(FILED_FLAG) ? true : undefined), 'the message marked');
      await p.stop();
    }
  });

  test('the password never appears in logs or errors', async () => {
    const folder = await newFolder();
    await appendMessages(imap, [sample('constructed/user-report-inline-forward.eml')], folder);
    const logs: string[] = [];
    const { p } = poller(folder, { logs });
    await p.pollNow();
    const wrongPass = `${imap.pass}-wrong`;
    const errors: Error[] = [];
    const bad = startMailboxPoller({
      imap: { ...imap.imap, auth: { user: imap.user, pass: wrongPass } },
      mailbox: folder,
      address: MAILBOX,
      file: async () => undefined,
      manual: true,
      logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
      onError: (e) => errors.push(e),
    });
    pollers.push(bad);
    const failure = (await bad.pollNow().catch((e: Error) => e)) as Error;
    expect(failure).toBeInstanceOf(Error);
    expect(failure.message).toMatch(/cannot connect: authentication failed/);
    const everything = [...logs, failure.message, failure.stack ?? '', JSON.stringify(failure), ...errors.map((e) => `${e.message} ${e.stack}`)].join('\n');
    expect(everything).not.toContain(imap.pass);
    expect(logs.join('\n')).toMatch(/filed message UID/);

    // Cleartext is for loopback only: elsewhere (here: when not allowed) STARTTLS is required,
    // and a server without it is refused before the login.
    const noTls = startMailboxPoller({
      imap: { ...imap.imap, allowCleartext: false },
      mailbox: folder,
      address: MAILBOX,
      file: async () => undefined,
      manual: true,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    pollers.push(noTls);
    const refused = (await noTls.pollNow().catch((e: Error) => e)) as Error;
    expect(refused.message).toMatch(/cannot connect: .*STARTTLS/i);
  });

  test('parsing: the attached message is the suspicious one, its attachments hashed, long text truncated', async () => {
    const longText = `Click https://long.example/a now. ${'lorem ipsum '.repeat(5_000)}`;
    const phish = await build({
      from: '"=?UTF-8?B?U8OpY3VyaXTDqQ==?=" <alerts@secure-bank.example>',
      replyTo: 'collect@drop.example',
      to: 'someone@corp.example',
      subject: `Urgent ${'x'.repeat(400)}`,
      text: longText,
      attachments: [{ filename: 'a.html', content: '<form action="https://steal.example/"></form>', contentType: 'text/html' }],
      headers: { 'Authentication-Results': 'mx.corp.example; spf=softfail smtp.mailfrom=secure-bank.example; dkim=none; dmarc=fail header.from=secure-bank.example' },
    });
    const report = await build({
      from: '"Some One" <someone@corp.example>',
      to: MAILBOX,
      subject: 'FW: Urgent',
      messageId: '<r1@corp.example>',
      text: 'See attached.',
      attachments: [{ filename: 'urgent.eml', content: phish, contentType: 'message/rfc822' }],
    });
    const { kind, input } = await readMail(await simpleParser(report), { mailbox: MAILBOX, source: report });
    expect(kind).toBe('forward-attachment');
    expect(input.title.length).toBe(300);
    expect(input.title.startsWith('Reported email: Urgent xxx')).toBe(true);
    expect(input.description!.length).toBeLessThanOrEqual(20_000);
    expect(input.description).toContain('dmarc=fail');
    expect(input.description).toContain('Reply-To: collect@drop.example');
    expect(input.indicators!.urls).toEqual(['https://long.example/a']);
    expect(input.indicators!.domains).toEqual(['secure-bank.example', 'long.example']);
    expect(input.indicators!.hashes).toEqual([createHash('sha256').update('<form action="https://steal.example/"></form>').digest('hex')]);
    expect(input.reporter).toBe('someone@corp.example');
    expect(input.messageId).toBe('<r1@corp.example>');
  });

  test('parsing: other forward styles, LF line endings, notes, redirects, and what is not a report', async () => {
    const read = async (raw: Buffer | string) => readMail(await simpleParser(raw), { mailbox: MAILBOX, source: raw });

    const gmail = await read(
      [
        'From: Lee Park <lee.park@corp.example>',
        `To: ${MAILBOX}`,
        'Subject: Fwd: Salary adjustment',
        'Date: Mon, 10 Mar 2025 10:02:00 +0000',
        'Message-ID: <gm-1@corp.example>',
        '',
        'Please check this',
        '',
        '---------- Forwarded message ---------',
        'From: Payroll <payroll@hr-portal.example>',
        'Date: Mon, Mar 10, 2025 at 9:14 AM',
        'Subject: Salary adjustment',
        'To: <lee.park@corp.example>',
        '',
        'Open https://hr-portal.example/salary?id=7 to see it.',
        '',
      ].join('\n'),
    );
    expect(gmail.kind).toBe('forward-inline');
    expect(gmail.input).toMatchObject({
      title: 'Reported email: Salary adjustment',
      reporter: 'lee.park@corp.example',
      observedAt: '2025-03-10T10:02:00.000Z', // the quoted date has no zone: the report's Date
      indicators: { urls: ['https://hr-portal.example/salary?id=7'], domains: ['hr-portal.example'] },
    });
    expect(gmail.input.description).toContain("Reporter's note:\n  Please check this");

    // The real phishing mail with LF line endings and its missing close boundary reads the same.
    const lf = sample('real/phishing-spoofed-bank-sender.eml').toString('latin1').replace(/\r\n/g, '\n');
    const direct = await read(Buffer.from(lf, 'latin1'));
    expect(direct.kind).toBe('direct');
    expect(direct.input).toMatchObject({ title: 'Reported email: Transferencia Interbancaria Banca en Línea', reporter: MAILBOX });
    expect(direct.input.messageId).toBeUndefined();
    // Redirected by an employee: they are the reporter.
    const redirected = await read(Buffer.from(`Resent-From: Kim Lo <kim.lo@corp.example>\n${lf}`, 'latin1'));
    expect(redirected.input.reporter).toBe('kim.lo@corp.example');

    const note = await read(
      await build({ from: 'kim.lo@corp.example', to: MAILBOX, subject: 'I clicked a link', text: 'It was https://bad.example/x, sorry.' }),
    );
    expect(note.kind).toBe('note');
    expect(note.input).toMatchObject({ title: 'Reported by email: I clicked a link', indicators: { urls: ['https://bad.example/x'] } });
    expect(note.input.categoryHint).toBeUndefined();

    const bounce = [
      'From: MAILER-DAEMON@corp.example',
      `To: ${MAILBOX}`,
      'Subject: Undelivered Mail Returned to Sender',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'bounced',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.corp.example',
      '--b--',
      '',
    ].join('\r\n');
    await expect(read(bounce)).rejects.toThrow(/delivery status notification/);
    await expect(read(await build({ from: MAILBOX, to: MAILBOX, subject: 'loop', text: 'x' }))).rejects.toThrow(/security mailbox itself/);
    await expect(read(await build({ from: 'w@corp.example', to: 'a@corp.example', subject: 'x', text: 'x', messageId: '<warden.abc@corp.example>' }))).rejects.toThrow(
      /Warden's own notices/,
    );
  });
});

type ComposeOptions = ConstructorParameters<typeof MailComposer>[0];

/** A MIME message, as a mail client would send it. */
function build(options: ComposeOptions): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}
