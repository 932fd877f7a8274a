/**
 * The HTTP API under /api/v1: authenticates the caller, matches the route table, validates the
 * query and body (zod), runs the handler and maps what the case said to a status: a refused
 * update is 403 with the validator's reason, an unknown case 404, a case that cannot act 409.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client } from '@temporalio/client';
import type { z } from 'zod/v4';
import type { Policy } from '../domain';
import { HttpError, parseJson, readBody } from '../intake/http';
import { type ApiAuthConfig, AuthError, createAuthenticator, hasCredentials } from './auth';
import { ActionRefusedError, CaseNotFoundError, CaseUnavailableError } from './cases';
import { API_PREFIX, type ApiRoute, ROUTES } from './routes';

export interface ApiOptions {
  client: Client;
  policy: Policy;
  /** The credentials; without any, there is no API (the intake answers 404 under /api). */
  auth?: ApiAuthConfig;
}

export type ApiHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

interface Compiled {
  route: ApiRoute;
  pattern: RegExp;
  names: string[];
}

function compile(route: ApiRoute): Compiled {
  const names: string[] = [];
  const source = route.path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${API_PREFIX}${source}$`), names };
}

const COMPILED = ROUTES.map(compile);

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `invalid path segment ${part}`);
  }
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function reasonsOf(error: z.ZodError, where: string): string[] {
  return error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`);
}

/** The API's request handler, or undefined when no credentials are configured (the API is off). */
export function createApiRouter(options: ApiOptions): ApiHandler | undefined {
  if (!hasCredentials(options.auth)) return undefined;
  const { client, policy } = options;
  const authenticate = createAuthenticator(options.auth, policy);
  return async (req, res, url) => {
    try {
      const matches = COMPILED.map((c) => ({ c, m: c.pattern.exec(url.pathname) })).filter((x) => x.m);
      if (!matches.length) throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
      const found = matches.find(({ c }) => c.route.method === req.method);
      if (!found) {
        const allow = [...new Set(matches.map(({ c }) => c.route.method))].join(', ');
        return reply(res, 405, { error: `use ${allow}` }, { allow });
      }
      const { route, names } = found.c;
      const params = Object.fromEntries(names.map((name, i) => [name, decodePart(found.m![i + 1])]));
      const identity = route.authenticated ? await authenticate(req) : '';
      let query: unknown = {};
      if (route.query) {
        const parsed = route.query.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success) throw new HttpError(400, 'invalid query', reasonsOf(parsed.error, 'query'));
        query = parsed.data;
      }
      let body: unknown = undefined;
      if (route.body) {
        const raw = await readBody(req);
        const parsed = route.body.safeParse(raw.length ? parseJson(raw) : {});
        if (!parsed.success) throw new HttpError(400, 'invalid body', reasonsOf(parsed.error, 'body'));
        body = parsed.data;
      } else if (req.method === 'POST') await readBody(req);
      return reply(res, 200, await route.handle({ client, policy, identity, params, query, body }));
    } catch (err) {
      if (err instanceof AuthError) return reply(res, err.status, { error: err.message }, err.headers);
      if (err instanceof HttpError) return reply(res, err.status, { error: err.message, ...(err.reasons.length ? { reasons: err.reasons } : {}) });
      if (err instanceof ActionRefusedError) return reply(res, 403, { error: `refused: ${err.message}`, reasons: [err.message] });
      if (err instanceof CaseNotFoundError) return reply(res, 404, { error: err.message });
      if (err instanceof CaseUnavailableError) return reply(res, 409, { error: err.message });
      console.error('api error', err instanceof Error ? err.message : err);
      return reply(res, 503, { error: 'Temporal cannot be reached; retry later' });
    }
  };
}
