/**
 * Acknowledgement links for third parties: the notice a party receives carries a link that
 * records its acknowledgement on the incident. The link names the case and the party and is
 * signed (HMAC-SHA256) with a secret that the worker (which writes notices) and the intake (which
 * serves the link) share; it stays valid while the party's coordination is open, and no longer.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface PartyLinkSettings {
  /** Shared by the worker and the intake; at least 32 characters. */
  secret: string;
  /** Where the intake is reachable for the parties, e.g. https://warden.corp.example. */
  baseUrl: string;
}

export interface PartyRef {
  caseId: string;
  party: string;
}

export const PARTY_ACK_PATH = '/parties/acknowledge';

/** WARDEN_PARTY_LINK_SECRET and WARDEN_PUBLIC_URL; without the secret, notices carry no link. */
export function partyLinksFromEnv(env: NodeJS.ProcessEnv = process.env): PartyLinkSettings | undefined {
  const secret = env.WARDEN_PARTY_LINK_SECRET;
  if (!secret) return undefined;
  if (secret.length < 32) throw new Error('WARDEN_PARTY_LINK_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)');
  return { secret, baseUrl: (env.WARDEN_PUBLIC_URL ?? `http://localhost:${env.WARDEN_HTTP_PORT ?? 8080}`).replace(/\/+$/, '') };
}

const mac = (secret: string, payload: string) => createHmac('sha256', secret).update(`warden-party-ack:${payload}`).digest('base64url');

export function partyAckToken(secret: string, ref: PartyRef): string {
  const payload = Buffer.from(JSON.stringify({ c: ref.caseId, p: ref.party })).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

/** The case and party a token names, if its signature holds. */
export function readPartyAckToken(secret: string, token: string): PartyRef | undefined {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length) return undefined;
  const expected = Buffer.from(mac(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const { c, p } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { c?: unknown; p?: unknown };
    return typeof c === 'string' && typeof p === 'string' ? { caseId: c, party: p } : undefined;
  } catch {
    return undefined;
  }
}

export function partyAckUrl(settings: PartyLinkSettings, ref: PartyRef): string {
  return `${settings.baseUrl}${PARTY_ACK_PATH}?t=${partyAckToken(settings.secret, ref)}`;
}
