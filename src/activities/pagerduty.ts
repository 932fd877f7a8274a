/**
 * PagerDuty Events API v2: trigger, acknowledge and resolve, always with a dedup key derived
 * from the case so a retried or replayed call never pages twice.
 */
import { Agent } from 'node:https';
import { event as sendEvent } from '@pagerduty/pdjs';
import { httpFailure, unavailable } from './failures';
import type { components, paths } from './generated/pagerduty-events';
import type { Outbox } from './outbox';

export type PagerAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerEvent {
  event_action: PagerAction;
  dedup_key: string;
  payload?: { summary: string; source: string; severity: PagerSeverity; custom_details?: Record<string, unknown> };
  links?: { href: string; text: string }[];
}

export interface PagerPort {
  /** Send one Events API v2 event, routed to the queue's integration (routing key from the environment). */
  enqueue(event: PagerEvent, queue?: string): Promise<void>;
}

export function dryRunPager(outbox: Outbox): PagerPort {
  return {
    async enqueue(event) {
      await outbox.deliver({
        system: 'pagerduty',
        kind: event.event_action,
        key: `${event.dedup_key}:${event.event_action}`,
        body: event as unknown as Record<string, unknown>,
      });
    },
  };
}

export interface PagerDutyOptions {
  /** The Events API v2 integration key used when a queue has none of its own. */
  routingKey: string;
  /** Integration keys by queue id. */
  routingKeys?: Record<string, string>;
  /**
   * Base URL of the Events API, `https://host[:port]` (default `https://events.pagerduty.com`),
   * for simulators and proxies. @pagerduty/pdjs 2.2.4 takes only a host and always posts to
   * `https://<host>/v2/enqueue`, so the URL must be https and may not carry a path prefix.
   */
  eventsUrl?: string;
  /** Deadline for one enqueue, including pdjs's own waits after a 429 (default 10 s). */
  timeoutMs?: number;
  /** Extra PEM certificate(s) to trust for eventsUrl: a proxy's private CA, a test simulator's certificate. */
  ca?: string;
}

type EnqueueRequest = paths['/enqueue']['post']['requestBody']['content']['application/json'];
type EnqueueError = components['responses']['Error']['content']['application/json'];
type PdjsParameters = Parameters<typeof sendEvent>[0] & { agent?: Agent };

const VENDOR = 'PagerDuty';
const DEFAULT_HOST = 'events.pagerduty.com';

/** Where pdjs should send events: the `server` (host[:port]) it expects. */
function eventsHost(eventsUrl: string | undefined): string {
  if (!eventsUrl) return DEFAULT_HOST;
  let url: URL;
  try {
    url = new URL(eventsUrl);
  } catch {
    throw new Error('PagerDuty eventsUrl is not a URL');
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v2(\/enqueue)?$/, '');
  if (url.protocol !== 'https:' || path !== '' || url.search || url.username || url.password)
    throw new Error(`PagerDuty eventsUrl must be https://host[:port] (the client always posts to https://<host>/v2/enqueue), not ${url.protocol}//${url.host}${url.pathname}`);
  return url.host;
}

/**
 * The real connector, on @pagerduty/pdjs's `event()`.
 *
 * How pdjs behaves, and what this does about it:
 * - `server` is a host: the URL is always `https://<server>/v2/enqueue` (see eventsUrl).
 * - its `requestTimeout` only starts a timer that aborts nothing: the deadline here is an
 *   AbortSignal handed through to fetch (`requestTimeout: 0` so no stray timer is left running).
 * - on 429 it waits `retryTimeout` (default 20 s) and tries again, three times, ignoring Retry-After.
 *   That cannot be switched off; the wait is shortened so the retries fit the deadline, and a 429
 *   that is still there afterwards becomes VendorRateLimited with PagerDuty's Retry-After.
 * - it parses every answer as JSON: an answer that is not JSON (a proxy's HTML error page) rejects
 *   the call without its status, and is classified as unavailable (retryable).
 */
export function createPagerPort(options: PagerDutyOptions): PagerPort {
  if (!options.routingKey) throw new Error('PagerDuty routingKey is required');
  const server = eventsHost(options.eventsUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const agent = options.ca ? new Agent({ ca: options.ca }) : undefined;
  const secrets = [options.routingKey, ...Object.values(options.routingKeys ?? {})].filter((k) => k.length > 0);
  /** Nothing a vendor or the network says reaches a message with a routing key in it. */
  const scrub = (text: string) => secrets.reduce((t, key) => t.split(key).join('[routing key]'), text);

  return {
    async enqueue(event, queue) {
      const routingKey = (queue !== undefined ? options.routingKeys?.[queue] : undefined) ?? options.routingKey;
      const body: EnqueueRequest = {
        routing_key: routingKey,
        event_action: event.event_action,
        dedup_key: event.dedup_key,
        ...(event.payload ? { payload: event.payload } : {}),
        ...(event.links?.length ? { links: event.links } : {}),
      };
      const call = `enqueue ${event.event_action} ${event.dedup_key}${queue ? ` (queue ${queue})` : ''}`;
      const signal = AbortSignal.timeout(timeoutMs);
      const parameters: PdjsParameters = {
        server,
        // pdjs types `data` as a trigger (payload required); acknowledge and resolve carry none, which the Events API expects.
        data: body as unknown as PdjsParameters['data'],
        signal,
        requestTimeout: 0,
        retryTimeout: Math.max(0, Math.min(1_000, Math.floor(timeoutMs / 5))),
        ...(agent ? { agent } : {}),
      };

      let response: Awaited<ReturnType<typeof sendEvent>>;
      try {
        response = await sendEvent(parameters);
      } catch (err) {
        if (signal.aborted) throw unavailable(VENDOR, call, `no answer within ${timeoutMs} ms`);
        const e = err as { type?: string; code?: string; message?: string };
        if (e.type === 'invalid-json') throw unavailable(VENDOR, call, 'the answer was not JSON');
        throw unavailable(VENDOR, call, scrub(`network error: ${e.code ?? e.message ?? String(err)}`));
      }
      if (response.status >= 200 && response.status < 300) return;
      const error = (response.data ?? {}) as Partial<EnqueueError>;
      const detail = [error.status, error.message, ...(Array.isArray(error.errors) ? error.errors : [])]
        .filter((part): part is string => typeof part === 'string' && part.length > 0)
        .join('; ');
      throw httpFailure(VENDOR, call, response.status, scrub(detail), response.headers.get('retry-after'));
    },
  };
}
