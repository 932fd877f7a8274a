/**
 * A loopback Slack for tests: the Web API subset Warden uses (chat.postMessage, chat.update,
 * chat.postEphemeral, conversations.open, conversations.history, auth.test for the connector;
 * views.open, views.update, chat.getPermalink for the intake's report form) on 127.0.0.1 and a
 * free port, and a receiver for interactivity response_url posts.
 *
 * Like the real API it takes form-encoded and JSON bodies, wants a bearer token (a wrong one gets
 * HTTP 200 `{ok:false, error:"invalid_auth"}`), answers errors as HTTP 200 `ok:false`, and keeps
 * messages per channel with their ts and metadata (conversations.history returns the metadata
 * with include_all_metadata). People's messages can be added (`postAsUser`), for message
 * shortcuts and permalinks. Views are kept by id with a hash that changes on every update.
 *
 * Trigger ids work as in Slack: `trigger()` issues one (what Slack puts in a shortcut payload);
 * views.open exchanges it once, within 3 seconds of issue (`expired_trigger_id` after,
 * `exchanged_trigger_id` the second time, `invalid_arguments` "invalid `trigger_id`" for one never
 * issued).
 *
 * Contract checks, recorded in `violations` (tests assert there are none):
 *   - request parameters against the method's parameters in the Web API spec
 *     (reference/slack/web-api-subset.swagger2.json): required ones present, types (form strings
 *     coerced), no parameter the method does not have; channel, user and ts formats checked
 *     loosely (ids as the spec's defs_* patterns, channel names allowed where Slack takes them).
 *     A violation is answered `{ok:false, error:"invalid_arguments"}`.
 *   - what the 2021 spec does not have, from Slack's current docs: `metadata` on chat.postMessage
 *     and chat.update ({event_type, event_payload}), and conversations.history as a whole.
 *   - Block Kit limits from Slack's reference (the spec's `blocks` is "a very loose definition"):
 *     blocks per message, header/section/field/button text lengths, elements per block, unique
 *     block ids, unique action ids within a block, button values and urls, confirm dialogs.
 *     Answered `{ok:false, error:"invalid_blocks"}` like Slack.
 *   - views (the spec's `view` is "a JSON-encoded string"), from Slack's view and Block Kit
 *     references: a modal's fields (no unknown ones), title/submit/close plain_text of at most 24,
 *     submit required with input blocks, private_metadata at most 3000, callback_id and
 *     external_id at most 255, at most 100 blocks; input blocks (modals only: label and hint
 *     plain_text of at most 2000) and their elements (plain_text_input, static and multi static
 *     selects with their options, date, time and datetime pickers: known fields only, lengths
 *     and formats), one focus_on_load per view. Answered `{ok:false, error:"invalid_arguments"}`.
 *     views.update also needs `view` and one of view_id / external_id, as the docs say.
 *   - the simulator's own successful answers against the spec's success schemas, so it cannot
 *     drift from what Slack returns (message metadata, absent from the spec, is left out there).
 *
 * Faults for the next N calls (optionally of one method): 429 with Retry-After, an HTTP status,
 * a hang past the client's timeout, an `ok:false` error, or a "lost response" (the call is done,
 * then the connection is dropped before the answer).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export const SLACK_REFERENCE_DIR = process.env.WARDEN_SLACK_REFERENCE ?? resolve(__dirname, '../../../shared/reference/slack');
export const SLACK_WEB_API_SPEC = resolve(SLACK_REFERENCE_DIR, 'web-api-subset.swagger2.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface RecordedCall {
  method: string;
  /** The parameters as sent, JSON-valued ones (blocks, metadata) parsed; the token is never recorded. */
  body: Record<string, unknown>;
  contentType: string;
  /** How the token came: Authorization header, body, or not at all. */
  auth: 'bearer' | 'body' | 'none';
  /** The fault injected into this call, if any. */
  fault?: Fault['kind'];
  /** What the simulator answered: `ok`, an error code, or an HTTP status. */
  outcome?: string;
}

export interface Violation {
  method: string;
  kind: 'parameters' | 'blocks' | 'metadata' | 'view' | 'response' | 'protocol';
  detail: string;
}

export interface StoredMessage {
  ts: string;
  channel: string;
  text?: string;
  blocks?: JsonObject[];
  metadata?: { event_type: string; event_payload: JsonObject };
  user: string;
  /** Absent on a person's message (postAsUser). */
  bot_id?: string;
  edited?: { user: string; ts: string };
  /** Every version, oldest first (updates included). */
  versions: { text?: string; blocks?: JsonObject[] }[];
}

/** A view opened with views.open, as Slack keeps it. */
export interface StoredView {
  id: string;
  /** The view as last sent (views.open, then each views.update). */
  view: Record<string, unknown>;
  hash: string;
  /** Every version sent, oldest first. */
  versions: Record<string, unknown>[];
  trigger_id: string;
}

export type Fault =
  | { kind: 'rate-limited'; retryAfterSeconds?: number }
  | { kind: 'http-error'; status: number }
  | { kind: 'hang' }
  | { kind: 'error'; error: string }
  | { kind: 'lost-response' };

export interface SlackSimulator {
  /** Web API base, for createSlackPort({apiUrl}) (ends with /api/). */
  apiUrl: string;
  token: string;
  calls: RecordedCall[];
  violations: Violation[];
  /** Channel ids by name (without #). */
  channels: Map<string, string>;
  /** Add a channel the bot is in; returns its id. */
  addChannel(name: string): string;
  /** Messages of a channel (id or name), oldest first. */
  messages(channel: string): StoredMessage[];
  ephemerals: { channel: string; user: string; text?: string }[];
  /** A person's message in a channel (id or name), as a message shortcut would point at. */
  postAsUser(channel: string, user: string, text: string): StoredMessage;
  /** A trigger_id as Slack issues it with a shortcut; views.open takes it within 3 seconds. `ageMs` backdates it. */
  trigger(opts?: { ageMs?: number }): string;
  /** Views opened, by view id. */
  views: Map<string, StoredView>;
  /** The next `times` calls (of `method`, when given) meet this fault. */
  inject(fault: Fault, opts?: { times?: number; method?: string }): void;
  callsTo(method: string): RecordedCall[];
  close(): Promise<void>;
}

// ── The spec: parameters and success schemas per method ──────────────────────────────────────

interface SwaggerParameter {
  name: string;
  in: 'header' | 'formData' | 'query' | 'path' | 'body';
  required?: boolean;
  type?: string;
}

const ID = {
  channel: '^[CGD][A-Z0-9]{8,}$', // defs_channel
  user: '^[UW][A-Z0-9]{2,}$', // defs_user_id
  ts: '^\\d{10}\\.\\d{6}$', // defs_ts
};
/** Where Slack takes a channel name as well as an id (chat.postMessage: "an encoded ID, or a name"). */
const CHANNEL_OR_NAME = `${ID.channel}|^#?[a-z0-9][a-z0-9._-]{0,79}$`;

/** Loose format checks the spec leaves as plain strings. */
const FORMATS: Record<string, Record<string, string>> = {
  'chat.postMessage': { channel: CHANNEL_OR_NAME, thread_ts: ID.ts },
  'chat.postEphemeral': { channel: CHANNEL_OR_NAME, user: ID.user, thread_ts: ID.ts },
  'chat.update': { channel: ID.channel, ts: ID.ts },
  'conversations.open': { channel: ID.channel, users: `^(${ID.user.slice(1, -1)})(,(${ID.user.slice(1, -1)}))*$` },
  'conversations.history': { channel: ID.channel, latest: ID.ts, oldest: ID.ts },
  'views.open': { trigger_id: '^\\d+\\.\\d+\\.[0-9A-Za-z]+$' },
  'views.update': { view_id: '^V[A-Z0-9]{2,}$' },
  'chat.getPermalink': { channel: ID.channel, message_ts: ID.ts },
};

/** Parameters Slack documents today that the 2021 spec does not have. */
const NEWER_PARAMETERS: Record<string, SwaggerParameter[]> = {
  'chat.postMessage': [{ name: 'metadata', in: 'formData', type: 'string' }],
  'chat.update': [{ name: 'metadata', in: 'formData', type: 'string' }],
  // conversations.history is not in the subset at all; these are its documented parameters.
  'conversations.history': [
    { name: 'token', in: 'header', required: true, type: 'string' },
    { name: 'channel', in: 'formData', required: true, type: 'string' },
    { name: 'cursor', in: 'formData', type: 'string' },
    { name: 'inclusive', in: 'formData', type: 'boolean' },
    { name: 'include_all_metadata', in: 'formData', type: 'boolean' },
    { name: 'latest', in: 'formData', type: 'string' },
    { name: 'limit', in: 'formData', type: 'integer' },
    { name: 'oldest', in: 'formData', type: 'string' },
  ],
};

/** What the worker's connector calls. */
const CONNECTOR_METHODS = ['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'conversations.open', 'conversations.history', 'auth.test'] as const;
/** What the intake calls for the report form (shortcuts). */
const REPORT_FORM_METHODS = ['views.open', 'views.update', 'chat.getPermalink'] as const;
const SUPPORTED = [...CONNECTOR_METHODS, ...REPORT_FORM_METHODS] as const;
type Method = (typeof SUPPORTED)[number];

/** Which parameters hold JSON in a string (form) or a value (JSON body). */
const JSON_PARAMETERS = new Set(['blocks', 'attachments', 'metadata', 'view']);

/** How long a trigger_id can be exchanged (Slack: 3 seconds). */
export const TRIGGER_LIFETIME_MS = 3_000;

const METADATA_SCHEMA = {
  type: 'object',
  required: ['event_type', 'event_payload'],
  properties: { event_type: { type: 'string', pattern: '^[A-Za-z0-9_]{1,255}$' }, event_payload: { type: 'object' } },
  additionalProperties: false,
};

export interface SlackContract {
  /** Parameter problems for a call, the values as the form-encoded request would carry them. */
  checkParameters(method: string, params: Record<string, string>): string[];
  /** Problems with a successful answer, against the spec's success schema (methods in the spec). */
  checkResponse(method: string, body: unknown): string[];
  /** The connector's methods that the spec has. */
  specMethods: string[];
  /** The report form's methods that the spec has. */
  reportFormSpecMethods: string[];
}

let contract: SlackContract | undefined;

export function slackContract(): SlackContract {
  if (contract) return contract;
  const spec = JSON.parse(readFileSync(SLACK_WEB_API_SPEC, 'utf8')) as { paths: Record<string, Record<string, { parameters?: SwaggerParameter[]; responses?: Record<string, { schema?: JsonObject }> }>> };
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: true });
  addFormats(ajv);
  ajv.addSchema(spec as unknown as JsonObject, 'slack-web-api');
  const validateMetadata = ajv.compile(METADATA_SCHEMA);
  const paramValidators = new Map<string, ValidateFunction>();
  const responseValidators = new Map<string, ValidateFunction>();
  for (const method of SUPPORTED) {
    const path = spec.paths[`/${method}`];
    const verb = path ? (Object.keys(path).find((k) => k === 'post') ?? Object.keys(path)[0]) : undefined;
    const operation = path && verb ? path[verb] : undefined;
    const parameters = [...(operation?.parameters ?? []), ...(NEWER_PARAMETERS[method] ?? [])];
    const properties: Record<string, JsonObject> = {};
    const required: string[] = [];
    for (const p of parameters) {
      if (p.name === 'token') continue; // checked as the bearer token
      const type = p.type === 'integer' || p.type === 'boolean' || p.type === 'number' ? p.type : 'string';
      properties[p.name] = { type, ...(FORMATS[method]?.[p.name] ? { pattern: FORMATS[method][p.name] } : {}) };
      if (p.required) required.push(p.name);
    }
    properties.token = { type: 'string' }; // Slack also takes the token as a form field
    paramValidators.set(method, ajv.compile({ type: 'object', properties, required, additionalProperties: false }));
    if (operation?.responses?.['200']?.schema && verb)
      responseValidators.set(
        method,
        ajv.getSchema(`slack-web-api#/paths/~1${method}/${verb}/responses/200/schema`) ??
          (() => {
            throw new Error(`no success schema for ${method}`);
          })(),
      );
  }
  const explain = (errors: ErrorObject[] | null | undefined) =>
    (errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.keyword === 'additionalProperties' ? `: ${(e.params as { additionalProperty: string }).additionalProperty}` : ''}`);
  contract = {
    specMethods: CONNECTOR_METHODS.filter((m) => spec.paths[`/${m}`]),
    reportFormSpecMethods: REPORT_FORM_METHODS.filter((m) => spec.paths[`/${m}`]),
    checkParameters(method, params) {
      const validate = paramValidators.get(method);
      if (!validate) return [`${method} is not a method the simulator knows`];
      const copy = { ...params }; // coercion changes the object it checks
      const problems = validate(copy) ? [] : explain(validate.errors);
      for (const name of JSON_PARAMETERS)
        if (params[name] !== undefined)
          try {
            JSON.parse(params[name]);
          } catch {
            problems.push(`${name} is not JSON`);
          }
      // What the docs require and the spec leaves optional.
      if (method === 'views.update') {
        if (params.view === undefined) problems.push("(body) must have required property 'view'");
        if (params.view_id === undefined && params.external_id === undefined) problems.push('(body) must have view_id or external_id');
      }
      if (params.metadata !== undefined) {
        try {
          if (!validateMetadata(JSON.parse(params.metadata))) problems.push(...explain(validateMetadata.errors).map((p) => `metadata ${p.replace(/^\(body\) /, '')}`));
        } catch {
          // reported above
        }
      }
      return problems;
    },
    checkResponse(method, body) {
      const validate = responseValidators.get(method);
      if (!validate) return [];
      return validate(structuredClone(body)) ? [] : explain(validate.errors);
    },
  };
  return contract;
}

// ── Block Kit limits (Slack's Block Kit reference; the 2021 spec says nothing about them) ─────

/** Blocks of a message (at most 50) or of a modal (at most 100, input blocks allowed); `at` prefixes each problem. */
function checkBlocks(blocks: unknown, surface: 'message' | 'modal' = 'message', at = 'blocks'): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return [`${at} is not an array`];
  const maxBlocks = surface === 'modal' ? 100 : 50;
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} blocks (at most ${maxBlocks})`);
  const blockIds = new Set<string>();
  let focused = 0;
  const text = (t: unknown, where: string, max: number, plainOnly = false) => {
    const o = t as { type?: string; text?: unknown; emoji?: unknown; verbatim?: unknown };
    if (!o || typeof o !== 'object') return problems.push(`${where}: a text object is required`);
    if (o.type !== 'plain_text' && o.type !== 'mrkdwn') return problems.push(`${where}: text type ${String(o.type)}`);
    if (plainOnly && o.type !== 'plain_text') problems.push(`${where}: must be plain_text`);
    if (typeof o.text !== 'string' || o.text.length < 1) problems.push(`${where}: text must be 1+ characters`);
    else if (o.text.length > max) problems.push(`${where}: ${o.text.length} characters (at most ${max})`);
    if (o.emoji !== undefined && o.type !== 'plain_text') problems.push(`${where}: emoji is for plain_text only`);
    if (o.verbatim !== undefined && o.type !== 'mrkdwn') problems.push(`${where}: verbatim is for mrkdwn only`);
    return undefined;
  };
  const confirm = (c: unknown, where: string) => {
    if (c === undefined) return;
    const o = c as Record<string, unknown>;
    text(o.title, `${where}.title`, 100, true);
    text(o.text, `${where}.text`, 300);
    text(o.confirm, `${where}.confirm`, 30, true);
    text(o.deny, `${where}.deny`, 30, true);
  };
  const element = (e: unknown, where: string, actionIds: Set<string>) => {
    const o = e as Record<string, unknown>;
    if (o?.type !== 'button') return problems.push(`${where}: element type ${String(o?.type)} is not checked by the simulator`);
    text(o.text, `${where}.text`, 75, true);
    if (o.action_id !== undefined) {
      if (typeof o.action_id !== 'string' || o.action_id.length > 255) problems.push(`${where}: action_id must be a string of at most 255`);
      else if (actionIds.has(o.action_id)) problems.push(`${where}: action_id ${o.action_id} repeats within the block`);
      else actionIds.add(o.action_id);
    }
    if (o.value !== undefined && (typeof o.value !== 'string' || o.value.length > 2000)) problems.push(`${where}: value must be a string of at most 2000`);
    if (o.url !== undefined && (typeof o.url !== 'string' || o.url.length > 3000 || !/^https?:\/\//.test(o.url))) problems.push(`${where}: url must be http(s), at most 3000`);
    if (o.style !== undefined && o.style !== 'primary' && o.style !== 'danger') problems.push(`${where}: style ${String(o.style)}`);
    confirm(o.confirm, `${where}.confirm`);
    return undefined;
  };
  /** Fields a thing may have: a misspelled optional field is a problem, not silently ignored. */
  const only = (o: Record<string, unknown>, where: string, allowed: string[]) => {
    for (const key of Object.keys(o)) if (!allowed.includes(key)) problems.push(`${where}: ${key} is not a field of ${String(o.type)}`);
  };
  const actionId = (o: Record<string, unknown>, where: string, actionIds: Set<string>) => {
    if (o.action_id === undefined) return;
    if (typeof o.action_id !== 'string' || o.action_id.length < 1 || o.action_id.length > 255) problems.push(`${where}: action_id must be a string of 1 to 255`);
    else if (actionIds.has(o.action_id)) problems.push(`${where}: action_id ${o.action_id} repeats within the block`);
    else actionIds.add(o.action_id);
  };
  const bool = (o: Record<string, unknown>, key: string, where: string) => {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') problems.push(`${where}: ${key} must be a boolean`);
  };
  const option = (opt: unknown, where: string) => {
    const o = (opt ?? {}) as Record<string, unknown>;
    only(o, where, ['text', 'value', 'description']);
    text(o.text, `${where}.text`, 75, true);
    if (typeof o.value !== 'string' || o.value.length < 1 || o.value.length > 150) problems.push(`${where}: value must be a string of 1 to 150`);
    if (o.description !== undefined) text(o.description, `${where}.description`, 75, true);
  };
  /** The element of an input block (Block Kit's block elements reference). */
  const inputElement = (e: unknown, where: string, actionIds: Set<string>) => {
    const o = (e ?? {}) as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) return problems.push(`${where}: an element is required`);
    actionId(o, where, actionIds);
    bool(o, 'focus_on_load', where);
    if (o.focus_on_load === true) focused += 1;
    if (o.placeholder !== undefined) text(o.placeholder, `${where}.placeholder`, 150, true);
    const length = (key: string, min: number) => {
      const v = o[key];
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > 3000)) problems.push(`${where}: ${key} must be an integer from ${min} to 3000`);
    };
    switch (o.type) {
      case 'plain_text_input':
        only(o, where, ['type', 'action_id', 'initial_value', 'multiline', 'min_length', 'max_length', 'placeholder', 'dispatch_action_config', 'focus_on_load']);
        bool(o, 'multiline', where);
        length('min_length', 0);
        length('max_length', 1);
        if (typeof o.min_length === 'number' && typeof o.max_length === 'number' && o.min_length > o.max_length) problems.push(`${where}: min_length is over max_length`);
        if (o.initial_value !== undefined && typeof o.initial_value !== 'string') problems.push(`${where}: initial_value must be a string`);
        break;
      case 'static_select':
      case 'multi_static_select': {
        const multi = o.type === 'multi_static_select';
        only(o, where, ['type', 'action_id', 'options', 'option_groups', multi ? 'initial_options' : 'initial_option', 'placeholder', 'confirm', 'focus_on_load', ...(multi ? ['max_selected_items'] : [])]);
        if ((o.options === undefined) === (o.option_groups === undefined)) problems.push(`${where}: exactly one of options and option_groups`);
        const options = Array.isArray(o.options) ? o.options : [];
        if (o.options !== undefined && (!Array.isArray(o.options) || o.options.length < 1 || o.options.length > 100)) problems.push(`${where}: 1 to 100 options`);
        options.forEach((opt, j) => option(opt, `${where}.options[${j}]`));
        if (o.option_groups !== undefined) {
          if (!Array.isArray(o.option_groups) || o.option_groups.length < 1 || o.option_groups.length > 100) problems.push(`${where}: 1 to 100 option groups`);
          else
            o.option_groups.forEach((g: Record<string, unknown>, j) => {
              text(g?.label, `${where}.option_groups[${j}].label`, 75, true);
              if (!Array.isArray(g?.options) || g.options.length < 1 || g.options.length > 100) problems.push(`${where}.option_groups[${j}]: 1 to 100 options`);
              else g.options.forEach((opt, k) => option(opt, `${where}.option_groups[${j}].options[${k}]`));
            });
        }
        if (multi && o.max_selected_items !== undefined && (!Number.isInteger(o.max_selected_items) || (o.max_selected_items as number) < 1))
          problems.push(`${where}: max_selected_items must be a positive integer`);
        confirm(o.confirm, `${where}.confirm`);
        break;
      }
      case 'datepicker':
        only(o, where, ['type', 'action_id', 'initial_date', 'confirm', 'focus_on_load', 'placeholder']);
        if (o.initial_date !== undefined && (typeof o.initial_date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(o.initial_date))) problems.push(`${where}: initial_date must be YYYY-MM-DD`);
        confirm(o.confirm, `${where}.confirm`);
        break;
      case 'timepicker':
        only(o, where, ['type', 'action_id', 'initial_time', 'confirm', 'focus_on_load', 'placeholder', 'timezone']);
        if (o.initial_time !== undefined && (typeof o.initial_time !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(o.initial_time))) problems.push(`${where}: initial_time must be HH:mm`);
        confirm(o.confirm, `${where}.confirm`);
        break;
      case 'datetimepicker':
        only(o, where, ['type', 'action_id', 'initial_date_time', 'confirm', 'focus_on_load']);
        if (o.initial_date_time !== undefined && (!Number.isInteger(o.initial_date_time) || !/^\d{10}$/.test(String(o.initial_date_time))))
          problems.push(`${where}: initial_date_time must be a Unix time in seconds (10 digits)`);
        confirm(o.confirm, `${where}.confirm`);
        break;
      default:
        problems.push(`${where}: element type ${String(o.type)} is not checked by the simulator`);
    }
    return undefined;
  };
  blocks.forEach((b: Record<string, unknown>, i) => {
    const where = `${at}[${i}]`;
    if (!b || typeof b.type !== 'string') return problems.push(`${where}: type is required`);
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > 255) problems.push(`${where}: block_id must be a string of at most 255`);
      else if (blockIds.has(b.block_id)) problems.push(`${where}: block_id ${b.block_id} repeats`);
      else blockIds.add(b.block_id);
    }
    const actionIds = new Set<string>();
    switch (b.type) {
      case 'header':
        text(b.text, `${where}.text`, 150, true);
        break;
      case 'section':
        if (b.text === undefined && b.fields === undefined) problems.push(`${where}: text or fields is required`);
        if (b.text !== undefined) text(b.text, `${where}.text`, 3000);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) problems.push(`${where}: at most 10 fields`);
          else b.fields.forEach((f, j) => text(f, `${where}.fields[${j}]`, 2000));
        }
        if (b.accessory !== undefined) element(b.accessory, `${where}.accessory`, actionIds);
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 25) problems.push(`${where}: 1 to 25 elements`);
        else b.elements.forEach((e, j) => element(e, `${where}.elements[${j}]`, actionIds));
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 10) problems.push(`${where}: 1 to 10 elements`);
        else b.elements.forEach((e, j) => text(e, `${where}.elements[${j}]`, 3000));
        break;
      case 'divider':
        break;
      case 'input':
        if (surface !== 'modal') problems.push(`${where}: input blocks are for modals, not messages`);
        only(b, where, ['type', 'block_id', 'label', 'element', 'hint', 'optional', 'dispatch_action']);
        text(b.label, `${where}.label`, 2000, true);
        if (b.hint !== undefined) text(b.hint, `${where}.hint`, 2000, true);
        bool(b, 'optional', where);
        bool(b, 'dispatch_action', where);
        inputElement(b.element, `${where}.element`, actionIds);
        break;
      default:
        problems.push(`${where}: block type ${b.type} is not checked by the simulator`);
    }
    return undefined;
  });
  if (focused > 1) problems.push(`${at}: ${focused} elements have focus_on_load (at most one)`);
  return problems;
}

/** A modal view as views.open and views.update take it (Slack's view reference). */
export function checkView(view: unknown): string[] {
  if (!view || typeof view !== 'object' || Array.isArray(view)) return ['view is not an object'];
  const v = view as Record<string, unknown>;
  const problems: string[] = [];
  const allowed = ['type', 'title', 'blocks', 'close', 'submit', 'private_metadata', 'callback_id', 'clear_on_close', 'notify_on_close', 'external_id', 'submit_disabled'];
  for (const key of Object.keys(v)) if (!allowed.includes(key)) problems.push(`view.${key} is not a field of a view`);
  if (v.type !== 'modal') problems.push(`view.type ${String(v.type)}: only modals are checked by the simulator`);
  const button = (t: unknown, where: string, required: boolean) => {
    if (t === undefined) {
      if (required) problems.push(`${where} is required`);
      return;
    }
    const o = t as { type?: unknown; text?: unknown };
    if (!o || typeof o !== 'object' || o.type !== 'plain_text') problems.push(`${where}: must be a plain_text object`);
    else if (typeof o.text !== 'string' || o.text.length < 1 || o.text.length > 24) problems.push(`${where}: text must be 1 to 24 characters`);
  };
  const hasInput = Array.isArray(v.blocks) && v.blocks.some((b) => (b as { type?: unknown })?.type === 'input');
  button(v.title, 'view.title', true);
  button(v.close, 'view.close', false);
  button(v.submit, 'view.submit', hasInput);
  const string = (key: string, max: number) => {
    if (v[key] !== undefined && (typeof v[key] !== 'string' || (v[key] as string).length > max)) problems.push(`view.${key} must be a string of at most ${max}`);
  };
  string('private_metadata', 3000);
  string('callback_id', 255);
  string('external_id', 255);
  for (const key of ['clear_on_close', 'notify_on_close', 'submit_disabled'])
    if (v[key] !== undefined && typeof v[key] !== 'boolean') problems.push(`view.${key} must be a boolean`);
  if (v.blocks === undefined) problems.push('view.blocks is required');
  else problems.push(...checkBlocks(v.blocks, 'modal', 'view.blocks'));
  return problems;
}

// ── The server ───────────────────────────────────────────────────────────────────────────────

const TEAM_ID = 'T0SIMTEAM1';
const BOT_USER = 'U0SIMBOT01';
const BOT_ID = 'B0SIMBOT01';

function newId(prefix: string): string {
  return prefix + randomBytes(6).toString('hex').toUpperCase().slice(0, 10);
}

export async function startSlackSimulator(opts: { token?: string } = {}): Promise<SlackSimulator> {
  const check = slackContract();
  const token = opts.token ?? `xoxb-sim-${randomBytes(8).toString('hex')}`;
  const channels = new Map<string, string>();
  const store = new Map<string, StoredMessage[]>();
  const dms = new Map<string, string>(); // user → D…
  const faults: { fault: Fault; method?: string; remaining: number }[] = [];
  const triggers = new Map<string, { issuedAt: number; exchanged: boolean }>();
  const views = new Map<string, StoredView>();
  let lastTs = 0;
  let triggerSeq = 0;

  const nextTs = () => {
    // Slack's ts: seconds and a six-digit sequence, unique and increasing.
    const micro = Math.max(Date.now() * 1000, lastTs + 1);
    lastTs = micro;
    return `${Math.floor(micro / 1e6)}.${String(micro % 1e6).padStart(6, '0')}`;
  };

  const sim: SlackSimulator = {
    apiUrl: '',
    token,
    calls: [],
    violations: [],
    channels,
    ephemerals: [],
    views,
    postAsUser(channel, user, text) {
      const id = resolveChannel(channel);
      if (!id) throw new Error(`no channel ${channel}`);
      const ts = nextTs();
      const message: StoredMessage = { ts, channel: id, text, user, versions: [{ text }] };
      store.get(id)!.push(message);
      return message;
    },
    trigger({ ageMs = 0 } = {}) {
      const id = `${Math.floor(Date.now() / 1000)}${String(++triggerSeq).padStart(4, '0')}.${Date.now() % 1e9}.${randomBytes(16).toString('hex')}`;
      triggers.set(id, { issuedAt: Date.now() - ageMs, exchanged: false });
      return id;
    },
    addChannel(name) {
      const key = name.replace(/^#/, '');
      const existing = channels.get(key);
      if (existing) return existing;
      const id = newId('C');
      channels.set(key, id);
      store.set(id, []);
      return id;
    },
    messages(channel) {
      return store.get(resolveChannel(channel) ?? '') ?? [];
    },
    inject(fault, { times = 1, method } = {}) {
      faults.push({ fault, method, remaining: times });
    },
    callsTo(method) {
      return sim.calls.filter((c) => c.method === method);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };

  function resolveChannel(channel: string): string | undefined {
    if (store.has(channel)) return channel;
    return channels.get(channel.replace(/^#/, ''));
  }

  function takeFault(method: string): Fault | undefined {
    const i = faults.findIndex((f) => f.remaining > 0 && (!f.method || f.method === method));
    if (i < 0) return undefined;
    faults[i].remaining -= 1;
    const { fault } = faults[i];
    if (faults[i].remaining === 0) faults.splice(i, 1);
    return fault;
  }

  const violation = (method: string, kind: Violation['kind'], detail: string) => sim.violations.push({ method, kind, detail });

  type Answer = { ok: true; [k: string]: unknown } | { ok: false; error: string; [k: string]: unknown };

  /** A view as Slack answers it: what was sent, plus Slack's own fields. */
  function viewAnswer(stored: StoredView): Record<string, unknown> {
    const v = stored.view;
    return {
      id: stored.id,
      team_id: TEAM_ID,
      type: v.type,
      title: v.title,
      ...(v.submit !== undefined ? { submit: v.submit } : {}),
      ...(v.close !== undefined ? { close: v.close } : {}),
      blocks: v.blocks,
      private_metadata: v.private_metadata ?? '',
      callback_id: v.callback_id ?? '',
      external_id: v.external_id ?? '',
      state: { values: {} },
      hash: stored.hash,
      clear_on_close: v.clear_on_close ?? false,
      notify_on_close: v.notify_on_close ?? false,
      root_view_id: stored.id,
      previous_view_id: null,
      app_id: 'A0SIMAPP01',
      bot_id: BOT_ID,
    };
  }
  const newHash = () => `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;

  /** Run one call against the store. `params` are form-style strings; `parsed` has JSON values parsed. */
  function run(method: Method, params: Record<string, string>, parsed: Record<string, unknown>): Answer {
    const bool = (v: string | undefined) => v === 'true' || v === '1';
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://warden-sim.slack.com/', team: 'Warden Simulator', user: 'warden', team_id: TEAM_ID, user_id: BOT_USER, bot_id: BOT_ID, is_enterprise_install: false };
      case 'chat.postMessage': {
        const channel = resolveChannel(params.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (!params.text && !parsed.blocks && !parsed.attachments) return { ok: false, error: 'no_text' };
        const blockProblems = parsed.blocks !== undefined ? checkBlocks(parsed.blocks) : [];
        if (blockProblems.length) {
          blockProblems.forEach((p) => violation(method, 'blocks', p));
          return { ok: false, error: 'invalid_blocks', response_metadata: { messages: blockProblems.map((p) => `[ERROR] ${p}`) } };
        }
        const ts = nextTs();
        const message: StoredMessage = {
          ts,
          channel,
          text: params.text,
          blocks: parsed.blocks as JsonObject[] | undefined,
          metadata: parsed.metadata as StoredMessage['metadata'],
          user: BOT_USER,
          bot_id: BOT_ID,
          versions: [{ text: params.text, blocks: parsed.blocks as JsonObject[] | undefined }],
        };
        store.get(channel)!.push(message);
        // The echo as the spec has it (its message object knows no metadata).
        const echo = { type: 'message', subtype: 'bot_message', text: params.text ?? '', ts, user: BOT_USER, bot_id: BOT_ID, ...(message.blocks ? { blocks: message.blocks } : {}) };
        return { ok: true, channel, ts, message: echo };
      }
      case 'chat.update': {
        const channel = resolveChannel(params.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const message = store.get(channel)!.find((m) => m.ts === params.ts);
        if (!message) return { ok: false, error: 'message_not_found' };
        if (!params.text && parsed.blocks === undefined) return { ok: false, error: 'no_text' };
        const blockProblems = parsed.blocks !== undefined ? checkBlocks(parsed.blocks) : [];
        if (blockProblems.length) {
          blockProblems.forEach((p) => violation(method, 'blocks', p));
          return { ok: false, error: 'invalid_blocks', response_metadata: { messages: blockProblems.map((p) => `[ERROR] ${p}`) } };
        }
        // What is not sent is kept (blocks, metadata), as Slack documents for chat.update.
        if (params.text !== undefined) message.text = params.text;
        if (parsed.blocks !== undefined) message.blocks = parsed.blocks as JsonObject[];
        if (parsed.metadata !== undefined) message.metadata = parsed.metadata as StoredMessage['metadata'];
        message.edited = { user: BOT_USER, ts: nextTs() };
        message.versions.push({ text: message.text, blocks: message.blocks });
        // The spec's chat.update message.blocks is typed "object" (not array): the echo leaves blocks out.
        return { ok: true, channel, ts: message.ts, text: message.text ?? '', message: { text: message.text ?? '' } };
      }
      case 'chat.postEphemeral': {
        const channel = resolveChannel(params.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        sim.ephemerals.push({ channel, user: params.user, text: params.text });
        return { ok: true, message_ts: nextTs() };
      }
      case 'conversations.open': {
        const users = (params.users ?? '').split(',').filter(Boolean);
        if (params.channel) {
          if (!store.has(params.channel)) return { ok: false, error: 'channel_not_found' };
          return { ok: true, channel: { id: params.channel }, no_op: true, already_open: true };
        }
        if (users.length !== 1) return { ok: false, error: users.length === 0 ? 'users_list_not_supplied' : 'method_not_supported_for_channel_type' };
        const existing = dms.get(users[0]);
        if (existing) return { ok: true, channel: { id: existing }, no_op: true, already_open: true };
        const id = newId('D');
        dms.set(users[0], id);
        store.set(id, []);
        return { ok: true, channel: { id } };
      }
      case 'views.open': {
        const trigger = triggers.get(params.trigger_id);
        if (!trigger) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: ['invalid `trigger_id`'] } };
        if (trigger.exchanged) return { ok: false, error: 'exchanged_trigger_id' };
        if (Date.now() - trigger.issuedAt > TRIGGER_LIFETIME_MS) return { ok: false, error: 'expired_trigger_id' };
        const viewProblems = checkView(parsed.view);
        if (viewProblems.length) {
          viewProblems.forEach((p) => violation(method, 'view', p));
          return { ok: false, error: 'invalid_arguments', response_metadata: { messages: viewProblems.map((p) => `[ERROR] ${p}`) } };
        }
        const view = parsed.view as Record<string, unknown>;
        if (typeof view.external_id === 'string' && view.external_id && [...views.values()].some((s) => s.view.external_id === view.external_id))
          return { ok: false, error: 'duplicate_external_id' };
        trigger.exchanged = true;
        const stored: StoredView = { id: newId('V'), view, hash: newHash(), versions: [view], trigger_id: params.trigger_id };
        views.set(stored.id, stored);
        return { ok: true, view: viewAnswer(stored) };
      }
      case 'views.update': {
        const stored = params.view_id ? views.get(params.view_id) : [...views.values()].find((s) => s.view.external_id === params.external_id);
        if (!stored) return { ok: false, error: 'not_found' };
        if (params.hash !== undefined && params.hash !== stored.hash) return { ok: false, error: 'hash_conflict' };
        const viewProblems = checkView(parsed.view);
        if (viewProblems.length) {
          viewProblems.forEach((p) => violation(method, 'view', p));
          return { ok: false, error: 'invalid_arguments', response_metadata: { messages: viewProblems.map((p) => `[ERROR] ${p}`) } };
        }
        stored.view = parsed.view as Record<string, unknown>;
        stored.versions.push(stored.view);
        stored.hash = newHash();
        return { ok: true, view: viewAnswer(stored) };
      }
      case 'chat.getPermalink': {
        const messages = store.get(params.channel);
        if (!messages) return { ok: false, error: 'channel_not_found' };
        if (!messages.some((m) => m.ts === params.message_ts)) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: params.channel, permalink: `https://warden-sim.slack.com/archives/${params.channel}/p${params.message_ts.replace('.', '')}` };
      }
      case 'conversations.history': {
        // Needs the id: a name is not found (as in Slack).
        const messages = store.get(params.channel);
        if (!messages) return { ok: false, error: 'channel_not_found' };
        const limit = Math.min(Math.max(Number(params.limit ?? 100) || 100, 1), 999);
        const withMetadata = bool(params.include_all_metadata);
        const newestFirst = [...messages].reverse().filter((m) => (!params.latest || m.ts < params.latest) && (!params.oldest || m.ts > params.oldest));
        const page = newestFirst.slice(0, limit).map((m) => ({
          type: 'message',
          ...(m.bot_id ? { subtype: 'bot_message', bot_id: m.bot_id } : {}),
          ts: m.ts,
          text: m.text ?? '',
          user: m.user,
          ...(m.blocks ? { blocks: m.blocks } : {}),
          ...(m.edited ? { edited: m.edited } : {}),
          ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
        }));
        return { ok: true, messages: page, has_more: newestFirst.length > limit, pin_count: 0, response_metadata: { next_cursor: '' } };
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://slack');
    const match = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (!match) return answer(404, { ok: false, error: 'unknown_method' });
    const method = match[1];
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

    // The parameters as a form-encoded request would carry them (strings), from query, form or JSON.
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    let jsonBody = false;
    if (raw.length > 0) {
      if (contentType === 'application/x-www-form-urlencoded') Object.assign(params, Object.fromEntries(new URLSearchParams(raw)));
      else if (contentType === 'application/json') {
        jsonBody = true;
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          violation(method, 'protocol', 'body is not JSON');
          return answer(200, { ok: false, error: 'invalid_json' });
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) return answer(200, { ok: false, error: 'json_not_object' });
        for (const [k, v] of Object.entries(body)) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
      } else {
        violation(method, 'protocol', `content-type ${contentType || '(none)'}`);
        return answer(200, { ok: false, error: 'invalid_post_type' });
      }
    }

    const authorization = String(req.headers.authorization ?? '');
    const bearer = /^Bearer (.+)$/.exec(authorization)?.[1];
    // With a JSON body Slack takes the token from the Authorization header only.
    const bodyToken = jsonBody ? undefined : params.token;
    delete params.token;
    const parsed: Record<string, unknown> = { ...params };
    for (const name of JSON_PARAMETERS)
      if (params[name] !== undefined)
        try {
          parsed[name] = JSON.parse(params[name]);
        } catch {
          // reported by the parameter check
        }
    const call: RecordedCall = { method, body: parsed, contentType, auth: bearer ? 'bearer' : bodyToken ? 'body' : 'none' };
    sim.calls.push(call);

    const fault = takeFault(method);
    if (fault) call.fault = fault.kind;
    if (fault?.kind === 'hang') return; // never answers; closeAllConnections ends it
    if (fault?.kind === 'rate-limited') {
      call.outcome = 'HTTP 429';
      return answer(429, { ok: false, error: 'ratelimited' }, fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) });
    }
    if (fault?.kind === 'http-error') {
      call.outcome = `HTTP ${fault.status}`;
      res.writeHead(fault.status, { 'content-type': 'text/html' }).end(`<html><body>${fault.status}</body></html>`);
      return;
    }
    if (fault?.kind === 'error') {
      call.outcome = fault.error;
      return answer(200, { ok: false, error: fault.error });
    }

    const given = bearer ?? bodyToken;
    if (!given) {
      call.outcome = 'not_authed';
      return answer(200, { ok: false, error: 'not_authed' });
    }
    if (given !== token) {
      call.outcome = 'invalid_auth';
      return answer(200, { ok: false, error: 'invalid_auth' });
    }
    if (!(SUPPORTED as readonly string[]).includes(method)) {
      violation(method, 'protocol', `${method} is not in the subset Warden uses`);
      call.outcome = 'unknown_method';
      return answer(200, { ok: false, error: 'unknown_method' });
    }
    const problems = check.checkParameters(method, params);
    if (problems.length) {
      problems.forEach((p) => violation(method, p.startsWith('metadata') ? 'metadata' : 'parameters', p));
      call.outcome = 'invalid_arguments';
      return answer(200, { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } });
    }

    const result = run(method as Method, params, parsed);
    call.outcome = result.ok ? 'ok' : String(result.error);
    if (result.ok) for (const p of check.checkResponse(method, result)) violation(method, 'response', p);
    if (fault?.kind === 'lost-response') {
      res.destroy(); // done, but the client never hears it
      return;
    }
    return answer(200, result);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      violation('(server)', 'protocol', (err as Error).message);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  sim.apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  return sim;
}

// ── response_url receiver ────────────────────────────────────────────────────────────────────

export interface ResponseUrlPost {
  path: string;
  contentType: string;
  body: { response_type?: string; replace_original?: boolean; text?: string; [k: string]: unknown };
}

export interface ResponseUrlReceiver {
  /** A response_url on this receiver (each call gives a fresh path, like Slack's). */
  url(): string;
  posts: ResponseUrlPost[];
  /** Resolves when at least `count` posts arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ResponseUrlPost[]>;
  close(): Promise<void>;
}

export async function startResponseUrlReceiver(): Promise<ResponseUrlReceiver> {
  const posts: ResponseUrlPost[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: ResponseUrlPost['body'] = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = { invalid: Buffer.concat(chunks).toString('utf8') };
    }
    posts.push({ path: req.url ?? '/', contentType: String(req.headers['content-type'] ?? ''), body });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let n = 0;
  return {
    url: () => `${base}/actions/${TEAM_ID}/${++n}/${randomBytes(8).toString('hex')}`,
    posts,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (posts.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} response_url posts, got ${posts.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return posts;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
