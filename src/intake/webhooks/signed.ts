/**
 * The signed generic webhook, `POST /webhooks/signed`: Warden's own report JSON (the same body
 * as /webhooks/generic, which stays unsigned for local use), authenticated by an HMAC.
 *
 *   X-Warden-Timestamp: <unix seconds>
 *   X-Warden-Signature: v1=<hex HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body)>
 *
 * The signature is checked before the body is read as JSON, in constant time, against every
 * configured secret (several at once while one is rotated out); the header may also carry
 * several comma-separated `v1=` values (a sender signing with the old and the new secret).
 * A timestamp more than five minutes from now, either way, is refused, and so is a signature
 * already seen within that window (replay). Every refusal is 401 and files nothing.
 *
 * The body follows the generic format's contract: unknown fields and over-long text are refused
 * with 400 and the reasons, as at /webhooks/generic (the sender owns this format, so there is
 * nothing to clip on its behalf).
 *
 * Replays are remembered in memory, per intake process: behind a load balancer each replica
 * keeps its own set. A signature is remembered as soon as it is verified, before the report is
 * filed, so a sender retrying after a 503 must sign again with a fresh timestamp (a retry that
 * re-sends the same bytes is refused as a replay).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError, parseJson } from '../http';
import { normalizedReport, type WebhookSource } from '../sources';
import { header } from './shared';

export const SIGNED_PATH = '/webhooks/signed';
export const TIMESTAMP_HEADER = 'X-Warden-Timestamp';
export const SIGNATURE_HEADER = 'X-Warden-Signature';
/** How far a request's timestamp may be from now, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface SignedWebhookOptions {
  /** Accepted signing secrets; with none, every request is refused (401 "not configured"). */
  secrets?: string[];
  /** Signatures remembered at most at once (default 10,000). */
  replayCacheSize?: number;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** The signature a sender puts in X-Warden-Signature (without the "v1=" prefix). */
export function signWebhook(secret: string, timestamp: number | string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`v1:${timestamp}:`).update(body).digest('hex');
}

/**
 * Signatures seen within the window. Bounded: expired entries are dropped first; when the set is
 * still full of live ones, a new request is refused (429) rather than forgetting one that could
 * then be replayed. Filling it takes that many correctly signed requests within five minutes.
 */
class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Record a signature until `expiresAt` (ms); false when it was already there. */
  remember(signature: string, expiresAt: number, now: number): boolean {
    const known = this.seen.get(signature);
    if (known !== undefined && known > now) return false;
    if (this.seen.size >= this.capacity) this.sweep(now);
    if (this.seen.size >= this.capacity) throw new HttpError(429, 'too many signed requests in the replay window; retry later');
    this.seen.set(signature, expiresAt);
    return true;
  }

  private sweep(now: number): void {
    for (const [signature, expiresAt] of this.seen) if (expiresAt <= now) this.seen.delete(signature);
  }
}

export function signedWebhookSource(options: SignedWebhookOptions = {}): WebhookSource {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const now = options.now ?? Date.now;
  const replays = new ReplayCache(options.replayCacheSize ?? 10_000);

  function verify(raw: Buffer, headers: IncomingHttpHeaders): void {
    if (secrets.length === 0) throw new HttpError(401, 'not configured', ['no signing secret is configured, so this source accepts nothing']);
    const timestamp = header(headers, TIMESTAMP_HEADER)?.trim();
    const signatureHeader = header(headers, SIGNATURE_HEADER);
    if (!timestamp) throw new HttpError(401, `missing ${TIMESTAMP_HEADER} header`);
    if (!signatureHeader) throw new HttpError(401, `missing ${SIGNATURE_HEADER} header`);
    if (!/^\d{1,12}$/.test(timestamp)) throw new HttpError(401, `${TIMESTAMP_HEADER} is not unix seconds`);
    const seconds = Number(timestamp);
    const clock = now();
    if (Math.abs(clock / 1000 - seconds) > SIGNATURE_TOLERANCE_SECONDS)
      throw new HttpError(401, 'stale timestamp', [`${TIMESTAMP_HEADER} is more than ${SIGNATURE_TOLERANCE_SECONDS} s from now`]);

    const provided = signatureHeader
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.startsWith('v1='))
      .map((part) => part.slice(3).toLowerCase())
      .filter((hex) => /^[0-9a-f]{64}$/.test(hex))
      .map((hex) => Buffer.from(hex, 'hex'));
    if (provided.length === 0) throw new HttpError(401, 'invalid signature', [`${SIGNATURE_HEADER} must be v1=<64 hex digits>`]);

    let matched: Buffer | undefined;
    for (const secret of secrets) {
      const expected = createHmac('sha256', secret).update(`v1:${timestamp}:`).update(raw).digest();
      for (const candidate of provided) if (timingSafeEqual(candidate, expected) && !matched) matched = expected;
    }
    if (!matched) throw new HttpError(401, 'invalid signature', ['the signature does not match the body and timestamp']);

    // Live until the timestamp leaves the window; after that the timestamp check refuses it anyway.
    const expiresAt = (seconds + SIGNATURE_TOLERANCE_SECONDS) * 1000 + 1000;
    if (!replays.remember(matched.toString('hex'), expiresAt, clock)) throw new HttpError(401, 'replayed request');
  }

  return {
    path: SIGNED_PATH,
    parse(raw, headers) {
      verify(raw, headers);
      return [normalizedReport(parseJson(raw), raw)];
    },
  };
}
