/**
 * Campaigns across channels, on the real Temporal server: one phishing mail reported by
 * employees through the security mailbox (a real Dovecot, the real poller) and through the Slack
 * report shortcut (signed view_submissions to the intake, the Slack simulator holding the
 * reported message), all at once, is one case with every reporter on it, each told in their own
 * channel. A case opened before a restart (or by another intake) is found again by its campaign
 * anchors in visibility, by a Slack report and by a tool alert naming the URL.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { CaseView, Report } from '../src/domain';
import { type FilingResult, ReportFiler, toReport } from '../src/intake/filing';
import { startMailboxPoller, type MailboxPoller } from '../src/intake/mailbox';
import { createIntakeServer } from '../src/intake/server';
import { encodeMetadata, FIELD, REPORT_VIEW, reportModal } from '../src/intake/slack-report';
import { closeUpdate, WardenCampaign } from '../src/workflows/definitions';
import { appendMessages, startImapServer, type TestImapServer } from './support/imap';
import { listenOnLoopback } from './support/server';
import { SLACK_REFERENCE_DIR, type SlackSimulator, startSlackSimulator } from './simulators/slack';
import { eventually, startWarden, type TestWarden, testPolicy } from './support/warden';

type Obj = Record<string, any>;

const MAILBOX = 'phishing@corp.example';
const SECRET = 'warden-test-signing-secret-campaign-7d1e';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A per-recipient token, as phishing kits put in each recipient's link (digits included). */
const token = (i: number) => `${i}${randomBytes(16).toString('base64url')}`;

describe('a phishing campaign reported through the mailbox and Slack', () => {
  const policy = testPolicy();
  let w: TestWarden;
  let imap: TestImapServer;
  let sim: SlackSimulator;
  const servers: Server[] = [];
  const pollers: MailboxPoller[] = [];
  let folders = 0;

  beforeAll(async () => {
    [w, imap, sim] = await Promise.all([startWarden(policy), startImapServer(), startSlackSimulator()]);
  });
  afterAll(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    for (const s of servers) await new Promise((ok) => s.close(ok));
    await sim?.close();
    await imap?.stop();
    await w?.stop();
  });

  /** An intake (HTTP: Slack, generic webhook) and a mailbox poller sharing one filer, as src/starter.ts wires them. */
  async function intake(filer: ReportFiler): Promise<{ url: string; poller: MailboxPoller; mailResults: FilingResult[]; folder: string }> {
    const server = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, filer, slackSigningSecret: SECRET, slackBotToken: sim.token, slackApiUrl: sim.apiUrl });
    servers.push(server);
    const folder = `campaign-${++folders}-${Date.now()}`;
    const mailResults: FilingResult[] = [];
    const poller = startMailboxPoller({
      imap: imap.imap,
      mailbox: folder,
      address: MAILBOX,
      authservIds: ['mx.corp.example'],
      manual: true,
      logger: quiet,
      file: async (report: Report) => {
        const result = await filer.file(report);
        mailResults.push(result);
        return result;
      },
    });
    pollers.push(poller);
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({ ...imap.imap, logger: false, disableAutoIdle: true });
    await client.connect();
    await client.mailboxCreate(folder);
    await client.logout();
    return { url: await listenOnLoopback(server), poller, mailResults, folder };
  }

  test('25 mail reports (forwarded as attachment and inline) and 15 Slack reports, all at once, make one case with 40 reporters, each told in their own channel', async () => {
    const tag = `${process.pid}${Date.now()}`;
    const link = (t: string) => `https://pay.invoices-portal-${tag}.example/inv/2291?ref=${t}&utm_source=mail&utm_medium=email`;
    const filer = new ReportFiler(w.client, policy, w.taskQueue);
    const { url, poller, mailResults, folder } = await intake(filer);

    // The same phish to each employee, each with their own token; 20 forward it as an attachment, 5 inline.
    const employees = Array.from({ length: 25 }, (_, i) => `employee${String(i).padStart(2, '0')}@corp.example`);
    const invoice = Buffer.from(`%PDF-1.4\n% invoice ${tag}\n`, 'utf8');
    const mails = await Promise.all(
      employees.map(async (employee, i) => {
        const href = link(token(i));
        if (i >= 20)
          return build({
            from: employee,
            to: MAILBOX,
            subject: 'FW: Overdue invoice INV-2291',
            messageId: `<campaign-${tag}-${i}@corp.example>`,
            text: [
              'Looks like phishing to me.',
              '',
              '-----Original Message-----',
              `From: Accounts Payable <ap@invoices-portal-${tag}.example>`,
              'Sent: Monday, March 10, 2025 9:00 AM',
              `To: ${employee}`,
              'Subject: Overdue invoice INV-2291',
              '',
              `Please settle the overdue invoice: ${href}`,
            ].join('\n'),
          });
        const phish = await build({
          from: `"Accounts Payable" <ap@invoices-portal-${tag}.example>`,
          to: employee,
          subject: 'Overdue invoice INV-2291',
          date: new Date('2025-03-10T09:00:00Z'),
          messageId: `<inv-2291-${tag}-${i}@invoices-portal.example>`,
          text: `Please settle the overdue invoice: ${href}`,
          html: `<p>Please settle <a href="${href.replace(/&/g, '&amp;')}">the overdue invoice</a>.</p>`,
          attachments: [{ filename: 'INV-2291.pdf', content: invoice, contentType: 'application/pdf' }],
        });
        return build({
          from: employee,
          to: MAILBOX,
          subject: 'FW: Overdue invoice INV-2291',
          messageId: `<campaign-${tag}-${i}@corp.example>`,
          text: 'Reporting this.',
          attachments: [{ filename: 'Overdue invoice INV-2291.eml', content: phish, contentType: 'message/rfc822' }],
        });
      }),
    );
    const uids = await appendMessages(imap, mails, folder);

    // 15 Slack reporters: 8 report the message where someone pasted the link, 7 type it in the form.
    const channel = sim.addChannel(`finance-${tag}`);
    const slackers = Array.from({ length: 15 }, (_, i) => `U0SLK${String(i).padStart(3, '0')}`);
    const bodies = slackers.map((user, i) => {
      const href = link(token(100 + i));
      if (i < 8) {
        const text = `Got this invoice mail, is it real? <${href.replace(/&/g, '&amp;')}|pay the invoice>`;
        const posted = sim.postAsUser(channel, 'U0POSTER1', text);
        return submission(user, { what: 'This message links to a fake invoice page.' }, encodeMetadata({ channel, ts: posted.ts, author: 'U0POSTER1', text }));
      }
      return submission(user, { what: `I got a mail asking me to pay an overdue invoice at ${href} and it looks fake` });
    });

    // All at once: the poller files the mails one after another while the Slack reports arrive.
    const [polled, answers] = await Promise.all([
      poller.pollNow(),
      Promise.all(
        bodies.map(async (body, i) => {
          await sleep(i * 40);
          const res = await fetch(`${url}/slack/interactivity`, { method: 'POST', headers: sign(body), body });
          return (await res.json()) as Obj;
        }),
      ),
    ]);
    expect(polled).toEqual({ filed: uids, rejected: [] });
    const slackCases = answers.map((a) => {
      expect(a.response_action).toBe('update');
      return /case (WRD-[0-9A-F]{12})/.exec(JSON.stringify(a.view))?.[1];
    });
    const caseIds = new Set([...mailResults.map((r) => r.caseId), ...slackCases]);
    expect(caseIds.size).toBe(1);
    const [caseId] = caseIds;
    // Exactly one report opened it; the other 39 were added to it.
    expect(mailResults.filter((r) => !r.deduplicated).length + answers.filter((a) => JSON.stringify(a.view).includes('Reported as case')).length).toBe(1);

    const view = await eventually(async () => {
      const v = (await w.view(caseId!)) as CaseView;
      return v.reportCount === 40 ? v : undefined;
    }, 'all 40 reports on the case');
    expect([...view.reporters].sort()).toEqual([...employees, ...slackers].sort());
    for (const [i, employee] of employees.entries()) expect(view.reporterThreads[employee]).toBe(`<campaign-${tag}-${i}@corp.example>`);
    expect(view.indicators.domains).toEqual(expect.arrayContaining([`invoices-portal-${tag}.example`, `pay.invoices-portal-${tag}.example`]));
    expect(view.campaign?.length).toBeGreaterThan(0);

    // Every reporter is told when it closes: employees by mail in their thread, Slack reporters by DM.
    const handle = w.handle(caseId!);
    await handle.executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'blocked at the mail gateway, no clicks found', resolution: 'accepted-risk' }] });
    await handle.result();
    const sent = (await w.outbox.read()).filter((m) => m.key.startsWith(`${caseId}:resolved:`));
    const mailed = sent.filter((m) => m.system === 'mail');
    expect(mailed.map((m) => m.body.to).sort()).toEqual(employees);
    for (const m of mailed) expect(m.body.inReplyTo).toBe(view.reporterThreads[m.body.to as string]);
    const dms = sent.filter((m) => m.system === 'slack' && m.kind === 'chat.postMessage.dm');
    expect(dms.map((m) => m.body.user).sort()).toEqual(slackers);
  });

  test('after a restart, or from another intake, a Slack report and a tool alert naming the URL find the open campaign case in visibility', async () => {
    const tag = `${process.pid}${Date.now()}`;
    const href = (t: string) => `https://login.payroll-update-${tag}.example/session/confirm?session=${t}&utm_campaign=payroll`;
    const first = await intake(new ReportFiler(w.client, policy, w.taskQueue));
    const phish = await build({
      from: `"Payroll" <payroll@payroll-update-${tag}.example>`,
      to: 'kim.lo@corp.example',
      subject: 'Confirm your payroll details',
      text: `Confirm before Friday: ${href(token(1))}`,
    });
    const [uid] = await appendMessages(
      imap,
      [await build({ from: 'kim.lo@corp.example', to: MAILBOX, subject: 'FW: payroll', text: 'Phishing?', attachments: [{ filename: 'payroll.eml', content: phish, contentType: 'message/rfc822' }] })],
      first.folder,
    );
    expect(await first.poller.pollNow()).toEqual({ filed: [uid], rejected: [] });
    const [{ caseId }] = first.mailResults;
    // Visible: the filer starts a case with its anchors as search attributes, and the case keeps them current.
    await eventually(async () => {
      const { count } = await w.client.workflow.count(`TaskQueue = '${w.taskQueue}' AND WorkflowId = 'case-${caseId}' AND ExecutionStatus = 'Running'`);
      return count > 0 ? true : undefined;
    }, 'the campaign case in visibility');

    // A fresh filer knows nothing in process: what a restarted intake, or another one, sees.
    const second = await intake(new ReportFiler(w.client, policy, w.taskQueue));
    const body = submission('U0LATE001', { what: `This link was in a payroll mail: ${href(token(2))}` });
    const answer = (await (await fetch(`${second.url}/slack/interactivity`, { method: 'POST', headers: sign(body), body })).json()) as Obj;
    expect(JSON.stringify(answer.view)).toContain(`Added to case ${caseId}, which is already open for the same concern.`);

    const third = await intake(new ReportFiler(w.client, policy, w.taskQueue));
    const alert = {
      title: `Proxy blocked a credential-phishing page (${tag})`,
      source: 'proxy',
      reporter: 'proxy-gateway',
      assets: ['laptop-2231'],
      observedAt: new Date().toISOString(),
      indicators: { urls: [href(token(3))] },
    };
    const res = await fetch(`${third.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ caseId, deduplicated: true });

    const view = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.reportCount === 3 ? v : undefined;
    }, 'three reports on the campaign case');
    expect([...view.reporters].sort()).toEqual(['U0LATE001', 'kim.lo@corp.example', 'proxy-gateway']);
    expect(view.evidence.map((e) => e.source)).toEqual(['phishing-mailbox', 'slack', 'proxy']);
  });

  test('anchors are bounded: 16 per report, 48 per case, all of them searchable', async () => {
    const tag = `${process.pid}${Date.now()}`;
    const filer = new ReportFiler(w.client, policy, w.taskQueue);
    const shared = `https://shared-${tag}.example/kit/login`;
    const results: FilingResult[] = [];
    for (let r = 0; r < 5; r++) {
      // Each report shares the kit's URL (so all five fold together) and brings 19 of its own.
      const urls = [shared, ...Array.from({ length: 19 }, (_, i) => `https://mirror-${r}-${i}-${tag}.example/kit/login`)];
      results.push(await filer.file(toReport({ title: `Proxy blocked kit page ${tag} (${r})`, source: 'proxy', reporter: 'proxy-gateway', assets: [], observedAt: new Date().toISOString(), indicators: { urls } })));
    }
    expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
    const caseId = results[0].caseId;
    const view = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.reportCount === 5 ? v : undefined;
    }, 'five reports on the case');
    expect(view.firstReport?.campaign).toHaveLength(16);
    expect(view.campaign).toHaveLength(48);
    const described = await eventually(async () => {
      const d = await w.handle(caseId).describe();
      return d.typedSearchAttributes.get(WardenCampaign)?.length === 48 ? d : undefined;
    }, 'the 48 anchors in WardenCampaign');
    expect(described.typedSearchAttributes.get(WardenCampaign)).toEqual(view.campaign);
  });
});

// ── Helpers ───────────────────────────────────────────────────────────────────────────────────

type ComposeOptions = ConstructorParameters<typeof MailComposer>[0];

function build(options: ComposeOptions): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sign(body: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

let viewSeq = 0;
/** A view_submission of the report form, built from Slack's real payload with our answers. */
function submission(user: string, answers: { what: string }, privateMetadata = ''): string {
  const payload = JSON.parse(readFileSync(resolve(SLACK_REFERENCE_DIR, 'interactivity/view_submission.json'), 'utf8')) as Obj;
  const modal = reportModal();
  const viewId = `V0CAMP${String(++viewSeq).padStart(4, '0')}${Date.now() % 100000}`;
  const input = (id: string, value: string | null) => ({ [id]: { [id]: { type: 'plain_text_input', value } } });
  const values = {
    ...input(FIELD.whatHappened, answers.what),
    ...input(FIELD.title, null),
    ...input(FIELD.systems, null),
    [FIELD.seenAt]: { [FIELD.seenAt]: { type: 'datetimepicker', selected_date_time: null } },
    [FIELD.dataInvolved]: { [FIELD.dataInvolved]: { type: 'multi_static_select', selected_options: [] } },
  };
  const view = { ...payload.view, id: viewId, root_view_id: viewId, callback_id: REPORT_VIEW, blocks: modal.blocks, private_metadata: privateMetadata, state: { values } };
  return new URLSearchParams({ payload: JSON.stringify({ ...payload, user: { ...payload.user, id: user }, view }) }).toString();
}
