/**
 * Slack: case cards in the owning queue's channel (posted once, then updated in place),
 * escalation summaries with the timeline, and direct messages to people.
 *
 * `createSlackPort` talks to the Web API with @slack/web-api. The client does not retry on its
 * own: Temporal's activity retry policy does, so every failure is classified (failures.ts):
 * 429 → rate limited (next attempt after Retry-After), HTTP 5xx / network / timeout → unavailable,
 * an `ok:false` answer (invalid_auth, channel_not_found, not_in_channel...) → rejected.
 *
 * Slack has no idempotency key. Each post carries message metadata
 * `{event_type: "warden_message", event_payload: {key}}`, and before posting the connector looks
 * for that key in the channel's recent history (conversations.history needs a channel id, so a
 * channel given by name is checked once its id is known from an earlier post in this process).
 *
 * Titles, descriptions and reasons come from alerts and mail subjects, so from attackers. They
 * only ever go into plain_text objects or into `text` (mrkdwn off when posting), always escaped
 * (&, <, >), so `<!channel>`, `<@U…>` or `<http://evil|bank>` cannot ping anyone or spoof a link,
 * and `*bold*` stays literal. Block Kit length limits are respected by truncating.
 */
import { type Block, ErrorCode, type KnownBlock, LogLevel, WebClient } from '@slack/web-api';
import type { ApplicationFailure } from '@temporalio/common';
import { type CaseSummary, cardText } from './messages';
import { rateLimited, rejected, unavailable, httpFailure } from './failures';
import type { Outbox } from './outbox';

/** What a case card shows; `signOff` lists the human recovery criteria still open (one button each). */
export interface CaseCard extends CaseSummary {
  signOff: { id: string; description: string }[];
}

export interface SlackPort {
  /** Post the card once per key: a retry finds the first post instead of posting again. Ref is "channel/ts". */
  postCard(channel: string, card: CaseCard, key: string): Promise<{ ref: string }>;
  /** Update the posted card in place. */
  updateCard(ref: string, card: CaseCard, key: string): Promise<void>;
  /** Live Slack, or dry-run into the outbox: a card ref made in one mode means nothing in the other. */
  readonly mode: 'live' | 'dry-run';
  /** A plain message (e.g. the escalation summary and timeline) in a channel, once per key. */
  postMessage(channel: string, text: string, key: string): Promise<{ ref: string }>;
  /** A direct message to a Slack user id (U…), once per key. */
  directMessage(user: string, text: string, key: string): Promise<void>;
}

/** Without a Slack token: what would be sent goes to the outbox. */
export function dryRunSlack(outbox: Outbox): SlackPort {
  return {
    async postCard(channel, card, key) {
      const ref = `${channel}/${key}`;
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage', key, body: { channel, text: cardText(card), ref } });
      return { ref };
    },
    async updateCard(ref, card, key) {
      await outbox.deliver({ system: 'slack', kind: 'chat.update', key, body: { ref, text: cardText(card) } });
    },
    mode: 'dry-run',
    async postMessage(channel, text, key) {
      const ref = `${channel}/${key}`;
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage', key, body: { channel, text, ref } });
      return { ref };
    },
    async directMessage(user, text, key) {
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage.dm', key, body: { user, text } });
    },
  };
}

// ── Buttons and their payloads (shared with the interactivity endpoint) ──────────────────────

export const ACTION_ACKNOWLEDGE = 'warden.acknowledge';
export const ACTION_ESCALATE = 'warden.escalate';
export const ACTION_SIGNOFF = 'warden.signoff';
/** The link button to the case in the Temporal UI; Slack reports its clicks too, they are ignored. */
export const ACTION_OPEN = 'warden.open';

/** The `value` of a Warden button. */
export interface ButtonValue {
  caseId: string;
  criterion?: string;
}

/** The metadata event type that marks Warden's messages (event_payload.key is the idempotency key). */
export const METADATA_EVENT_TYPE = 'warden_message';

// ── Escaping and Block Kit limits ────────────────────────────────────────────────────────────

/** Slack's three control characters as entities: nothing in the text can become a mention or a link. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escaped, and at most `max` characters once escaped: cut on a character boundary (never inside
 * an entity or a surrogate pair), with an ellipsis when cut.
 */
export function fitText(raw: string, max: number): string {
  const escaped = escapeSlack(raw);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const ch of raw) {
    const e = escapeSlack(ch);
    if (out.length + e.length > max - 1) break;
    out += e;
  }
  return `${out}…`;
}

/** One line (headers and buttons do not wrap), escaped and fitted. */
function fitLine(raw: string, max: number): string {
  return fitText(raw.replace(/\s+/g, ' ').trim() || '-', max);
}

/** Limits from Slack's Block Kit reference. */
export const LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** chat.postMessage truncates `text` beyond 40,000 characters; a card's fallback needs far less. */
  messageText: 40_000,
  fallbackText: 4_000,
} as const;

type Text = { type: 'plain_text'; text: string; emoji?: boolean };
const plain = (raw: string, max: number): Text => ({ type: 'plain_text', text: fitText(raw || '-', max), emoji: false });

function confirm(title: string, text: string, yes: string) {
  return {
    title: plain(title, LIMITS.confirmTitle),
    text: plain(text, LIMITS.confirmText),
    confirm: plain(yes, LIMITS.confirmButton),
    deny: plain('Cancel', LIMITS.confirmButton),
  };
}

function button(label: string, actionId: string, value: ButtonValue, extra: Record<string, unknown> = {}) {
  const json = JSON.stringify(value);
  if (json.length > LIMITS.buttonValue) throw rejected('Slack', 'case card', `button value for ${actionId} is over ${LIMITS.buttonValue} characters`);
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: fitLine(label, LIMITS.buttonText), emoji: false }, value: json, ...extra };
}

function linkUrl(link: string | undefined): string | undefined {
  if (!link || link.length > LIMITS.buttonUrl) return undefined;
  try {
    const url = new URL(link);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The case card in Block Kit. Every text from the case is plain_text, escaped and fitted. */
export function caseCardBlocks(card: CaseCard): (KnownBlock | Block)[] {
  const caseId = card.caseId;
  const open = card.stage !== 'closed';
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      block_id: 'warden.header',
      text: { type: 'plain_text', text: fitLine(`${card.severity ?? 'unscored'} · ${caseId}${card.escalated ? ' · escalated' : ''}`, LIMITS.headerText), emoji: false },
    },
    { type: 'section', block_id: 'warden.title', text: plain(card.title, LIMITS.sectionText) },
    {
      type: 'section',
      block_id: 'warden.fields',
      fields: [
        `Stage: ${card.stage}${card.escalated ? ' (escalated)' : ''}`,
        `Category: ${card.category ?? '-'}`,
        `Queue: ${card.queue ?? '-'}`,
        `Evidence: ${card.evidenceCount} report${card.evidenceCount === 1 ? '' : 's'}`,
        `Acknowledged by: ${card.acknowledgedBy ?? '-'}`,
        `Assignees: ${card.assignees.join(', ') || '-'}`,
      ].map((f) => plain(f, LIMITS.fieldText)),
    },
  ];
  // Regulatory deadlines and open determinations: what the law is counting, on the card itself.
  if (card.regulatory?.length)
    blocks.push({ type: 'section', block_id: 'warden.regulatory', text: plain(`Regulatory:\n${card.regulatory.join('\n')}`, LIMITS.sectionText) });

  const actions: Record<string, unknown>[] = [];
  if (open && !card.acknowledgedBy) actions.push(button('Acknowledge', ACTION_ACKNOWLEDGE, { caseId }, { style: 'primary' }));
  if (open && !card.escalated)
    actions.push(
      button('Escalate', ACTION_ESCALATE, { caseId }, {
        style: 'danger',
        confirm: confirm('Escalate this case?', `Escalating ${caseId} declares an incident and pages the incident commander.`, 'Escalate'),
      }),
    );
  const url = linkUrl(card.link);
  if (url) actions.push({ type: 'button', action_id: ACTION_OPEN, text: { type: 'plain_text', text: 'Open in Temporal', emoji: false }, url });
  if (actions.length > 0) blocks.push({ type: 'actions', block_id: 'warden.actions', elements: actions });

  // One section per open sign-off (a button's action_id must be unique within its block).
  if (open) {
    const room = LIMITS.blocks - blocks.length - 1; // keep one block for "and N more"
    const shown = card.signOff.length <= room + 1 ? card.signOff : card.signOff.slice(0, room);
    shown.forEach((c, i) =>
      blocks.push({
        type: 'section',
        block_id: `warden.signoff.${i}`,
        text: plain(`${c.id}: ${c.description}`, LIMITS.sectionText),
        accessory: button(`Sign off: ${c.id}`, ACTION_SIGNOFF, { caseId, criterion: c.id }, {
          confirm: confirm(`Sign off ${c.id}?`, `${caseId}: ${c.description}`, 'Sign off'),
        }),
      }),
    );
    if (shown.length < card.signOff.length)
      blocks.push({
        type: 'context',
        block_id: 'warden.signoff.more',
        elements: [plain(`${card.signOff.length - shown.length} more sign-offs open: use the CLI (warden signoff ${caseId} <criterion>)`, LIMITS.sectionText)],
      });
  }
  return blocks as unknown as (KnownBlock | Block)[];
}

// ── The Web API connector ────────────────────────────────────────────────────────────────────

export interface SlackPortOptions {
  /** A bot token (xoxb-…). Never logged, never in an error message. */
  token: string;
  /** Web API base URL, e.g. http://127.0.0.1:PORT/api/ for a simulator. Default Slack's. */
  apiUrl?: string;
  /** Per-request timeout; a request that takes longer fails as unavailable (retryable). */
  timeoutMs?: number;
}

/** How many recent messages the idempotency check reads. A retry follows its lost post by seconds. */
export const HISTORY_LIMIT = 200;
/** How many pages a card's check reads back to its case's opening (at most 10,000 messages). */
export const HISTORY_PAGES = 50;

const CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;
/** A posted message, as the live port refers to it: "<channel id>/<ts>". */
const SLACK_MESSAGE_REF = /^[CGD][A-Z0-9]{8,}\/\d+\.\d+$/;

/** The mode a card ref was made in: a live Slack message ("C…/ts"), or a dry-run outbox entry. */
export function cardRefMode(ref: string): 'live' | 'dry-run' {
  return SLACK_MESSAGE_REF.test(ref) ? 'live' : 'dry-run';
}
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
/** `ok:false` codes that mean Slack itself is in trouble, not that the request was wrong. */
const TRANSIENT_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
const RATE_LIMIT_ERRORS = new Set(['ratelimited', 'rate_limited']);

interface SlackErrorShape {
  code?: string;
  message?: string;
  retryAfter?: number;
  statusCode?: number;
  statusMessage?: string;
  headers?: Record<string, string>;
  original?: Error;
  data?: { error?: string; response_metadata?: { messages?: string[] } };
}

/** Turn what @slack/web-api threw into a Temporal failure of the right kind. Exported for tests. */
export function classifySlackError(call: string, err: unknown, timeoutMs?: number): ApplicationFailure {
  const e = (err ?? {}) as SlackErrorShape;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return rateLimited('Slack', call, typeof e.retryAfter === 'number' ? e.retryAfter * 1000 : undefined);
    case ErrorCode.PlatformError: {
      const code = String(e.data?.error ?? 'unknown_error');
      if (RATE_LIMIT_ERRORS.has(code)) return rateLimited('Slack', call);
      if (TRANSIENT_ERRORS.has(code)) return unavailable('Slack', call, code);
      const details = (e.data?.response_metadata?.messages ?? []).join('; ').slice(0, 300);
      return rejected('Slack', call, details ? `${code} (${details})` : code);
    }
    case ErrorCode.HTTPError:
      return httpFailure('Slack', call, e.statusCode ?? 0, e.statusMessage ?? '', e.headers?.['retry-after']);
    case ErrorCode.RequestError: {
      // The client wraps what fetch threw; from another realm (a test VM) only its text survives.
      const original = e.original;
      if (/^(TimeoutError|AbortError)$/.test(original?.name ?? '') || /^(TimeoutError|AbortError)\b/.test(original?.message ?? ''))
        return unavailable('Slack', call, `no answer within ${timeoutMs ?? '?'}ms`);
      const code = (original as { cause?: { code?: unknown } } | undefined)?.cause?.code;
      return unavailable('Slack', call, `network error${typeof code === 'string' ? ` (${code})` : ''}`);
    }
    default:
      // @slack/web-api answers a 429 without a usable Retry-After with a plain Error.
      if (/Retry header did not contain a valid timeout/.test(e.message ?? '')) return rateLimited('Slack', call);
      return unavailable('Slack', call, `unexpected error: ${(e.message ?? String(err)).slice(0, 200)}`);
  }
}

interface HistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** The Web API connector. */
export function createSlackPort(options: SlackPortOptions): SlackPort {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
    timeout: timeoutMs,
    // Temporal's activity retry policy retries; a retry inside the client would hide the failure.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // Every failure is classified and lands on the case's timeline; the client's own log would repeat it.
    logLevel: LogLevel.ERROR,
  });
  /** Channel names → ids, learned from Slack's answers (conversations.history needs the id). */
  const channelIds = new Map<string, string>();
  const nameOf = (channel: string) => channel.replace(/^#/, '').toLowerCase();

  async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw classifySlackError(method, err, timeoutMs);
    }
  }

  /**
   * The ref of a message already posted with this key in the channel, if any: in its recent
   * history, or, given `since` (when the thing posted about began, e.g. the case was opened), in
   * everything posted since then, page by page (a case run again after a repair looks for the card
   * it posted long before, under many newer messages).
   */
  async function findPosted(channel: string, key: string, since?: string): Promise<string | undefined> {
    const id = CHANNEL_ID.test(channel) ? channel : channelIds.get(nameOf(channel));
    if (!id) return undefined; // a name never posted to from this process: nothing to look up by
    const oldest = since && !Number.isNaN(Date.parse(since)) ? (Date.parse(since) / 1000 - 60).toFixed(6) : undefined;
    let latest: string | undefined;
    for (let page = 0; page < (oldest ? HISTORY_PAGES : 1); page++) {
      const history = await call('conversations.history', () =>
        client.conversations.history({ channel: id, limit: HISTORY_LIMIT, include_all_metadata: true, ...(oldest ? { oldest } : {}), ...(latest ? { latest } : {}) }),
      );
      const messages = (history.messages ?? []) as HistoryMessage[];
      const found = messages.find((m) => m.metadata?.event_type === METADATA_EVENT_TYPE && m.metadata.event_payload?.key === key);
      if (found?.ts) return `${id}/${found.ts}`;
      latest = messages[messages.length - 1]?.ts;
      if (!history.has_more || !latest) return undefined;
    }
    return undefined;
  }

  async function post(channel: string, key: string, content: { text: string; blocks?: (KnownBlock | Block)[] }, since?: string): Promise<{ ref: string }> {
    const existing = await findPosted(channel, key, since);
    if (existing) return { ref: existing };
    const res = await call('chat.postMessage', () =>
      client.chat.postMessage({
        channel,
        ...content,
        mrkdwn: false,
        parse: 'none',
        link_names: false,
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: METADATA_EVENT_TYPE, event_payload: { key } },
      }),
    );
    if (!res.channel || !res.ts) throw unavailable('Slack', 'chat.postMessage', 'answer without channel or ts');
    if (!CHANNEL_ID.test(channel)) channelIds.set(nameOf(channel), res.channel);
    return { ref: `${res.channel}/${res.ts}` };
  }

  const cardContent = (card: CaseCard) => ({ text: fitText(cardText(card), LIMITS.fallbackText), blocks: caseCardBlocks(card) });

  return {
    postCard: (channel, card, key) => post(channel, key, cardContent(card), card.openedAt),

    async updateCard(ref, card) {
      const slash = ref.indexOf('/');
      const channel = ref.slice(0, slash);
      const ts = ref.slice(slash + 1);
      if (slash < 0 || !CHANNEL_ID.test(channel) || !/^\d+\.\d+$/.test(ts))
        throw rejected('Slack', 'chat.update', `"${ref.slice(0, 80)}" is not a Slack message ref (channel id/ts); was the card posted in dry-run mode?`);
      // chat.update sets the whole message, so a retry is harmless; metadata not sent is kept.
      await call('chat.update', () => client.chat.update({ channel, ts, ...cardContent(card), parse: 'none', link_names: false }));
    },

    mode: 'live',

    postMessage: (channel, text, key) => post(channel, key, { text: fitText(text, LIMITS.messageText) }),

    async directMessage(user, text, key) {
      if (!USER_ID.test(user)) throw rejected('Slack', 'conversations.open', `"${user.slice(0, 80)}" is not a Slack user id`);
      const opened = await call('conversations.open', () => client.conversations.open({ users: user }));
      const dm = opened.channel?.id;
      if (!dm) throw unavailable('Slack', 'conversations.open', 'answer without a channel id');
      await post(dm, key, { text: fitText(text, LIMITS.messageText) });
    },
  };
}
