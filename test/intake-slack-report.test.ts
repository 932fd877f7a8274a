/**
 * "Report a security concern" from Slack, against the real Temporal server and the Slack
 * simulator: signed shortcuts open the form with views.open inside the trigger's 3 seconds (the
 * message shortcut carries the message, then its permalink), a signed view_submission files a
 * report as the Slack user and answers with the case id, a form that does not validate gets
 * Slack's `errors` answer and starts nothing, a failed or unconfirmed filing asks the user to
 * submit again, and a forged signature gets 401.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { CaseView, Report } from '../src/domain';
import { caseIdFor, type FilingResult, fingerprintOf } from '../src/intake/filing';
import { createIntakeServer } from '../src/intake/server';
import { createSlackInteractivityHandler, type SlackInteractivityOptions } from '../src/intake/slack-interactivity';
import {
  DATA_CLASS_CHOICES,
  decodeMetadata,
  deriveTitle,
  encodeMetadata,
  FIELD,
  parseReportSubmission,
  REPORT_DONE_VIEW,
  REPORT_VIEW,
  type ReportedMessage,
  reportModal,
  SHORTCUT_REPORT,
  SHORTCUT_REPORT_MESSAGE,
} from '../src/intake/slack-report';
import {
  checkView,
  type ResponseUrlReceiver,
  SLACK_REFERENCE_DIR,
  slackContract,
  type SlackSimulator,
  startResponseUrlReceiver,
  startSlackSimulator,
} from './simulators/slack';
import { eventually, startWarden, type TestWarden, testPolicy } from './support/warden';

type Obj = Record<string, any>;

const SECRET = 'warden-test-signing-secret-report-51c2';
const ALICE = 'U0ALICE1';
const BOB = 'U0BOB001';
const HOSTILE = 'Reset your password at <https://evil.example|the bank> now <!channel> <@U0ADMIN01> *urgent* & "soon"\nsecond line';
const escaped = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const reference = (file: string): Obj => JSON.parse(readFileSync(resolve(SLACK_REFERENCE_DIR, file), 'utf8'));

function sign(body: string, secret = SECRET, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}
const form = (payload: Obj) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** The global shortcut as Slack sends it, from the real payload. */
function globalShortcut(user: string, triggerId: string, callbackId = SHORTCUT_REPORT): string {
  const payload = reference('interactivity/global_shortcut.json');
  return form({ ...payload, user: { ...payload.user, id: user }, callback_id: callbackId, trigger_id: triggerId, action_ts: `${(Date.now() / 1000).toFixed(6)}` });
}

/** The message shortcut as Slack sends it, from the real payload, pointing at a message. */
function messageShortcut(user: string, triggerId: string, message: { channel: string; ts: string; user: string; text: string }, responseUrl: string): string {
  const payload = reference('interactivity/message_shortcut.json');
  return form({
    ...payload,
    user: { ...payload.user, id: user },
    callback_id: SHORTCUT_REPORT_MESSAGE,
    trigger_id: triggerId,
    channel: { id: message.channel, name: 'general' },
    message_ts: message.ts,
    message: { ...payload.message, text: message.text, ts: message.ts, user: message.user, blocks: [] },
    response_url: responseUrl,
  });
}

interface Answers {
  what?: string | null;
  title?: string | null;
  systems?: string | null;
  seenAt?: number | null;
  data?: string[];
}

/** view.state.values as Slack sends them for the report form. */
function stateValues(a: Answers): Obj {
  const input = (id: string, value: string | null | undefined) => ({ [id]: { [id]: { type: 'plain_text_input', value: value ?? null } } });
  return {
    ...input(FIELD.whatHappened, a.what),
    ...input(FIELD.title, a.title),
    ...input(FIELD.systems, a.systems),
    [FIELD.seenAt]: { [FIELD.seenAt]: { type: 'datetimepicker', selected_date_time: a.seenAt ?? null } },
    [FIELD.dataInvolved]: {
      [FIELD.dataInvolved]: { type: 'multi_static_select', selected_options: (a.data ?? []).map((value) => ({ text: { type: 'plain_text', text: value, emoji: true }, value })) },
    },
  };
}

let viewSeq = 0;
/** A view_submission of the report form, built from the real payload with our values. */
function submission(user: string, answers: Answers, opts: { viewId?: string; privateMetadata?: string; callbackId?: string } = {}): string {
  const payload = reference('interactivity/view_submission.json');
  const modal = reportModal();
  const viewId = opts.viewId ?? `V0REPORT${String(++viewSeq).padStart(3, '0')}${Date.now() % 100000}`;
  return form({
    ...payload,
    user: { ...payload.user, id: user },
    view: {
      ...payload.view,
      id: viewId,
      root_view_id: viewId,
      callback_id: opts.callbackId ?? REPORT_VIEW,
      blocks: modal.blocks,
      title: modal.title,
      submit: modal.submit,
      close: modal.close,
      private_metadata: opts.privateMetadata ?? '',
      state: { values: stateValues(answers) },
    },
  });
}

/** Every text object in a view, wherever it sits. */
function textObjects(node: unknown, out: Obj[] = []): Obj[] {
  if (Array.isArray(node)) node.forEach((n) => textObjects(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Obj;
    if ((o.type === 'plain_text' || o.type === 'mrkdwn') && typeof o.text === 'string') out.push(o);
    Object.values(o).forEach((v) => textObjects(v, out));
  }
  return out;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const close = (server: Server | undefined) => new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
const post = (base: string, body: string, headers: Record<string, string>) => fetch(`${base}/slack/interactivity`, { method: 'POST', headers, body });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the endpoint logs (console.error) while `run` goes on: failures are logged, not dropped. */
async function logged(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

describe('Report a security concern from Slack', () => {
  const policy = testPolicy({ people: { alice: { slack: ALICE }, bob: { slack: BOB } } });
  let w: TestWarden;
  let sim: SlackSimulator;
  let channel: string;
  let receiver: ResponseUrlReceiver;
  let intake: Server;
  let intakeUrl: string;
  const servers: Server[] = [];

  /** The handler on its own (answers on the loopback receiver, which the intake would not allow). */
  async function directHandler(options: Partial<SlackInteractivityOptions> = {}): Promise<string> {
    const server = createServer(
      createSlackInteractivityHandler({
        client: w.client,
        policy,
        signingSecret: SECRET,
        taskQueue: w.taskQueue,
        botToken: sim.token,
        apiUrl: sim.apiUrl,
        responseUrlAllowed: (u) => u.hostname === '127.0.0.1',
        ...options,
      }),
    );
    servers.push(server);
    return listen(server);
  }

  /** The case a report with this title and these assets would open (the default fingerprint). */
  const wouldBeCase = (title: string, assets: string[]) => caseIdFor(fingerprintOf({ source: 'slack', title, assets } as unknown as Report, policy));
  async function notStarted(caseId: string): Promise<void> {
    await expect(w.handle(caseId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }

  beforeAll(async () => {
    w = await startWarden(policy);
    sim = await startSlackSimulator();
    channel = sim.addChannel('general');
    receiver = await startResponseUrlReceiver();
    intake = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, slackSigningSecret: SECRET, slackBotToken: sim.token, slackApiUrl: sim.apiUrl });
    intakeUrl = await listen(intake);
  });
  afterAll(async () => {
    await close(intake);
    for (const s of servers) await close(s);
    await receiver?.close();
    await sim?.close();
    await w?.stop();
  });

  test("a signed global shortcut is answered at once and opens the form with views.open inside the trigger's 3 seconds", async () => {
    const before = sim.callsTo('views.open').length;
    const trigger = sim.trigger();
    const body = globalShortcut(ALICE, trigger);
    const started = Date.now();
    const res = await post(intakeUrl, body, sign(body));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const call = await eventually(async () => sim.callsTo('views.open').slice(before).find((c) => c.outcome !== undefined), 'views.open');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(call.outcome).toBe('ok');
    expect(call.auth).toBe('bearer');
    expect(call.body.trigger_id).toBe(trigger);

    const view = call.body.view as Obj;
    expect(view).toMatchObject({ type: 'modal', callback_id: REPORT_VIEW, private_metadata: '', submit: { type: 'plain_text', text: 'Report' } });
    const inputs = (view.blocks as Obj[]).filter((b) => b.type === 'input');
    expect(inputs.map((b) => [b.block_id, b.element.type, b.optional === true])).toEqual([
      [FIELD.whatHappened, 'plain_text_input', false],
      [FIELD.title, 'plain_text_input', true],
      [FIELD.systems, 'plain_text_input', true],
      [FIELD.seenAt, 'datetimepicker', true],
      [FIELD.dataInvolved, 'multi_static_select', true],
    ]);
    expect(inputs[0].element).toMatchObject({ action_id: FIELD.whatHappened, multiline: true, max_length: 3000 });
    expect(inputs[3].element.initial_date_time).toBeUndefined(); // empty means now
    expect(inputs[4].element.options.map((o: Obj) => o.value)).toEqual(['personal', 'health', 'payment', 'credentials', 'confidential']);
    expect(textObjects(view).filter((t) => t.type === 'mrkdwn')).toEqual([]);

    // The simulator checked it against the spec and Slack's view reference; the trigger is now spent.
    expect(sim.violations).toEqual([]);
    expect([...sim.views.values()].find((v) => v.trigger_id === trigger)?.view.callback_id).toBe(REPORT_VIEW);
    expect(sim.callsTo('views.update').length).toBe(0); // a global shortcut has no message to link
  });

  test("a signed message shortcut carries the message's text, channel and ts in private_metadata, then its permalink", async () => {
    const posted = sim.postAsUser(channel, BOB, HOSTILE);
    const opens = sim.callsTo('views.open').length;
    const updates = sim.callsTo('views.update').length;
    const trigger = sim.trigger();
    const body = messageShortcut(ALICE, trigger, { channel, ts: posted.ts, user: BOB, text: HOSTILE }, receiver.url());
    const res = await post(intakeUrl, body, sign(body));
    expect(res.status).toBe(200);

    const open = await eventually(async () => sim.callsTo('views.open').slice(opens).find((c) => c.outcome !== undefined), 'views.open');
    expect(open.outcome).toBe('ok');
    const view = open.body.view as Obj;
    expect(view.private_metadata.length).toBeLessThanOrEqual(3000);
    expect(JSON.parse(view.private_metadata)).toEqual({ v: 1, channel, ts: posted.ts, author: BOB, text: HOSTILE });
    // Shown as data: plain_text, escaped (no ping, no link, no formatting), never mrkdwn.
    expect(textObjects(view).filter((t) => t.type === 'mrkdwn')).toEqual([]);
    expect(textObjects(view).map((t) => t.text)).toContain(escaped(HOSTILE));
    expect(JSON.stringify(view.blocks)).not.toContain('<!channel>');
    expect((view.blocks as Obj[]).find((b) => b.block_id === FIELD.seenAt)!.element.initial_date_time).toBe(Math.floor(Number(posted.ts)));

    // Then the permalink, into the open form (same view, guarded by its hash).
    const update = await eventually(async () => sim.callsTo('views.update').slice(updates).find((c) => c.outcome !== undefined), 'views.update');
    expect(update.outcome).toBe('ok');
    const stored = [...sim.views.values()].find((v) => v.trigger_id === trigger)!;
    expect(update.body.view_id).toBe(stored.id);
    expect(typeof update.body.hash).toBe('string');
    const permalink = `https://warden-sim.slack.com/archives/${channel}/p${posted.ts.replace('.', '')}`;
    expect(decodeMetadata((update.body.view as Obj).private_metadata)).toEqual({ channel, ts: posted.ts, author: BOB, text: HOSTILE, permalink });
    const link = (stored.view.blocks as Obj[]).flatMap((b) => b.elements ?? []).find((e: Obj) => e.type === 'button');
    expect(link).toMatchObject({ url: permalink, text: { type: 'plain_text', text: 'Open the message' } });
    expect(sim.callsTo('chat.getPermalink').at(-1)!.body).toEqual({ channel, message_ts: posted.ts });
    expect(sim.violations).toEqual([]);
  });

  test('a signed view_submission files the report as the Slack user and answers with the case id', async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const seenAt = Math.floor(Date.now() / 1000) - 3600;
    const what = `Phishing mail asked for my VPN password ${tag}\nIt came from it-support@examp1e.example and linked to a login page.`;
    const body = submission(ALICE, { what, systems: 'laptop-1234, vpn-gateway,laptop-1234 ,, ', seenAt, data: ['credentials', 'personal'] });
    const started = Date.now();
    const res = await post(intakeUrl, body, sign(body));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = (await res.json()) as Obj;
    expect(answer.response_action).toBe('update');
    expect(answer.view).toMatchObject({ type: 'modal', callback_id: REPORT_DONE_VIEW });
    expect(checkView(answer.view)).toEqual([]); // a view Slack takes
    const caseId = /Reported as case (WRD-[0-9A-F]{12})\./.exec(textObjects(answer.view).map((t) => t.text).join('\n'))?.[1];
    expect(caseId).toBeDefined();
    expect(caseId).toBe(wouldBeCase(`Phishing mail asked for my VPN password ${tag}`, ['laptop-1234', 'vpn-gateway']));

    const view = (await eventually(async () => (await w.view(caseId!)) as CaseView, 'the case view')) as CaseView;
    expect(view.firstReport).toMatchObject({
      source: 'slack',
      reporter: ALICE,
      replyTo: ALICE,
      title: `Phishing mail asked for my VPN password ${tag}`, // the first line, as no title was given
      description: what,
      assets: ['laptop-1234', 'vpn-gateway'],
      dataClasses: ['credentials', 'personal'],
      observedAt: new Date(seenAt * 1000).toISOString(),
    });
    expect(view.firstReport?.raw?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(view.reporters).toEqual([ALICE]);
    expect(view.assets).toEqual(expect.arrayContaining(['laptop-1234', 'vpn-gateway']));
    expect(view.dataClasses).toEqual(expect.arrayContaining(['credentials', 'personal']));
    expect(view.evidence[0]).toMatchObject({ source: 'slack', reporter: ALICE });
  });

  test('from a message shortcut, the description carries the message: its text, permalink, channel id and ts', async () => {
    const posted = sim.postAsUser(channel, BOB, HOSTILE);
    const permalink = `https://warden-sim.slack.com/archives/${channel}/p${posted.ts.replace('.', '')}`;
    const privateMetadata = encodeMetadata({ channel, ts: posted.ts, author: BOB, text: HOSTILE, permalink });
    const title = `Password reset lure in #general ${process.pid}-${Date.now()}`;
    const body = submission(BOB, { what: 'This message looks like phishing.', title }, { privateMetadata });
    const before = Date.now();
    const answer = (await (await post(intakeUrl, body, sign(body))).json()) as Obj;
    expect(answer.response_action).toBe('update');
    const caseId = wouldBeCase(title, []);
    expect(textObjects(answer.view).map((t) => t.text)).toContain(`Reported as case ${caseId}.`);

    const report = ((await w.view(caseId)) as CaseView).firstReport!;
    expect(report).toMatchObject({ source: 'slack', reporter: BOB, replyTo: BOB, title, assets: [], dataClasses: [] });
    expect(report.description).toBe(
      [
        'This message looks like phishing.',
        '',
        '--- Reported Slack message ---',
        `Channel: ${channel}`,
        `Message ts: ${posted.ts}`,
        `Posted by: ${BOB}`,
        `Link: ${permalink}`,
        'Text:',
        HOSTILE, // kept as data: escaping is the job of whatever renders it
      ].join('\n'),
    );
    // "When was it seen" left empty: now.
    expect(Date.parse(report.observedAt)).toBeGreaterThanOrEqual(before - 1_000);
  });

  test('a form without "what happened" gets the errors answer Slack specifies, and starts nothing', async () => {
    const title = `No description ${process.pid}-${Date.now()}`;
    const filed: Report[] = [];
    const direct = await directHandler({ file: async (r) => (filed.push(r), { caseId: 'WRD-000000000000', workflowId: 'x', reportId: r.reportId, deduplicated: false }) });

    for (const what of [null, '', '  \n\t ']) {
      const body = submission(ALICE, { what, title, systems: 'host-a' });
      const res = await post(intakeUrl, body, sign(body));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ response_action: 'errors', errors: { [FIELD.whatHappened]: 'Please describe what happened: a sentence or two is enough.' } });
      expect((await post(direct, body, sign(body))).status).toBe(200);
    }
    // Other problems, each on its own input.
    const future = submission(ALICE, { what: 'x', seenAt: Math.floor(Date.now() / 1000) + 3600 });
    expect(((await (await post(intakeUrl, future, sign(future))).json()) as Obj).errors).toEqual({ [FIELD.seenAt]: expect.stringMatching(/in the future/) });
    const unknownData = submission(ALICE, { what: 'x', data: ['personal', 'secret-sauce'] });
    expect(((await (await post(intakeUrl, unknownData, sign(unknownData))).json()) as Obj).errors).toEqual({ [FIELD.dataInvolved]: 'Please pick from the list.' });
    const longName = submission(ALICE, { what: 'x', systems: `ok-host, ${'h'.repeat(201)}` });
    expect(((await (await post(intakeUrl, longName, sign(longName))).json()) as Obj).errors).toEqual({ [FIELD.systems]: expect.stringMatching(/at most 200 characters/) });

    expect(filed).toEqual([]);
    await notStarted(wouldBeCase(title, ['host-a']));
  });

  test('a forged signature gets 401: no form opens and nothing is filed', async () => {
    const opens = sim.callsTo('views.open').length;
    const trigger = sim.trigger();
    const shortcut = globalShortcut(ALICE, trigger);
    const title = `Forged ${process.pid}-${Date.now()}`;
    const submit = submission(ALICE, { what: 'forged', title });
    for (const body of [shortcut, submit]) {
      for (const headers of [sign(body, 'not-the-secret'), { ...sign(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` }, sign(body, SECRET, Math.floor(Date.now() / 1000) - 600)]) {
        const res = await post(intakeUrl, body, headers);
        expect(res.status).toBe(401);
        expect(JSON.stringify(await res.json())).not.toContain(SECRET);
      }
    }
    await sleep(500);
    expect(sim.callsTo('views.open').length).toBe(opens);
    await notStarted(wouldBeCase(title, []));
  });

  test('a failed or unconfirmed filing asks the user to submit again; the same form sent again is not filed twice', async () => {
    const body = submission(ALICE, { what: 'Someone tailgated into the server room' });
    const log = await logged(async () => {
      // Temporal refuses: the form stays open with the text, and says so.
      const refused = await directHandler({
        file: async () => {
          throw new Error('14 UNAVAILABLE: No connection established');
        },
      });
      const answer = (await (await post(refused, body, sign(body))).json()) as Obj;
      expect(answer).toEqual({ response_action: 'errors', errors: { [FIELD.whatHappened]: expect.stringMatching(/could not file this report just now.*press Report again/) } });

      // Temporal unreachable for real (nothing listens; the client's own retries are off so the
      // test ends cleanly): refused, and answered well before Slack's 3 seconds.
      const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [], connectTimeout: 500 }) });
      try {
        const unreachable = await directHandler({ client: down, file: undefined });
        const started = Date.now();
        const refusedForReal = (await (await post(unreachable, body, sign(body))).json()) as Obj;
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(refusedForReal).toEqual(answer);
      } finally {
        await down.connection.close().catch(() => undefined);
      }

      // A filing that hangs past the budget.
      const hanging = await directHandler({ file: () => new Promise<FilingResult>(() => undefined), submitTimeoutMs: 300 });
      const slow = (await (await post(hanging, body, sign(body))).json()) as Obj;
      expect(slow.errors[FIELD.whatHappened]).toMatch(/did not get a confirmation in time.*will not be filed twice/);
    });
    expect(log).toEqual([
      `slack interactivity: the report from ${ALICE} was not filed 14 UNAVAILABLE: No connection established`,
      expect.stringMatching(new RegExp(`^slack interactivity: the report from ${ALICE} was not filed `)),
      `slack interactivity: the report from ${ALICE} was not confirmed within 300ms; the user was asked to submit again`,
    ]);

    // Submitted again (same view, same answers): the same report, folded in once.
    const what = `USB stick found in the car park ${process.pid}-${Date.now()}`;
    const again = submission(ALICE, { what, systems: 'reception-pc' }, { viewId: `V0AGAIN${Date.now() % 1e6}` });
    const first = (await (await post(intakeUrl, again, sign(again))).json()) as Obj;
    const second = (await (await post(intakeUrl, again, sign(again))).json()) as Obj;
    const caseText = (a: Obj) => textObjects(a.view).find((t) => /case WRD-/.test(t.text))?.text;
    expect(caseText(first)).toMatch(/^Reported as case WRD-/);
    expect(caseText(second)).toBe(caseText(first));
    const caseId = wouldBeCase(what, ['reception-pc']);
    await sleep(500);
    expect(((await w.view(caseId)) as CaseView).evidenceCount).toBe(1);
  });

  test('when the form cannot open, a message shortcut user is told; without a bot token too', async () => {
    const posted = sim.postAsUser(channel, BOB, 'hello');
    const message = { channel, ts: posted.ts, user: BOB, text: 'hello' };

    const seen = receiver.posts.length;
    const calls = sim.calls.length;
    const log = await logged(async () => {
      // A trigger past its 3 seconds (Slack was slow to deliver the shortcut).
      const direct = await directHandler();
      const expired = messageShortcut(ALICE, sim.trigger({ ageMs: 4_000 }), message, receiver.url());
      expect((await post(direct, expired, sign(expired))).status).toBe(200);
      const [told] = (await receiver.waitFor(seen + 1)).slice(seen);
      expect(told.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: 'Warden could not open the report form just now. Please try the shortcut again.' });
      expect(sim.callsTo('views.open').at(-1)!.outcome).toBe('expired_trigger_id');

      // No bot token: nothing can open; the user is told, no Web API call is made.
      const tokenless = await directHandler({ botToken: undefined });
      const body = messageShortcut(ALICE, sim.trigger(), message, receiver.url());
      expect((await post(tokenless, body, sign(body))).status).toBe(200);
      const [notSetUp] = (await receiver.waitFor(seen + 2)).slice(seen + 1);
      expect(notSetUp.body.text).toMatch(/^Reporting from Slack is not set up yet/);
    });
    expect(sim.calls.length).toBe(calls + 1);
    expect(log).toEqual([
      'slack interactivity: the report form did not open: Slack views.open: expired_trigger_id',
      'slack interactivity: a report shortcut arrived, but no bot token is configured (SLACK_BOT_TOKEN): the form cannot be opened',
    ]);
    expect(log.join('\n')).not.toContain(sim.token);

    // Other shortcuts and other forms are acknowledged and ignored (the card buttons' endpoint is shared).
    const opens = sim.callsTo('views.open').length;
    const other = globalShortcut(ALICE, sim.trigger(), 'someone_elses_shortcut');
    expect((await post(intakeUrl, other, sign(other))).status).toBe(200);
    const otherForm = submission(ALICE, { what: 'x' }, { callbackId: 'someone_elses_form' });
    const res = await post(intakeUrl, otherForm, sign(otherForm));
    expect([res.status, await res.text()]).toEqual([200, '']);
    await sleep(300);
    expect(sim.callsTo('views.open').length).toBe(opens);
    expect(sim.violations).toEqual([]);
  });
});

describe('the report form, pure', () => {
  test('private_metadata stays within 3000 characters whatever the message holds', () => {
    const text = `${'"quoted" \\ back\nslash '.repeat(500)}${'é🙂'.repeat(500)}`;
    const encoded = encodeMetadata({ channel: 'C0SECSOC01', ts: '1700000000.000100', text, permalink: 'https://x.slack.com/archives/C0SECSOC01/p1700000000000100' });
    expect(encoded.length).toBeLessThanOrEqual(3000);
    const decoded = decodeMetadata(encoded) as Obj;
    expect(decoded).toMatchObject({ channel: 'C0SECSOC01', ts: '1700000000.000100', truncated: true, permalink: 'https://x.slack.com/archives/C0SECSOC01/p1700000000000100' });
    expect(text.startsWith(decoded.text)).toBe(true);
    expect(decoded.text.length).toBeGreaterThan(1000);
    expect(checkView(reportModal(decoded as ReportedMessage))).toEqual([]);
    // Unreadable or tampered metadata is not trusted.
    for (const bad of ['{', '{"v":2}', JSON.stringify({ v: 1, channel: 'not a channel', ts: '1.1', text: '' }), JSON.stringify({ v: 1, channel: 'C0SECSOC01', ts: '1.1', text: '', permalink: 'javascript:alert(1)' })])
      expect(decodeMetadata(bad)).toEqual(bad.includes('javascript') ? { channel: 'C0SECSOC01', ts: '1.1', text: '' } : false);
    expect(decodeMetadata('')).toBeUndefined();
  });

  test('titles come from the first line, cut at a word; systems are split on commas; the report id is stable per form and answers', () => {
    expect(deriveTitle('\n\n  Laptop   stolen from car  \nmore')).toBe('Laptop stolen from car');
    const long = deriveTitle(`${'word '.repeat(60)}end`);
    expect(long.length).toBeLessThanOrEqual(120);
    expect(long.endsWith('…')).toBe(true);
    const now = new Date();
    const parse = (values: Answers, viewId = 'V0ONE') =>
      parseReportSubmission({ user: ALICE, team: 'T0TEAM', viewId, values: stateValues(values), now }) as Extract<ReturnType<typeof parseReportSubmission>, { ok: true }>;
    const a = parse({ what: 'x', systems: 'A, b ,a,\nc' });
    expect(a.input.assets).toEqual(['A', 'b', 'c']);
    expect(a.reportId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parse({ what: 'x', systems: 'A, b ,a,\nc' }).reportId).toBe(a.reportId);
    expect(parse({ what: 'x', systems: 'A, b ,a,\nc' }, 'V0TWO').reportId).not.toBe(a.reportId);
    expect(parse({ what: 'y', systems: 'A, b ,a,\nc' }).reportId).not.toBe(a.reportId);
    expect(parseReportSubmission({ user: 'alice', values: stateValues({ what: 'x' }), now })).toMatchObject({ ok: false });
    expect(DATA_CLASS_CHOICES.every((c) => c.label.length <= 75)).toBe(true);
  });

  test("the simulator checks views as Slack's reference says", async () => {
    expect(slackContract().reportFormSpecMethods).toEqual(['views.open', 'views.update', 'chat.getPermalink']);
    const sim = await startSlackSimulator();
    try {
      const api = (method: string, params: Obj) =>
        fetch(`${sim.apiUrl}${method}`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${sim.token}` }, body: JSON.stringify(params) }).then(
          async (r) => (await r.json()) as Obj,
        );
      const good = reportModal();
      const trigger = sim.trigger();
      const opened = await api('views.open', { trigger_id: trigger, view: good });
      expect(opened).toMatchObject({ ok: true, view: { id: expect.stringMatching(/^V/), hash: expect.any(String), callback_id: REPORT_VIEW } });
      expect(await api('views.open', { trigger_id: trigger, view: good })).toEqual({ ok: false, error: 'exchanged_trigger_id' });
      expect(await api('views.open', { trigger_id: '1.2.never', view: good })).toMatchObject({ ok: false, error: 'invalid_arguments' });
      expect(await api('views.update', { view_id: opened.view.id, hash: 'stale', view: good })).toEqual({ ok: false, error: 'hash_conflict' });
      expect(await api('views.update', { view_id: opened.view.id, hash: opened.view.hash, view: good })).toMatchObject({ ok: true });
      expect(sim.violations).toEqual([]);

      const bad = {
        ...good,
        title: { type: 'plain_text', text: 'Report a security concern' }, // 25 characters
        submit: undefined,
        private_metadata: 'x'.repeat(3001),
        colour: 'red',
        blocks: [
          ...good.blocks.slice(0, 2),
          { ...(good.blocks[2] as Obj), element: { ...(good.blocks[2] as Obj).element, multline: true } },
          { type: 'input', block_id: 'when', label: { type: 'mrkdwn', text: '*when*' }, element: { type: 'datetimepicker', action_id: 'when', initial_date_time: 17000000 } },
        ],
      };
      expect(await api('views.open', { trigger_id: sim.trigger(), view: bad })).toMatchObject({ ok: false, error: 'invalid_arguments' });
      expect(sim.violations.map((v) => `${v.kind}: ${v.detail}`)).toEqual([
        'view: view.colour is not a field of a view',
        'view: view.title: text must be 1 to 24 characters',
        'view: view.submit is required',
        'view: view.private_metadata must be a string of at most 3000',
        'view: view.blocks[2].element: multline is not a field of plain_text_input',
        'view: view.blocks[3].label: must be plain_text',
        'view: view.blocks[3].element: initial_date_time must be a Unix time in seconds (10 digits)',
      ]);
      // Input blocks belong in modals, not messages; views.update needs a view and which one.
      const channel = sim.addChannel('sec-soc');
      expect(await api('chat.postMessage', { channel, text: 'x', blocks: [good.blocks[1]] })).toMatchObject({ ok: false, error: 'invalid_blocks' });
      expect(sim.violations.at(-1)!.detail).toBe('blocks[0]: input blocks are for modals, not messages');
      expect(await api('views.update', { hash: 'x' })).toMatchObject({ ok: false, error: 'invalid_arguments' });
      expect(sim.violations.slice(-2).map((v) => v.detail)).toEqual(["(body) must have required property 'view'", '(body) must have view_id or external_id']);
    } finally {
      await sim.close();
    }
  });
});
