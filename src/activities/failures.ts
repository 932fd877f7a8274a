/**
 * Vendor errors, classified rather than guessed. Every connector turns what its vendor answered
 * into one of three outcomes, so Temporal's retry policy does the right thing:
 *
 *   429                      → retryable, next attempt after the vendor's Retry-After
 *   5xx, timeouts, network   → retryable with the activity's backoff
 *   any other 4xx, or an     → non-retryable ("VendorRejected"): bad token, unknown channel,
 *   API-level error code        invalid routing key... the case records it and carries on
 *
 * Messages name the vendor, the call and the vendor's error code — never a token or a secret.
 */
import { ApplicationFailure } from '@temporalio/common';

export const RATE_LIMITED = 'VendorRateLimited';
export const UNAVAILABLE = 'VendorUnavailable';
export const REJECTED = 'VendorRejected';

/** Retry-After is seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export function rateLimited(vendor: string, call: string, retryAfter?: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: RATE_LIMITED,
    message: `${vendor} ${call}: rate limited${retryAfter !== undefined ? `, retry after ${Math.round(retryAfter / 1000)}s` : ''}`,
    nextRetryDelay: retryAfter !== undefined ? Math.max(1, retryAfter) : undefined,
  });
}

export function unavailable(vendor: string, call: string, detail: string): ApplicationFailure {
  return ApplicationFailure.create({ type: UNAVAILABLE, message: `${vendor} ${call}: ${detail}` });
}

export function rejected(vendor: string, call: string, detail: string): ApplicationFailure {
  return ApplicationFailure.create({ type: REJECTED, message: `${vendor} ${call}: ${detail}`, nonRetryable: true });
}

/** Classify an HTTP answer that was not a success. */
export function httpFailure(vendor: string, call: string, status: number, detail: string, retryAfterHeader?: string | null): ApplicationFailure {
  if (status === 429) return rateLimited(vendor, call, retryAfterMs(retryAfterHeader));
  if (status >= 500 || status === 408) return unavailable(vendor, call, `HTTP ${status} ${detail}`.trim());
  return rejected(vendor, call, `HTTP ${status} ${detail}`.trim());
}
