/**
 * Who is calling the API. A bearer token is either a static API token (WARDEN_API_TOKENS,
 * `identity:token` pairs, compared in constant time) or a JWT from the organisation's OIDC
 * provider, verified against its JWKS with issuer, audience and expiry checked. Either way the
 * identity must be a person the policy's roles name (directly, or through `people` by e-mail).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JWTPayload } from 'jose';
import { type Policy, rolesOf } from '../domain';
import { jose } from './jose';

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** The claim naming the person (default `preferred_username`, then `sub`). */
  identityClaim?: string;
}

export interface ApiAuthConfig {
  tokens?: { identity: string; token: string }[];
  oidc?: OidcConfig;
}

/** A refusal to authenticate or to let an identity in: its status, reason and response headers. */
export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const REALM = 'warden';

/** The API's credentials from the environment; undefined when none are configured (the API is off). */
export function apiAuthFromEnv(env: NodeJS.ProcessEnv = process.env): ApiAuthConfig | undefined {
  const tokens = (env.WARDEN_API_TOKENS ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const colon = pair.indexOf(':');
      if (colon <= 0 || colon === pair.length - 1) throw new Error('WARDEN_API_TOKENS: give comma-separated identity:token pairs');
      return { identity: pair.slice(0, colon), token: pair.slice(colon + 1) };
    });
  const { WARDEN_OIDC_ISSUER: issuer, WARDEN_OIDC_AUDIENCE: audience, WARDEN_OIDC_JWKS_URL: jwksUrl } = env;
  let oidc: OidcConfig | undefined;
  if (issuer || audience || jwksUrl) {
    if (!issuer || !audience || !jwksUrl)
      throw new Error('OIDC: set all of WARDEN_OIDC_ISSUER, WARDEN_OIDC_AUDIENCE and WARDEN_OIDC_JWKS_URL');
    oidc = { issuer, audience, jwksUrl, identityClaim: env.WARDEN_OIDC_IDENTITY_CLAIM || undefined };
  }
  if (!tokens.length && !oidc) return undefined;
  return { ...(tokens.length ? { tokens } : {}), ...(oidc ? { oidc } : {}) };
}

export function hasCredentials(config: ApiAuthConfig | undefined): config is ApiAuthConfig {
  return !!config && (!!config.tokens?.length || !!config.oidc);
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export type Authenticator = (req: IncomingMessage) => Promise<string>;

/** Resolves to the caller's Warden identity, or rejects with an AuthError (401, 403 or 503). */
export function createAuthenticator(config: ApiAuthConfig, policy: Policy): Authenticator {
  const tokens = (config.tokens ?? []).map(({ identity, token }) => ({ identity, digest: digest(token) }));
  const oidc = config.oidc;
  let jwks: ReturnType<ReturnType<typeof jose>['createRemoteJWKSet']> | undefined;
  const challenge = (error?: string, description?: string) => ({
    'www-authenticate': `Bearer realm="${REALM}"${error ? `, error="${error}"` : ''}${description ? `, error_description="${description.replace(/["\\]/g, '')}"` : ''}`,
  });

  /** The static token's identity: every configured token is compared, equal-length digests, no early exit. */
  function staticIdentity(presented: string): string | undefined {
    const d = digest(presented);
    let found: string | undefined;
    for (const t of tokens) if (timingSafeEqual(d, t.digest) && found === undefined) found = t.identity;
    return found;
  }

  async function jwtClaims(token: string): Promise<JWTPayload> {
    const { createRemoteJWKSet, jwtVerify, errors } = jose();
    jwks ??= createRemoteJWKSet(new URL(oidc!.jwksUrl));
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: oidc!.issuer, audience: oidc!.audience, requiredClaims: ['exp'], clockTolerance: 5 });
      return payload;
    } catch (err) {
      if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError))
        throw new AuthError(503, `cannot verify the token now: the identity provider's keys are unavailable (${(err as Error).message})`);
      throw new AuthError(401, `invalid token: ${err.message}`, challenge('invalid_token', err.message));
    }
  }

  /** The person the policy knows: the name itself when it holds a role, else the person with that e-mail. */
  function person(names: (string | undefined)[]): string | undefined {
    for (const name of names) {
      if (!name) continue;
      if (rolesOf(policy, name).length) return name;
      const byEmail = Object.entries(policy.people).find(([, p]) => p.email && p.email.toLowerCase() === name.toLowerCase())?.[0];
      if (byEmail && rolesOf(policy, byEmail).length) return byEmail;
    }
    return undefined;
  }

  return async (req) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AuthError(401, header ? 'use an Authorization: Bearer token' : 'authentication required: send Authorization: Bearer <token>', challenge(header ? 'invalid_request' : undefined));
    const presented = match[1];
    const fromStatic = tokens.length ? staticIdentity(presented) : undefined;
    let names: (string | undefined)[];
    if (fromStatic !== undefined) names = [fromStatic];
    else if (oidc && presented.split('.').length === 3) {
      const claims = await jwtClaims(presented);
      const claim = (name: string) => (typeof claims[name] === 'string' ? (claims[name] as string) : undefined);
      names = oidc.identityClaim ? [claim(oidc.identityClaim)] : [claim('preferred_username'), claim('sub')];
      names.push(claim('email'));
      if (!names.some(Boolean)) throw new AuthError(401, `invalid token: no ${oidc.identityClaim ?? 'preferred_username or sub'} claim`, challenge('invalid_token', 'no identity claim'));
    } else throw new AuthError(401, 'invalid token', challenge('invalid_token'));
    const identity = person(names);
    if (!identity) throw new AuthError(403, `${names.find(Boolean)} holds no role in the policy`);
    return identity;
  };
}
