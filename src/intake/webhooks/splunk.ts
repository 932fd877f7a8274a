/**
 * Splunk's built-in webhook alert action, `POST /webhooks/splunk`: a fixed JSON body with the
 * search's first result row (`result`, all values strings), `sid`, `results_link`,
 * `search_name` (null for an unsaved search), `owner` and `app`.
 *
 * Splunk sends no custom headers and no signature, so the secret travels in the URL:
 * `https://<intake>/webhooks/splunk?token=<token>`, required whenever a token is configured and
 * compared in constant time. (A URL is logged in more places than a header: keep the intake
 * behind TLS and rotate the token by configuring the new one next to the old.)
 *
 * The token is read from the request URL, the optional third argument of `parse`; an intake
 * server that does not pass it makes a configured token unpresentable, and every request is
 * refused (401), never accepted.
 *
 * One alert, one report:
 *   title        search_name, or "Splunk alert" for an unsaved search
 *   description  result._raw (else the result's fields), then the link to the results
 *   assets       result.host
 *   users        result.user
 *   indicators   result.src_ip, dest_ip, src, dest (when IPs), domain, url, file_hash
 *   sourceType   search_name (the saved search is the alert's type; an unsaved one has none), for
 *                the policy's sourceTypes.splunk
 *   externalId   sid
 *   fingerprint  "splunk:" + search_name | host; an unsaved search has no stable name, so its
 *                sid is the key (each run its own case, rather than every unsaved search in one)
 *   observedAt   result._time (epoch seconds, or RFC 3339) when parseable, else now
 *   reporter     "splunk:<app>/<owner>", source "splunk"
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { normalizedReport, type WebhookSource } from '../sources';
import {
  assetNames,
  clip,
  dedupeKey,
  IndicatorSet,
  isoFromMs,
  isoFromText,
  LIMITS,
  oneLine,
  optionalText,
  paragraphs,
  parseBody,
  sourceTypeFields,
  textValues,
  tokenCheck,
  type TokenOptions,
  userNames,
} from './shared';

export const SPLUNK_PATH = '/webhooks/splunk';
export const SPLUNK_SOURCE = 'splunk';
export const SPLUNK_TOKEN_PARAM = 'token';

const Payload = z
  .object({
    // Values are strings in Splunk's payload; multivalue fields may arrive as lists. Read loosely.
    result: z.record(z.unknown()).nullish(),
    sid: z.string().trim().min(1),
    results_link: optionalText,
    search_name: optionalText,
    owner: optionalText,
    app: optionalText,
  })
  .passthrough();
type Payload = z.infer<typeof Payload>;

/** Splunk's _time: epoch seconds (possibly with a fraction), or an RFC 3339 string. */
export function splunkTime(value: unknown): string | undefined {
  const [text] = textValues(value);
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return isoFromMs(Math.round(Number(text) * 1000));
  return isoFromText(text.trim());
}

export interface SplunkOptions extends TokenOptions {
  /** The clock for observedAt when _time is missing or unparseable (tests). */
  now?: () => number;
}

export interface SplunkSource extends WebhookSource {
  parse(raw: Buffer, headers: IncomingHttpHeaders, url?: URL): ReturnType<WebhookSource['parse']>;
}

export function splunkSource(options: SplunkOptions = {}): SplunkSource {
  const authenticate = tokenCheck(options, `the ?${SPLUNK_TOKEN_PARAM}= query parameter`);
  const now = options.now ?? Date.now;
  return {
    path: SPLUNK_PATH,
    parse(raw, _headers, url) {
      authenticate(url?.searchParams.get(SPLUNK_TOKEN_PARAM) ?? undefined);
      const payload = parseBody(raw, Payload, 'Splunk webhook');
      return [normalizedReport(toReport(payload, now()), raw)];
    },
  };
}

function toReport(payload: Payload, now: number) {
  const result = payload.result ?? {};
  const field = (name: string) => textValues(result[name]);
  const hosts = field('host');
  const fields = Object.entries(result)
    .filter(([key]) => key !== '_raw')
    .map(([key, value]) => `${key}=${textValues(value).join(',')}`)
    .join(' ');
  const indicators = new IndicatorSet();
  for (const name of ['src_ip', 'dest_ip', 'src', 'dest']) for (const v of field(name)) indicators.ip(v);
  for (const v of field('domain')) indicators.domain(v);
  for (const v of field('url')) indicators.url(v);
  for (const v of field('file_hash')) indicators.hash(v);
  const searchName = payload.search_name?.trim();
  return {
    title: oneLine(searchName || 'Splunk alert', LIMITS.title),
    description: paragraphs(
      field('_raw').join('\n') || (fields && `Result: ${fields}`),
      `Splunk search ${searchName ? `"${searchName}"` : '(unsaved)'}, sid ${payload.sid}.`,
      payload.results_link && `Results: ${payload.results_link}`,
    ),
    source: SPLUNK_SOURCE,
    reporter: clip(`splunk:${[payload.app, payload.owner].filter(Boolean).join('/') || 'unknown'}`, LIMITS.reporter),
    assets: assetNames(hosts),
    users: userNames(field('user')),
    indicators: indicators.toJSON(),
    observedAt: splunkTime(result._time) ?? new Date(now).toISOString(),
    ...sourceTypeFields([searchName]),
    externalId: clip(payload.sid, LIMITS.externalId),
    fingerprint: searchName ? dedupeKey(SPLUNK_SOURCE, searchName, hosts.join(',')) : dedupeKey(SPLUNK_SOURCE, 'sid', payload.sid),
  };
}
