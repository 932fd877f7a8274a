/**
 * "Report a security concern" from Slack: the modal the two shortcuts open, and the pure mapping
 * from its view_submission to a Report input. No I/O here; slack-interactivity.ts does the calls.
 *
 * The modal (callback_id `warden_report_submit`) asks for what happened (required), a short title
 * (optional: the first line of what happened otherwise), the affected systems (comma-separated,
 * they become the report's assets), when it was seen (a datetime picker, which Slack answers as a
 * Unix time, so the reporter's time zone is already applied; empty means now) and the data
 * involved (the report's dataClasses).
 *
 * From a message shortcut, the message (channel id, ts, author, text, and its permalink once
 * known) travels in the view's `private_metadata` as JSON of at most 3000 characters, Slack's
 * limit: the text is cut to fit. It is added to the report's description with the channel id and
 * ts as a reference.
 *
 * Everything typed or quoted is untrusted. In the modal it is only ever shown in plain_text,
 * escaped and fitted (fitText); in the report it stays data.
 *
 * The report's indicators are what the reporter typed and the quoted message contain (URLs,
 * domains, IPs, hashes: src/domain/indicators.ts, Slack's `<url|label>` links and escapes read
 * first), so a Slack report quoting a phishing link files to the same case as the mails that
 * carried it (src/intake/filing.ts). Their counts go on the Report beside it (`indicatorCounts`),
 * with a quoted message cut to fit counted as not read.
 */
import { createHash } from 'node:crypto';
import type { KnownBlock, ModalView, PlainTextElement, PlainTextOption } from '@slack/web-api';
import type { ReportInput } from '../domain';
import { type IndicatorCounts, indicatorsInText } from '../domain/indicators';
import { fitText } from '../activities/slack';

/** Shortcut callback ids, as configured on the Slack app. */
export const SHORTCUT_REPORT = 'warden_report';
export const SHORTCUT_REPORT_MESSAGE = 'warden_report_message';
/** The report form, and the confirmation that replaces it. */
export const REPORT_VIEW = 'warden_report_submit';
export const REPORT_DONE_VIEW = 'warden_report_done';
/** The link button to the reported message (Slack reports its clicks as block_actions; they are ignored). */
export const ACTION_OPEN_MESSAGE = 'warden.report.open_message';
export const REPORT_SOURCE = 'slack';

/** Input block ids; each input's action_id is the same string. Errors are keyed by these. */
export const FIELD = {
  whatHappened: 'what_happened',
  title: 'title',
  systems: 'affected_systems',
  seenAt: 'seen_at',
  dataInvolved: 'data_involved',
} as const;

/** The "data involved" choices: their values are the report's dataClasses. */
export const DATA_CLASS_CHOICES = [
  { value: 'personal', label: 'Personal data (names, addresses, ID numbers)' },
  { value: 'health', label: 'Health information' },
  { value: 'payment', label: 'Payment or card data' },
  { value: 'credentials', label: 'Passwords, keys or access tokens' },
  { value: 'confidential', label: 'Confidential business information' },
] as const;

/** Slack's limits for modals and their inputs, and Warden's for what is typed. */
export const REPORT_LIMITS = {
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  whatHappened: 3000,
  title: 150,
  /** A derived title is cut at a word boundary near this length. */
  derivedTitle: 120,
  systems: 2000,
  asset: 200,
  assets: 100,
  sectionText: 3000,
  /** How far ahead of the intake's clock "when it was seen" may be (clock skew). */
  futureSkewMs: 5 * 60_000,
} as const;

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const MESSAGE_TS = /^\d{1,12}\.\d{1,8}$/;
/** A message author: a person (U/W) or a bot (B). */
const AUTHOR_ID = /^[UWB][A-Z0-9]{2,}$/;
const MAX_PERMALINK = 500;

// ── The reported message and private_metadata ───────────────────────────────────────────────

export interface ReportedMessage {
  channel: string;
  ts: string;
  author?: string;
  text: string;
  /** True when the text was cut to fit private_metadata. */
  truncated?: boolean;
  permalink?: string;
}

/** What a message shortcut says about its message; undefined when channel or ts are unusable. */
export function reportedMessageOf(payload: {
  channel?: { id?: unknown };
  message_ts?: unknown;
  message?: { ts?: unknown; text?: unknown; user?: unknown };
}): ReportedMessage | undefined {
  const channel = payload.channel?.id;
  const ts = payload.message?.ts ?? payload.message_ts;
  if (typeof channel !== 'string' || !CHANNEL_ID.test(channel) || typeof ts !== 'string' || !MESSAGE_TS.test(ts)) return undefined;
  const author = payload.message?.user;
  return {
    channel,
    ts,
    ...(typeof author === 'string' && AUTHOR_ID.test(author) ? { author } : {}),
    text: typeof payload.message?.text === 'string' ? payload.message.text : '',
  };
}

/** A permalink worth keeping: https, and not absurdly long. */
export function usablePermalink(link: unknown): string | undefined {
  if (typeof link !== 'string' || link.length > MAX_PERMALINK) return undefined;
  try {
    return new URL(link).protocol === 'https:' ? link : undefined;
  } catch {
    return undefined;
  }
}

interface MetadataV1 {
  v: 1;
  channel: string;
  ts: string;
  author?: string;
  permalink?: string;
  text: string;
  truncated?: true;
}

/** The message as private_metadata: JSON of at most 3000 characters, the text cut to fit. */
export function encodeMetadata(message: ReportedMessage): string {
  const permalink = usablePermalink(message.permalink);
  const base: MetadataV1 = {
    v: 1,
    channel: message.channel,
    ts: message.ts,
    ...(message.author ? { author: message.author } : {}),
    ...(permalink ? { permalink } : {}),
    text: message.text,
    ...(message.truncated ? { truncated: true as const } : {}),
  };
  const whole = JSON.stringify(base);
  if (whole.length <= REPORT_LIMITS.privateMetadata) return whole;
  // Cut on code points (never inside a surrogate pair); JSON escaping makes the size non-linear, so search.
  const chars = Array.from(message.text);
  const encode = (n: number) => JSON.stringify({ ...base, text: chars.slice(0, n).join(''), truncated: true });
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encode(mid).length <= REPORT_LIMITS.privateMetadata) lo = mid;
    else hi = mid - 1;
  }
  return encode(lo);
}

/** The message back from private_metadata: undefined when there is none, `false` when it is unreadable. */
export function decodeMetadata(raw: unknown): ReportedMessage | undefined | false {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > REPORT_LIMITS.privateMetadata) return false;
  let data: Partial<MetadataV1>;
  try {
    data = JSON.parse(raw) as Partial<MetadataV1>;
  } catch {
    return false;
  }
  if (!data || typeof data !== 'object' || data.v !== 1) return false;
  if (typeof data.channel !== 'string' || !CHANNEL_ID.test(data.channel)) return false;
  if (typeof data.ts !== 'string' || !MESSAGE_TS.test(data.ts)) return false;
  if (typeof data.text !== 'string') return false;
  if (data.author !== undefined && (typeof data.author !== 'string' || !AUTHOR_ID.test(data.author))) return false;
  const permalink = usablePermalink(data.permalink);
  return {
    channel: data.channel,
    ts: data.ts,
    ...(data.author ? { author: data.author } : {}),
    text: data.text,
    ...(data.truncated === true ? { truncated: true } : {}),
    ...(permalink ? { permalink } : {}),
  };
}

// ── The views ───────────────────────────────────────────────────────────────────────────────

const plain = (raw: string, max: number): PlainTextElement => ({ type: 'plain_text', text: fitText(raw || '-', max), emoji: false });

function messageBlocks(message: ReportedMessage): KnownBlock[] {
  const where = `Reporting a message in channel ${message.channel}${message.author ? `, posted by ${message.author}` : ''} (ts ${message.ts}):`;
  const blocks: KnownBlock[] = [
    { type: 'context', block_id: 'warden.report.message.where', elements: [plain(where, REPORT_LIMITS.sectionText)] },
    {
      type: 'section',
      block_id: 'warden.report.message.text',
      text: plain(message.text.trim() ? `${message.text}${message.truncated ? ' […]' : ''}` : '(the message has no text)', REPORT_LIMITS.sectionText),
    },
  ];
  const url = usablePermalink(message.permalink);
  if (url)
    blocks.push({
      type: 'actions',
      block_id: 'warden.report.message.link',
      elements: [{ type: 'button', action_id: ACTION_OPEN_MESSAGE, text: { type: 'plain_text', text: 'Open the message', emoji: false }, url }],
    });
  return blocks;
}

/** The report form; with a message when opened from a message shortcut. */
export function reportModal(message?: ReportedMessage): ModalView {
  const options: PlainTextOption[] = DATA_CLASS_CHOICES.map((c) => ({ text: { type: 'plain_text', text: c.label, emoji: false }, value: c.value }));
  const postedAt = message ? Math.floor(Number(message.ts)) : undefined;
  return {
    type: 'modal',
    callback_id: REPORT_VIEW,
    title: plain('Report a concern', REPORT_LIMITS.viewTitle),
    submit: plain('Report', REPORT_LIMITS.viewButton),
    close: plain('Cancel', REPORT_LIMITS.viewButton),
    private_metadata: message ? encodeMetadata(message) : '',
    blocks: [
      ...(message
        ? messageBlocks(message)
        : [
            {
              type: 'context',
              block_id: 'warden.report.intro',
              elements: [plain('Tell the security team what you noticed. Please do not paste passwords or other secrets.', REPORT_LIMITS.sectionText)],
            } satisfies KnownBlock,
          ]),
      {
        type: 'input',
        block_id: FIELD.whatHappened,
        label: plain('What happened?', 2000),
        hint: plain('What you noticed, where, and anything you have already done about it.', 2000),
        element: {
          type: 'plain_text_input',
          action_id: FIELD.whatHappened,
          multiline: true,
          max_length: REPORT_LIMITS.whatHappened,
          focus_on_load: true,
        },
      },
      {
        type: 'input',
        block_id: FIELD.title,
        optional: true,
        label: plain('Short title', 2000),
        hint: plain('Leave empty to use the first line of what happened.', 2000),
        element: { type: 'plain_text_input', action_id: FIELD.title, max_length: REPORT_LIMITS.title },
      },
      {
        type: 'input',
        block_id: FIELD.systems,
        optional: true,
        label: plain('Affected systems', 2000),
        hint: plain('Computers, services or accounts, separated by commas.', 2000),
        element: { type: 'plain_text_input', action_id: FIELD.systems, max_length: REPORT_LIMITS.systems, placeholder: plain('laptop-1234, payroll-db', 150) },
      },
      {
        type: 'input',
        block_id: FIELD.seenAt,
        optional: true,
        label: plain('When was it seen?', 2000),
        hint: plain(message ? 'Set to when the message was posted; change it if you noticed something earlier.' : 'Leave empty for now.', 2000),
        element: { type: 'datetimepicker', action_id: FIELD.seenAt, ...(postedAt && postedAt > 0 ? { initial_date_time: postedAt } : {}) },
      },
      {
        type: 'input',
        block_id: FIELD.dataInvolved,
        optional: true,
        label: plain('Data involved', 2000),
        hint: plain('Pick any kinds of data that may be affected.', 2000),
        element: { type: 'multi_static_select', action_id: FIELD.dataInvolved, placeholder: plain('None that I know of', 150), options },
      },
    ],
  };
}

/** What replaces the form once the report is filed (the `update` response to view_submission). */
export function confirmationView(filed: { caseId: string; deduplicated: boolean }): ModalView {
  return {
    type: 'modal',
    callback_id: REPORT_DONE_VIEW,
    title: plain('Report received', REPORT_LIMITS.viewTitle),
    close: plain('Close', REPORT_LIMITS.viewButton),
    clear_on_close: true,
    blocks: [
      {
        type: 'section',
        block_id: 'warden.report.case',
        text: plain(
          filed.deduplicated ? `Added to case ${filed.caseId}, which is already open for the same concern.` : `Reported as case ${filed.caseId}.`,
          REPORT_LIMITS.sectionText,
        ),
      },
      {
        type: 'context',
        block_id: 'warden.report.thanks',
        elements: [plain('Thank you. The security team has your report; please quote the case id if you follow up.', REPORT_LIMITS.sectionText)],
      },
    ],
  };
}

// ── The submission ──────────────────────────────────────────────────────────────────────────

/** view.state.values as Slack sends them: block id → action id → value. */
export type ViewStateValues = Record<string, Record<string, { type?: string; value?: unknown; selected_date_time?: unknown; selected_options?: unknown }>>;

export interface ReportSubmission {
  /** payload.user.id */
  user: unknown;
  /** payload.team.id (or user.team_id) */
  team?: unknown;
  /** payload.view.id: with the answers, it makes the report id, so a resubmitted form is not filed twice. */
  viewId?: unknown;
  values: unknown;
  privateMetadata?: unknown;
  /** The intake's clock. */
  now: Date;
}

export type SubmissionResult =
  | {
      ok: true;
      input: ReportInput;
      /** Stable for the same form and answers (UUID-shaped); absent without a view id. */
      reportId?: string;
      message?: ReportedMessage;
      /** private_metadata was there but unreadable: filed without the message reference. */
      metadataUnreadable?: boolean;
      /** The indicators' counts, for the Report (not part of ReportInput). */
      indicatorCounts: IndicatorCounts;
    }
  | { ok: false; errors: Record<string, string> };

function field(values: unknown, id: string): Record<string, unknown> | undefined {
  const block = (values as ViewStateValues | undefined)?.[id];
  const value = block && typeof block === 'object' ? block[id] : undefined;
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

function text(values: unknown, id: string): string {
  const value = field(values, id)?.value;
  return typeof value === 'string' ? value.replace(/\r\n?/g, '\n').trim() : '';
}

/** The first line of what happened, on one line, cut at a word boundary. */
export function deriveTitle(whatHappened: string): string {
  const line = (whatHappened.split('\n').find((l) => l.trim()) ?? '').replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  if (chars.length <= REPORT_LIMITS.derivedTitle) return line;
  const cut = chars.slice(0, REPORT_LIMITS.derivedTitle - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > REPORT_LIMITS.derivedTitle / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Comma- (or newline-) separated names, trimmed, empties dropped, repeats (ignoring case) dropped. */
export function parseSystems(raw: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of raw.split(/[,\n]/)) {
    const name = part.replace(/\s+/g, ' ').trim();
    if (!name || seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    out.push(name);
  }
  return out;
}

/** The report's description: what happened, then the reported message as a reference. */
export function describeReport(whatHappened: string, message?: ReportedMessage): string {
  if (!message) return whatHappened;
  return [
    whatHappened,
    '',
    '--- Reported Slack message ---',
    `Channel: ${message.channel}`,
    `Message ts: ${message.ts}`,
    ...(message.author ? [`Posted by: ${message.author}`] : []),
    ...(message.permalink ? [`Link: ${message.permalink}`] : []),
    `Text${message.truncated ? ' (cut to fit)' : ''}:`,
    message.text.trim() ? message.text : '(no text)',
  ].join('\n');
}

/**
 * Slack's message markup as plain text: a link `<https://x|label>` becomes its URL and label, a
 * `<mailto:a@b|a@b>` its address, a mention or channel its label; `&lt; &gt; &amp;` decoded.
 */
export function slackPlainText(text: string): string {
  return text
    .replace(/<([^<>|]*)(?:\|([^<>]*))?>/g, (_all, target: string, label: string | undefined) => {
      if (/^(https?:|mailto:)/i.test(target)) {
        const link = target.replace(/^mailto:/i, '');
        return label && label !== link ? `${link} ${label}` : link;
      }
      return label ?? target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The indicators in what the reporter typed and in the quoted message, with their counts. */
export function reportIndicators(whatHappened: string, message?: ReportedMessage): ReturnType<typeof indicatorsInText> {
  const found = indicatorsInText(whatHappened, message ? slackPlainText(message.text) : '');
  if (message?.truncated) (found.counts.unread ??= []).push("the quoted message was cut to fit Slack's private_metadata: its end was not read");
  return found;
}

/** A UUID-shaped id (RFC 9562 version 8) from a SHA-256: the same answers give the same id. */
function uuidFrom(parts: unknown[]): string {
  const h = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Validate a submitted form and map it to a Report input. Problems come back keyed by the
 * input's block id, as Slack's `response_action: "errors"` wants them.
 */
export function parseReportSubmission(submission: ReportSubmission): SubmissionResult {
  const { values, now } = submission;
  const errors: Record<string, string> = {};

  const user = submission.user;
  const what = text(values, FIELD.whatHappened);
  if (typeof user !== 'string' || !USER_ID.test(user)) errors[FIELD.whatHappened] = 'Warden could not tell who is reporting; please try again from Slack.';
  else if (!what) errors[FIELD.whatHappened] = 'Please describe what happened: a sentence or two is enough.';
  else if (what.length > REPORT_LIMITS.whatHappened) errors[FIELD.whatHappened] = `Please keep this under ${REPORT_LIMITS.whatHappened} characters.`;

  const typedTitle = text(values, FIELD.title).replace(/\s+/g, ' ');
  if (typedTitle.length > REPORT_LIMITS.title) errors[FIELD.title] = `Please keep the title under ${REPORT_LIMITS.title} characters.`;

  const systems = parseSystems(text(values, FIELD.systems));
  if (systems.length > REPORT_LIMITS.assets) errors[FIELD.systems] = `Please name at most ${REPORT_LIMITS.assets} systems.`;
  else if (systems.some((s) => s.length > REPORT_LIMITS.asset)) errors[FIELD.systems] = `Each system name can be at most ${REPORT_LIMITS.asset} characters; separate names with commas.`;

  const picked = field(values, FIELD.seenAt)?.selected_date_time;
  let observedAt: string | undefined;
  if (picked !== undefined && picked !== null) {
    const ms = typeof picked === 'number' ? picked * 1000 : NaN;
    if (!Number.isFinite(ms) || ms <= 0) errors[FIELD.seenAt] = 'Please pick a date and time, or leave it empty for now.';
    else if (ms > now.getTime() + REPORT_LIMITS.futureSkewMs) errors[FIELD.seenAt] = 'That is in the future: pick when it was seen, or leave it empty for now.';
    else observedAt = new Date(ms).toISOString();
  }

  const selected = field(values, FIELD.dataInvolved)?.selected_options;
  const known = new Set<string>(DATA_CLASS_CHOICES.map((c) => c.value));
  const dataClasses: string[] = [];
  if (selected !== undefined && selected !== null) {
    const chosen = Array.isArray(selected) ? selected.map((o) => (o as { value?: unknown })?.value) : [undefined];
    if (chosen.some((v) => typeof v !== 'string' || !known.has(v))) errors[FIELD.dataInvolved] = 'Please pick from the list.';
    else for (const v of chosen as string[]) if (!dataClasses.includes(v)) dataClasses.push(v);
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const decoded = decodeMetadata(submission.privateMetadata);
  const message = decoded || undefined;
  const title = typedTitle || deriveTitle(what);
  const { indicators, counts } = reportIndicators(what, message);
  const input = {
    title,
    description: describeReport(what, message),
    source: REPORT_SOURCE,
    reporter: user as string,
    replyTo: user as string,
    assets: systems,
    observedAt: observedAt ?? now.toISOString(),
    indicators,
    dataClasses,
  } satisfies ReportInput;
  const viewId = submission.viewId;
  return {
    ok: true,
    input,
    // "Now" is left out: the same form sent again is the same report, whenever it arrives.
    ...(typeof viewId === 'string' && viewId
      ? { reportId: uuidFrom(['slack-report', submission.team ?? '', viewId, user, title, input.description, systems, dataClasses, observedAt ?? 'now']) }
      : {}),
    ...(message ? { message } : {}),
    ...(decoded === false ? { metadataUnreadable: true } : {}),
    indicatorCounts: counts,
  };
}
