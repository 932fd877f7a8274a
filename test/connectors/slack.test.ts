/**
 * Slack: the Web API connector against the loopback simulator (cards posted once and updated in
 * place, idempotent retries, escaping, failure classification), and the interactivity endpoint
 * against the real Temporal server (signed clicks run Updates as the mapped person; forged or
 * stale requests change nothing; refusals reach the user at response_url).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { verifySlackRequest } from '@slack/bolt';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, dryRunConnectors } from '../../src/activities';
import { RATE_LIMITED, REJECTED, UNAVAILABLE } from '../../src/activities/failures';
import {
  ACTION_ACKNOWLEDGE,
  ACTION_ESCALATE,
  ACTION_OPEN,
  ACTION_SIGNOFF,
  type CaseCard,
  createSlackPort,
  METADATA_EVENT_TYPE,
  type SlackPort,
  HISTORY_LIMIT,
} from '../../src/activities/slack';
import type { CaseView } from '../../src/domain';
import { createIntakeServer } from '../../src/intake/server';
import { createSlackInteractivityHandler } from '../../src/intake/slack-interactivity';
import {
  type ResponseUrlReceiver,
  SLACK_REFERENCE_DIR,
  slackContract,
  type SlackSimulator,
  startResponseUrlReceiver,
  startSlackSimulator,
} from '../simulators/slack';
import { eventually, quietHistoryLength, sampleReport, startWarden, type TestWarden, testPolicy } from '../support/warden';

const reference = (file: string) => JSON.parse(readFileSync(resolve(SLACK_REFERENCE_DIR, file), 'utf8'));

function sampleCard(overrides: Partial<CaseCard> = {}): CaseCard {
  return {
    caseId: 'WRD-0123456789AB',
    title: 'Suspicious beaconing from laptop-1234',
    stage: 'responding',
    severity: 'SEV2',
    category: 'malware',
    queue: 'soc',
    evidenceCount: 2,
    escalated: false,
    assignees: [],
    link: 'http://localhost:8233/namespaces/default/workflows/case-WRD-0123456789AB',
    signOff: [
      { id: 'containment-confirmed', description: 'Affected systems are isolated' },
      { id: 'root-cause-known', description: 'The root cause is understood' },
    ],
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('the call succeeded, but it should have failed');
}

type Obj = Record<string, any>;
/** Every text object in some blocks, wherever it sits. */
function textObjects(node: unknown, out: Obj[] = []): Obj[] {
  if (Array.isArray(node)) node.forEach((n) => textObjects(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Obj;
    if ((o.type === 'plain_text' || o.type === 'mrkdwn') && typeof o.text === 'string') out.push(o);
    Object.values(o).forEach((v) => textObjects(v, out));
  }
  return out;
}
function buttons(blocks: Obj[]): Obj[] {
  return blocks.flatMap((b) => [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])]).filter((e: Obj) => e.type === 'button');
}

describe('Slack connector', () => {
  let sim: SlackSimulator;
  let port: SlackPort;
  let channel: string;

  beforeEach(async () => {
    sim = await startSlackSimulator();
    channel = sim.addChannel('sec-soc');
    port = createSlackPort({ token: sim.token, apiUrl: sim.apiUrl, timeoutMs: 500 });
  });
  afterEach(async () => {
    await sim?.close();
  });

  test('a card posted long before (a case run again after a repair) is found under hundreds of newer messages, not posted twice', async () => {
    const card = { ...sampleCard(), openedAt: new Date(Date.now() - 60_000).toISOString() };
    const { ref } = await port.postCard(channel, card, `${card.caseId}:card`);
    for (let i = 0; i < HISTORY_LIMIT + 50; i++) await port.postMessage(channel, `other case ${i}`, `other-${i}`);
    expect(await port.postCard(channel, card, `${card.caseId}:card`)).toEqual({ ref });
    expect(sim.messages(channel).filter((m) => JSON.stringify(m.metadata ?? {}).includes(`${card.caseId}:card`))).toHaveLength(1);
    // Without the case's opening time only the recent history is read: the old card is not seen.
    expect(await port.postCard(channel, { ...card, openedAt: undefined }, `${card.caseId}:card`)).not.toEqual({ ref });
  });

  test('a case whose card was made in dry-run mode gets a live card once Slack is live, then updates that one', async () => {
    const outboxDir = mkdtempSync(join(tmpdir(), 'warden-slack-mode-'));
    const dry = createActivities(dryRunConnectors(join(outboxDir, 'outbox.jsonl')));
    const card = sampleCard();
    const { cardRef: dryRef } = await dry.publishCaseCard({ card, channel, revision: 1 });
    expect(dryRef).toBe(`${channel}/${card.caseId}:card`);

    const live = createActivities({ ...dryRunConnectors(join(outboxDir, 'outbox.jsonl')), slack: port });
    const { cardRef } = await live.publishCaseCard({ card: { ...card, stage: 'escalated' }, channel, cardRef: dryRef, revision: 2 });
    const [message] = sim.messages(channel);
    expect(cardRef).toBe(`${channel}/${message.ts}`);
    expect(await live.publishCaseCard({ card: { ...card, stage: 'closed' }, channel, cardRef, revision: 3 })).toEqual({ cardRef });
    expect(sim.messages(channel)).toHaveLength(1);
    expect(sim.messages(channel)[0].text).toContain('stage: closed');
  });

  test('a card carries the regulatory deadlines and open determinations', async () => {
    const card = { ...sampleCard(), regulatory: ['to determine: material (SEC Form 8-K Item 1.05)', 'GDPR Art. 33: notify the supervisory authority: due 2026-11-28T10:00:00.000Z'] };
    await port.postCard('#sec-soc', card, `${card.caseId}:card`);
    const [message] = sim.messages(channel);
    expect(textObjects(message.blocks as Obj[]).map((t) => t.text)).toContain(`Regulatory:\n${card.regulatory.join('\n')}`);
    expect(message.text).toContain('regulatory: GDPR Art. 33: notify the supervisory authority: due 2026-11-28T10:00:00.000Z');
  });

  test('a card is posted once with its key, then updated in place', async () => {
    const card = sampleCard();
    const { ref } = await port.postCard('#sec-soc', card, `${card.caseId}:card`);
    const [message] = sim.messages(channel);
    expect(ref).toBe(`${channel}/${message.ts}`);
    expect(message.metadata).toEqual({ event_type: METADATA_EVENT_TYPE, event_payload: { key: `${card.caseId}:card` } });

    // Header, fields, link and buttons, with the values the interactivity endpoint reads.
    const blocks = message.blocks as Obj[];
    expect(blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: 'SEV2 · WRD-0123456789AB' } });
    const texts = textObjects(blocks).map((t) => t.text);
    for (const expected of ['Suspicious beaconing from laptop-1234', 'Stage: responding', 'Category: malware', 'Queue: soc', 'Evidence: 2 reports', 'Acknowledged by: -', 'Assignees: -'])
      expect(texts).toContain(expected);
    const byAction = buttons(blocks).map((b) => ({ action: b.action_id, text: b.text.text, value: b.value && JSON.parse(b.value), url: b.url }));
    expect(byAction).toEqual([
      { action: ACTION_ACKNOWLEDGE, text: 'Acknowledge', value: { caseId: card.caseId }, url: undefined },
      { action: ACTION_ESCALATE, text: 'Escalate', value: { caseId: card.caseId }, url: undefined },
      { action: ACTION_OPEN, text: 'Open in Temporal', value: undefined, url: card.link },
      { action: ACTION_SIGNOFF, text: 'Sign off: containment-confirmed', value: { caseId: card.caseId, criterion: 'containment-confirmed' }, url: undefined },
      { action: ACTION_SIGNOFF, text: 'Sign off: root-cause-known', value: { caseId: card.caseId, criterion: 'root-cause-known' }, url: undefined },
    ]);
    expect(message.text).toContain('[SEV2] WRD-0123456789AB: Suspicious beaconing'); // the plain-text fallback

    // The same key again: found in the channel's history, not posted twice.
    expect(await port.postCard('#sec-soc', card, `${card.caseId}:card`)).toEqual({ ref });
    expect(await port.postCard(channel, card, `${card.caseId}:card`)).toEqual({ ref });
    expect(sim.messages(channel)).toHaveLength(1);
    expect(sim.callsTo('conversations.history')[0].body).toMatchObject({ channel, include_all_metadata: 'true', limit: String(HISTORY_LIMIT) });

    // Updated in place: same ts, new content, acknowledged (no more Acknowledge button), metadata kept.
    await port.updateCard(ref, sampleCard({ acknowledgedBy: 'bob', assignees: ['carol'], evidenceCount: 3, signOff: [] }), `${card.caseId}:card:2`);
    const updated = sim.messages(channel);
    expect(updated).toHaveLength(1);
    expect(updated[0].ts).toBe(message.ts);
    expect(updated[0].versions).toHaveLength(2);
    expect(textObjects(updated[0].blocks).map((t) => t.text)).toEqual(expect.arrayContaining(['Acknowledged by: bob', 'Assignees: carol', 'Evidence: 3 reports']));
    expect(buttons(updated[0].blocks as Obj[]).map((b) => b.action_id)).toEqual([ACTION_ESCALATE, ACTION_OPEN]);
    expect(updated[0].metadata?.event_payload).toEqual({ key: `${card.caseId}:card` });
    expect(sim.callsTo('chat.update')[0].body).toMatchObject({ channel, ts: message.ts });

    // A closed case's card has no action buttons left, only the link.
    await port.updateCard(ref, sampleCard({ stage: 'closed' }), `${card.caseId}:card:3`);
    expect(buttons(sim.messages(channel)[0].blocks as Obj[]).map((b) => b.action_id)).toEqual([ACTION_OPEN]);

    expect(sim.calls.every((c) => c.auth === 'bearer' && c.contentType === 'application/x-www-form-urlencoded')).toBe(true);
    expect(sim.violations).toEqual([]);
  });

  test('a retried post after a lost response finds the first post instead of posting again', async () => {
    const card = sampleCard();
    sim.inject({ kind: 'lost-response' }, { method: 'chat.postMessage' });
    const lost = await failure(port.postCard(channel, card, 'case-a:card'));
    expect(lost.type).toBe(UNAVAILABLE);
    expect(lost.nonRetryable).toBe(false);
    expect(sim.messages(channel)).toHaveLength(1); // Slack did post it; the answer was lost

    const { ref } = await port.postCard(channel, card, 'case-a:card'); // Temporal's retry
    expect(ref).toBe(`${channel}/${sim.messages(channel)[0].ts}`);
    expect(sim.messages(channel)).toHaveLength(1);
    expect(sim.callsTo('chat.postMessage')).toHaveLength(1);

    // By channel name: once the name's id is known from a post (here another case's card), the check works for it too.
    await port.postCard('#sec-soc', sampleCard({ caseId: 'WRD-00000000000B' }), 'case-b:card');
    sim.inject({ kind: 'lost-response' }, { method: 'chat.postMessage' });
    await failure(port.postMessage('#sec-soc', 'escalation summary', 'case-a:escalation:1'));
    await port.postMessage('#sec-soc', 'escalation summary', 'case-a:escalation:1');
    expect(sim.messages(channel).filter((m) => m.metadata?.event_payload.key === 'case-a:escalation:1')).toHaveLength(1);

    // Direct messages: conversations.open, then the same check in the DM.
    sim.inject({ kind: 'lost-response' }, { method: 'chat.postMessage' });
    await failure(port.directMessage('U0ALICE1', 'recovery may begin', 'case-a:recovery:alice'));
    await port.directMessage('U0ALICE1', 'recovery may begin', 'case-a:recovery:alice');
    const dm = sim.callsTo('conversations.open')[0];
    expect(dm.body).toEqual({ users: 'U0ALICE1' });
    const dmChannel = sim.callsTo('chat.postMessage').at(-1)!.body.channel as string;
    expect(dmChannel).toMatch(/^D/);
    expect(sim.messages(dmChannel)).toHaveLength(1);
    expect(sim.violations).toEqual([]);
  });

  test("hostile text cannot ping, spoof a link or format: escaped, in plain_text only, and fitted to Block Kit's limits", async () => {
    const hostile = 'URGENT <!channel> <!here> @here <@U0ADMIN01> reset at <https://evil.example|bank> *bold* _it_ ~s~ `c` & co';
    const { ref } = await port.postCard(channel, sampleCard({ title: hostile, assignees: ['<!everyone>'] }), 'hostile:card');
    const body = sim.callsTo('chat.postMessage')[0].body;
    const sent = JSON.stringify(body);
    for (const raw of ['<!channel>', '<!here>', '<@U0ADMIN01>', '<https://evil.example|bank>', '<!everyone>']) expect(sent).not.toContain(raw);
    expect(sent).toContain('URGENT &lt;!channel&gt; &lt;!here&gt; @here &lt;@U0ADMIN01&gt; reset at &lt;https://evil.example|bank&gt; *bold* _it_ ~s~ `c` &amp; co');
    expect(body).toMatchObject({ mrkdwn: 'false', parse: 'none', link_names: 'false' });
    // Every text object carrying the title is plain_text: no mrkdwn, so *bold* stays literal.
    const carrying = textObjects(body.blocks).filter((t) => t.text.includes('bold') || t.text.includes('everyone'));
    expect(carrying.length).toBeGreaterThanOrEqual(2);
    expect(carrying.every((t) => t.type === 'plain_text')).toBe(true);
    expect(textObjects(body.blocks).filter((t) => t.type === 'mrkdwn')).toEqual([]);
    expect(String(body.text)).toContain('&lt;!channel&gt;');

    // Plain messages: escaped, mrkdwn off.
    await port.postMessage(channel, `ESCALATED: ${hostile}`, 'hostile:escalation');
    const plainBody = sim.callsTo('chat.postMessage')[1].body;
    expect(plainBody).toMatchObject({ mrkdwn: 'false', parse: 'none', link_names: 'false' });
    expect(plainBody.text).toBe(`ESCALATED: ${hostile.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`);

    // Long text is cut to the limits (header 150, section 3000, button 75), never inside an entity.
    const long = `${'<'.repeat(2000)}${'x'.repeat(5000)}`;
    await port.updateCard(ref, sampleCard({ title: long, caseId: 'WRD-0123456789AB', signOff: [{ id: 'c'.repeat(200), description: 'd'.repeat(4000) }] }), 'hostile:card:2');
    const blocks = sim.messages(channel)[0].blocks as Obj[];
    const title = blocks.find((b) => b.block_id === 'warden.title')!.text.text as string;
    expect(title.length).toBeLessThanOrEqual(3000);
    expect(title.endsWith('…')).toBe(true);
    expect(title.replace(/&lt;/g, '')).toMatch(/^x*…$/);
    expect(buttons(blocks).every((b) => b.text.text.length <= 75)).toBe(true);
    expect(sim.violations).toEqual([]);
  });

  test('a 429 is a retryable failure carrying Retry-After as the next retry delay; the client does not retry by itself', async () => {
    sim.inject({ kind: 'rate-limited', retryAfterSeconds: 7 }, { method: 'chat.postMessage' });
    const limited = await failure(port.postCard(channel, sampleCard(), 'rl:card'));
    expect(limited.type).toBe(RATE_LIMITED);
    expect(limited.nonRetryable).toBe(false);
    expect(limited.nextRetryDelay).toBe(7000);
    expect(sim.callsTo('chat.postMessage')).toHaveLength(1);

    sim.inject({ kind: 'rate-limited' }, { method: 'conversations.history' }); // no Retry-After header
    const noHeader = await failure(port.postCard(channel, sampleCard(), 'rl:card'));
    expect(noHeader.type).toBe(RATE_LIMITED);
    expect(noHeader.nonRetryable).toBe(false);
    expect(noHeader.nextRetryDelay).toBeUndefined();
    expect(sim.messages(channel)).toHaveLength(0);
  });

  test('HTTP 5xx, a timeout, a refused connection and Slack-side errors are retryable', async () => {
    sim.inject({ kind: 'http-error', status: 500 });
    const http500 = await failure(port.postMessage(channel, 'hello', 'k1'));
    expect([http500.type, http500.nonRetryable, http500.message]).toEqual([UNAVAILABLE, false, 'Slack conversations.history: HTTP 500 Internal Server Error']);

    sim.inject({ kind: 'http-error', status: 503 }, { method: 'chat.update' });
    expect((await failure(port.updateCard(`${channel}/1700000000.000100`, sampleCard(), 'k'))).type).toBe(UNAVAILABLE);

    sim.inject({ kind: 'hang' }, { method: 'chat.postMessage' });
    const started = Date.now();
    const timedOut = await failure(port.postMessage(channel, 'hello', 'k2'));
    expect([timedOut.type, timedOut.nonRetryable]).toEqual([UNAVAILABLE, false]);
    expect(timedOut.message).toBe('Slack chat.postMessage: no answer within 500ms');
    expect(Date.now() - started).toBeLessThan(5_000);

    sim.inject({ kind: 'error', error: 'internal_error' });
    expect((await failure(port.postMessage(channel, 'hello', 'k3'))).type).toBe(UNAVAILABLE);

    const down = createSlackPort({ token: sim.token, apiUrl: 'http://127.0.0.1:1/api/', timeoutMs: 500 });
    const refused = await failure(down.postMessage(channel, 'hello', 'k4'));
    expect([refused.type, refused.nonRetryable]).toEqual([UNAVAILABLE, false]);
    expect(refused.message).toMatch(/^Slack conversations.history: network error/);
  });

  test('platform errors (invalid_auth, channel_not_found, not_in_channel...) are rejected for good, without the token', async () => {
    const badToken = 'xoxb-wrong1';
    const wrong = createSlackPort({ token: badToken, apiUrl: sim.apiUrl, timeoutMs: 500 });
    const auth = await failure(wrong.postCard(channel, sampleCard(), 'k'));
    expect([auth.type, auth.nonRetryable, auth.message]).toEqual([REJECTED, true, 'Slack conversations.history: invalid_auth']);

    const notFound = await failure(port.postCard('#no-such-channel', sampleCard(), 'k'));
    expect([notFound.type, notFound.nonRetryable, notFound.message]).toEqual([REJECTED, true, 'Slack chat.postMessage: channel_not_found']);

    for (const error of ['not_in_channel', 'account_inactive', 'missing_scope']) {
      sim.inject({ kind: 'error', error }, { method: 'chat.postMessage' });
      const f = await failure(port.postMessage(channel, 'hello', `k-${error}`));
      expect([f.type, f.nonRetryable, f.message]).toEqual([REJECTED, true, `Slack chat.postMessage: ${error}`]);
    }
    sim.inject({ kind: 'error', error: 'message_not_found' }, { method: 'chat.update' });
    expect((await failure(port.updateCard(`${channel}/1700000000.000100`, sampleCard(), 'k'))).nonRetryable).toBe(true);

    // Refused before any call: a dry-run ref, a Warden id where a Slack user id belongs.
    const calls = sim.calls.length;
    expect((await failure(port.updateCard('#sec-soc/WRD-0123456789AB:card', sampleCard(), 'k'))).message).toMatch(/not a Slack message ref/);
    expect((await failure(port.directMessage('alice', 'hi', 'k'))).message).toBe('Slack conversations.open: "alice" is not a Slack user id');
    expect(sim.calls.length).toBe(calls);

    for (const call of sim.calls) expect(JSON.stringify(call)).not.toContain(sim.token);
    expect(JSON.stringify([auth, notFound].map((f) => [f.message, f.details, f.cause]))).not.toContain(badToken);
    expect(sim.violations).toEqual([]);
  });
});

describe('the Slack simulator holds clients to the contract', () => {
  let sim: SlackSimulator;
  beforeEach(async () => {
    sim = await startSlackSimulator();
  });
  afterEach(async () => {
    await sim?.close();
  });

  const api = (method: string, body: string, headers: Record<string, string>) =>
    fetch(`${sim.apiUrl}${method}`, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as Obj }));
  /** Form-encoded, with the bearer token (or `null`: none). */
  const form = (params: Record<string, string>, token: string | null = sim.token) =>
    [new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { authorization: `Bearer ${token}` } : {}) }] as const;
  const json = (params: Obj) => [JSON.stringify(params), { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${sim.token}` }] as const;

  test('tokens, bodies, parameters, formats, metadata and blocks are checked as the spec and the docs say', async () => {
    const channel = sim.addChannel('sec-soc');
    // Accepted: a form body with the token in the header or in the body, a JSON body with blocks as JSON.
    expect((await api('auth.test', ...form({}))).body).toMatchObject({ ok: true, team_id: expect.stringMatching(/^T/) });
    expect((await api('chat.postMessage', ...form({ channel, text: 'hi', token: sim.token }, null))).body.ok).toBe(true);
    const posted = await api('chat.postMessage', ...json({ channel: '#sec-soc', text: 'hi', blocks: [{ type: 'section', text: { type: 'plain_text', text: 'hi' } }], metadata: { event_type: 'x', event_payload: { key: 'k' } } }));
    expect(posted.body).toMatchObject({ ok: true, channel, ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    expect(sim.violations).toEqual([]);

    // Tokens: missing, wrong, or in a JSON body (Slack reads it from the header only).
    expect((await api('auth.test', ...form({}, null))).body).toEqual({ ok: false, error: 'not_authed' });
    expect(await api('auth.test', ...form({}, 'xoxb-wrong'))).toEqual({ status: 200, body: { ok: false, error: 'invalid_auth' } });
    expect((await api('auth.test', JSON.stringify({ token: sim.token }), { 'content-type': 'application/json' })).body.error).toBe('not_authed');

    // Parameters: a required one missing, an unknown one, a malformed ts / channel / user, bad metadata.
    const wrong: [string, Record<string, string>, RegExp][] = [
      ['chat.update', { channel, text: 'x' }, /must have required property 'ts'/],
      ['chat.postMessage', { channel, text: 'x', chanel: channel }, /must NOT have additional properties: chanel/],
      ['chat.update', { channel, ts: '12.5', text: 'x' }, /\/ts must match pattern/],
      ['chat.update', { channel: '#sec-soc', ts: '1700000000.000100', text: 'x' }, /\/channel must match pattern/],
      ['conversations.open', { users: 'alice' }, /\/users must match pattern/],
      ['chat.postEphemeral', { channel, text: 'x' }, /must have required property 'user'/],
      ['conversations.history', { channel, limit: 'many' }, /\/limit must be integer/],
      ['chat.postMessage', { channel, text: 'x', metadata: '{"event_type":"x"}' }, /metadata must have required property 'event_payload'/],
      ['chat.postMessage', { channel, text: 'x', blocks: '[{' }, /blocks is not JSON/],
    ];
    for (const [method, params, problem] of wrong) {
      const before = sim.violations.length;
      expect((await api(method, ...form(params))).body).toMatchObject({ ok: false, error: 'invalid_arguments' });
      expect(sim.violations.slice(before).map((v) => v.detail).join('\n')).toMatch(problem);
    }

    // Block Kit limits: a header over 150, a button text over 75, a repeated action id.
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
      { type: 'actions', elements: [1, 2].map(() => ({ type: 'button', action_id: 'same', text: { type: 'plain_text', text: 'b'.repeat(76) } })) },
    ];
    const refused = await api('chat.postMessage', ...json({ channel, text: 'x', blocks }));
    expect(refused.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(sim.violations.filter((v) => v.kind === 'blocks').map((v) => v.detail)).toEqual([
      'blocks[0].text: 151 characters (at most 150)',
      'blocks[1].elements[0].text: 76 characters (at most 75)',
      'blocks[1].elements[1].text: 76 characters (at most 75)',
      'blocks[1].elements[1]: action_id same repeats within the block',
    ]);

    // Its own answers are checked against the spec's success schemas.
    expect(slackContract().specMethods).toEqual(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'conversations.open', 'auth.test']);
    expect(slackContract().checkResponse('chat.postMessage', { ok: true, channel })).toEqual([
      "(body) must have required property 'ts'",
      "(body) must have required property 'message'",
    ]);
    expect(sim.violations.filter((v) => v.kind === 'response')).toEqual([]);
  });
});

// ── Interactivity ────────────────────────────────────────────────────────────────────────────

const SECRET = 'warden-test-signing-secret-7f3a9c';
const ALICE = 'U0ALICE1';
const BOB = 'U0BOB001';

function sign(body: string, secret = SECRET, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

/** A block_actions click as Slack sends it, built from the real payload in the reference. */
function click(user: string, actionId: string, value: Record<string, string>, responseUrl: string): string {
  const payload = reference('interactivity/block_actions.json');
  payload.user = { ...payload.user, id: user };
  payload.response_url = responseUrl;
  payload.container = { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0SECSOC01', is_ephemeral: false };
  payload.channel = { id: 'C0SECSOC01', name: 'sec-soc' };
  payload.actions = [
    { ...payload.actions[0], action_id: actionId, block_id: 'warden.actions', value: JSON.stringify(value), action_ts: `${(Date.now() / 1000).toFixed(6)}` },
  ];
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Slack interactivity', () => {
  const policy = testPolicy({ people: { alice: { slack: ALICE }, bob: { slack: BOB } } });
  let w: TestWarden;
  let receiver: ResponseUrlReceiver;
  let intake: Server;
  let intakeUrl: string;
  let direct: Server;
  let directUrl: string;

  beforeAll(async () => {
    w = await startWarden(policy);
    receiver = await startResponseUrlReceiver();
    intake = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, slackSigningSecret: SECRET });
    intakeUrl = await listen(intake);
    // The handler on its own, answering on the loopback receiver (the intake only answers on Slack's hosts).
    direct = createServer(createSlackInteractivityHandler({ client: w.client, policy, signingSecret: SECRET, responseUrlAllowed: (u) => u.hostname === '127.0.0.1' }));
    directUrl = await listen(direct);
  });
  afterAll(async () => {
    await new Promise((ok) => intake?.close(ok));
    await new Promise((ok) => direct?.close(ok));
    await receiver?.close();
    await w?.stop();
  });

  const post = (base: string, body: string, headers: Record<string, string>) => fetch(`${base}/slack/interactivity`, { method: 'POST', headers, body });

  async function respondingCase(): Promise<string> {
    const filed = await w.file(sampleReport());
    await eventually(async () => ((await w.view(filed.caseId)) as CaseView).stage === 'responding' || undefined, 'the case to respond');
    return filed.caseId;
  }
  const historyLength = async (caseId: string) => (await w.handle(caseId).fetchHistory()).events?.length ?? 0;

  test('signed clicks acknowledge, escalate and sign off as the Slack user mapped through policy.people', async () => {
    const caseId = await respondingCase();
    const seen = receiver.posts.length;

    const started = Date.now();
    const ack = await post(intakeUrl, click(ALICE, ACTION_ACKNOWLEDGE, { caseId }, receiver.url()), sign(click(ALICE, ACTION_ACKNOWLEDGE, { caseId }, 'x')));
    expect(ack.status).toBe(401); // body and signature must match: a signature over another body is refused

    const body = click(ALICE, ACTION_ACKNOWLEDGE, { caseId }, receiver.url());
    const res = await post(intakeUrl, body, sign(body));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000); // Slack's deadline
    await eventually(async () => ((await w.view(caseId)) as CaseView).acknowledgedBy === 'alice' || undefined, 'alice to acknowledge');

    const escalate = click(ALICE, ACTION_ESCALATE, { caseId }, receiver.url());
    expect((await post(intakeUrl, escalate, sign(escalate))).status).toBe(200);
    const escalated = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.escalated ? v : undefined;
    }, 'the escalation');
    expect(escalated.escalations[0].triggers[0]).toMatchObject({ criterion: 'manual', source: 'human', detail: `escalated from Slack by alice (${ALICE})` });

    const signOff = click(ALICE, ACTION_SIGNOFF, { caseId, criterion: 'containment-confirmed' }, receiver.url());
    expect((await post(intakeUrl, signOff, sign(signOff))).status).toBe(200);
    const view = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.recovery.find((c) => c.id === 'containment-confirmed')?.passed ? v : undefined;
    }, 'the sign-off');
    expect(view.recovery.find((c) => c.id === 'containment-confirmed')).toMatchObject({ by: 'alice', detail: `signed off from Slack by alice (${ALICE})` });
    expect(view.timeline.find((t) => t.action === 'signed off containment-confirmed')).toMatchObject({ actor: 'alice' });
    expect(view.stage).toBe('recovery-gate');
    expect(receiver.posts.length).toBe(seen); // accepted: nothing to tell
  });

  test('a forged signature, a stale or future timestamp, or no signature get 401, and nothing happens', async () => {
    const caseId = await respondingCase();
    const before = await quietHistoryLength(w.handle(caseId));
    const seen = receiver.posts.length;
    const body = click(ALICE, ACTION_SIGNOFF, { caseId, criterion: 'containment-confirmed' }, receiver.url());
    const now = Math.floor(Date.now() / 1000);
    const refusals = [
      { headers: sign(body, 'not-the-secret'), reason: /signature mismatch/ },
      { headers: { ...sign(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` }, reason: /signature mismatch/ },
      { headers: sign(body, SECRET, now - 6 * 60), reason: /stale request/ },
      { headers: sign(body, SECRET, now + 6 * 60), reason: /stale request/ },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, reason: /X-Slack-Signature and X-Slack-Request-Timestamp are required/ },
      { headers: { ...sign(body), 'x-slack-request-timestamp': 'soon' }, reason: /not a Unix time/ },
    ];
    for (const { headers, reason } of refusals) {
      const res = await post(intakeUrl, body, headers);
      expect(res.status).toBe(401);
      const answer = (await res.json()) as { error: string };
      expect(answer.error).toMatch(reason);
      expect(answer.error).not.toContain(SECRET);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await historyLength(caseId)).toBe(before);
    expect(((await w.view(caseId)) as CaseView).recovery.every((c) => !c.passed)).toBe(true);
    expect(receiver.posts.length).toBe(seen);
  });

  test('a click the policy does not allow is refused, and the user is told why in an ephemeral message', async () => {
    const caseId = await respondingCase();
    const before = await quietHistoryLength(w.handle(caseId));
    const seen = receiver.posts.length;

    const bobSignsOff = click(BOB, ACTION_SIGNOFF, { caseId, criterion: 'containment-confirmed' }, receiver.url());
    expect((await post(directUrl, bobSignsOff, sign(bobSignsOff))).status).toBe(200);
    const [bobAnswer] = (await receiver.waitFor(seen + 1)).slice(seen);
    expect(bobAnswer.contentType).toMatch(/^application\/json/);
    expect(bobAnswer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(bobAnswer.body.text).toMatch(new RegExp(`^Warden refused to sign off ${caseId}: bob may not sign off containment-confirmed: the policy allows incident-commander`));

    const stranger = click('U0MALLORY', ACTION_ACKNOWLEDGE, { caseId }, receiver.url());
    expect((await post(directUrl, stranger, sign(stranger))).status).toBe(200);
    const [strangerAnswer] = (await receiver.waitFor(seen + 2)).slice(seen + 1);
    expect(strangerAnswer.body.text).toMatch(/^Warden refused to acknowledge WRD-[0-9A-F]{12}: U0MALLORY may not acknowledge: .*U0MALLORY holds no role/);

    const unknownCase = click(ALICE, ACTION_ACKNOWLEDGE, { caseId: 'WRD-000000000000' }, receiver.url());
    expect((await post(directUrl, unknownCase, sign(unknownCase))).status).toBe(200);
    const [unknownAnswer] = (await receiver.waitFor(seen + 3)).slice(seen + 2);
    expect(unknownAnswer.body.text).toBe('Warden could not acknowledge WRD-000000000000: no open case with that id.');

    expect(await historyLength(caseId)).toBe(before);
  });

  test('other interactions and action ids are answered 200 and ignored; without a signing secret there is no route', async () => {
    const caseId = await respondingCase();
    const before = await quietHistoryLength(w.handle(caseId));
    const seen = receiver.posts.length;
    for (const body of [
      click(ALICE, ACTION_OPEN, { caseId }, receiver.url()),
      click(ALICE, 'someone.elses.button', { caseId }, receiver.url()),
      new URLSearchParams({ payload: JSON.stringify({ ...reference('interactivity/global_shortcut.json'), user: { id: ALICE } }) }).toString(),
      new URLSearchParams({ payload: JSON.stringify(reference('interactivity/view_submission.json')) }).toString(),
    ])
      expect((await post(directUrl, body, sign(body))).status).toBe(200);
    const notJson = 'payload=%7Bnot-json';
    expect((await post(directUrl, notJson, sign(notJson))).status).toBe(400);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await historyLength(caseId)).toBe(before);
    expect(receiver.posts.length).toBe(seen);

    const plain = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue });
    const base = await listen(plain);
    try {
      const body = click(ALICE, ACTION_ACKNOWLEDGE, { caseId }, receiver.url());
      expect((await post(base, body, sign(body))).status).toBe(404);
    } finally {
      await new Promise((ok) => plain.close(ok));
    }
  });

  test("the reference's signed interactivity payloads verify byte for byte at the endpoint", async () => {
    const vectors = reference('request-signing.json').vectors.filter((v: Obj) => v.id.startsWith('derived-'));
    expect(vectors.map((v: Obj) => v.id)).toEqual(expect.arrayContaining(['derived-block_actions', 'derived-global_shortcut']));
    const at = (v: Obj) =>
      createServer(createSlackInteractivityHandler({ client: w.client, policy, signingSecret: v.signing_secret, now: () => v.now_for_test * 1000 }));
    for (const v of vectors) {
      const server = at(v);
      const base = await listen(server);
      try {
        const headers = { 'content-type': v.headers['Content-Type'], 'x-slack-request-timestamp': v.headers['X-Slack-Request-Timestamp'], 'x-slack-signature': v.headers['X-Slack-Signature'] };
        expect([v.id, (await post(base, v.raw_body, headers)).status]).toEqual([v.id, 200]);
        expect([v.id, (await post(base, `${v.raw_body}&x=1`, headers)).status]).toEqual([v.id, 401]);
      } finally {
        await new Promise((ok) => server.close(ok));
      }
    }
  });
});

describe("Bolt's request verifier and Slack's published signing vectors", () => {
  const signing = reference('request-signing.json');
  const verify = (v: Obj) =>
    verifySlackRequest({
      signingSecret: v.signing_secret,
      body: v.raw_body,
      headers: { 'x-slack-signature': v.headers['X-Slack-Signature'], 'x-slack-request-timestamp': Number(v.headers['X-Slack-Request-Timestamp']) },
      nowMilliseconds: v.now_for_test * 1000,
    });

  test("Slack's documented example passes", () => {
    const published = signing.vectors.find((v: Obj) => v.id === 'slack-docs-slash-command');
    expect(published.expected_signature).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
    expect(() => verify(published)).not.toThrow();
  });

  test.each<[string, Obj]>(signing.vectors.map((v: Obj) => [v.id, v]))('%s verifies', (_id, v) => {
    expect(v.expect_valid).toBe(true);
    expect(() => verify(v)).not.toThrow();
  });

  test.each<[string, Obj]>(signing.negative_vectors.map((v: Obj) => [v.id, v]))('%s is refused', (_id, v) => {
    expect(v.expect_valid).toBe(false);
    expect(() => verify(v)).toThrow(v.reason === 'signature mismatch' ? /signature mismatch/ : /stale/);
  });
});
