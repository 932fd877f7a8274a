/**
 * A loopback incident.io API for connector tests: GET /v1/severities, GET /v1/incident_statuses,
 * POST /v2/incidents, POST /v2/incidents/{id}/actions/edit and GET /v2/incidents/{id}.
 *
 * Every request is recorded and checked against the incident.io OpenAPI subset
 * (../shared/reference/incidentio/openapi-v2-incidents-subset.json): the operation must exist,
 * its body and query must match the schemas. A create without severity_id also counts, because
 * incident.io requires it in practice (422 is_required). Violations are listed in `violations`
 * and answered 422 `validation_error`, in the error shape of the API reference
 * (`{type, status, request_id, errors:[{code, message, source:{field}}]}`).
 *
 * Behaviour modelled on the API reference:
 * - bearer auth: a missing or unknown key gets 401 in the documented error shape;
 * - create is idempotent on idempotency_key: the same key answers the same incident, never a
 *   second one; answers are 200 `{incident}`;
 * - edit changes only the fields it is given; a status change follows the transitions the spec
 *   describes for `incident_status_id` (within a category; triage/live → learning or closed;
 *   learning → closed), others get 422;
 * - the organisation's severities and statuses are configurable (ranks: higher is more severe).
 *
 * Faults: `failNext(n, fault)` answers the next n requests with a status (429 with
 * `rate_limit.retry_after` and/or Retry-After, 500...) or a hang past the client's timeout;
 * `process: true` acts on the request before failing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { components } from '../../src/activities/generated/incidentio';
import { OpenApiValidator } from './openapi';

export const INCIDENTIO_SPEC = resolve(__dirname, '../../../shared/reference/incidentio/openapi-v2-incidents-subset.json');

type Severity = components['schemas']['SeverityV1'];
type IncidentStatus = components['schemas']['IncidentStatusV1'];
type Incident = components['schemas']['IncidentV2'];
type StatusCategory = IncidentStatus['category'];

export interface IoRecordedCall {
  at: string;
  method: string;
  path: string;
  /** Whether the request carried the simulator's API key (the key itself is not kept). */
  authorized: boolean;
  body: unknown;
  status: number;
  violations: string[];
}

export type IoFault =
  | { status: number; body?: unknown; headers?: Record<string, string>; process?: boolean }
  | { hang: true; process?: boolean };

export interface IncidentIoSimulator {
  readonly url: string;
  readonly apiKey: string;
  readonly calls: IoRecordedCall[];
  readonly violations: string[];
  /** Incidents by creation order. */
  readonly incidents: Incident[];
  readonly severities: Severity[];
  readonly statuses: IncidentStatus[];
  /** The idempotency key each incident was created with, by incident id. */
  readonly idempotencyKeys: Map<string, string>;
  failNext(count: number, fault: IoFault): void;
  close(): Promise<void>;
}

const DEFAULT_SEVERITIES = [
  { name: 'Critical', rank: 4 },
  { name: 'Major', rank: 3 },
  { name: 'Minor', rank: 2 },
  { name: 'Informational', rank: 1 },
];

const DEFAULT_STATUSES: { name: string; category: StatusCategory }[] = [
  { name: 'Triage', category: 'triage' },
  { name: 'Investigating', category: 'live' },
  { name: 'Fixing', category: 'live' },
  { name: 'Monitoring', category: 'live' },
  { name: 'Documenting', category: 'learning' },
  { name: 'Closed', category: 'closed' },
  { name: 'Declined', category: 'declined' },
  { name: 'Merged', category: 'merged' },
  { name: 'Canceled', category: 'canceled' },
  { name: 'Paused', category: 'paused' },
];

/** A ULID-shaped id (26 Crockford base32 characters), like incident.io's. */
function ulid(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return Array.from(randomBytes(26), (b) => alphabet[b % 32]).join('');
}

export async function startIncidentIoSimulator(options: { severities?: { name: string; rank: number }[]; statuses?: { name: string; category: StatusCategory }[] } = {}): Promise<IncidentIoSimulator> {
  const validator = OpenApiValidator.load(INCIDENTIO_SPEC);
  const apiKey = `inc_test_${randomBytes(16).toString('hex')}`;
  const created = new Date().toISOString();
  const severities: Severity[] = (options.severities ?? DEFAULT_SEVERITIES).map((s) => ({
    id: ulid(),
    name: s.name,
    description: `${s.name} incidents`,
    rank: s.rank,
    created_at: created,
    updated_at: created,
  }));
  const statuses: IncidentStatus[] = (options.statuses ?? DEFAULT_STATUSES).map((s, i) => ({
    id: ulid(),
    name: s.name,
    description: `${s.name} (${s.category})`,
    rank: i + 1,
    category: s.category,
    created_at: created,
    updated_at: created,
  }));
  const calls: IoRecordedCall[] = [];
  const violations: string[] = [];
  const incidents: Incident[] = [];
  const byKey = new Map<string, Incident>();
  const idempotencyKeys = new Map<string, string>();
  const faults: IoFault[] = [];

  const errorBody = (status: number, type: string, errors: { code: string; message: string; field?: string }[]) => ({
    type,
    status,
    request_id: randomUUID(),
    errors: errors.map((e) => ({ code: e.code, message: e.message, ...(e.field ? { source: { field: e.field } } : {}) })),
  });

  /** The transitions the spec describes for `incident_status_id` on edit. */
  function transitionAllowed(from: StatusCategory, to: StatusCategory): boolean {
    if (from === to) return true;
    if ((from === 'triage' || from === 'live') && (to === 'live' || to === 'learning' || to === 'closed')) return true;
    return from === 'learning' && to === 'closed';
  }

  type Answer = { status: number; body: unknown };

  function create(body: components['schemas']['IncidentsCreatePayloadV2']): Answer {
    const existing = byKey.get(body.idempotency_key);
    if (existing) return { status: 200, body: { incident: existing } };
    const severity = severities.find((s) => s.id === body.severity_id);
    if (!severity) return { status: 422, body: errorBody(422, 'validation_error', [{ code: 'not_found', message: 'Severity not found', field: 'severity_id' }]) };
    const status = body.incident_status_id ? statuses.find((s) => s.id === body.incident_status_id) : statuses.find((s) => s.category === 'live');
    if (!status) return { status: 422, body: errorBody(422, 'validation_error', [{ code: 'not_found', message: 'Incident status not found', field: 'incident_status_id' }]) };
    const now = new Date().toISOString();
    const number = incidents.length + 1;
    const incident: Incident = {
      id: ulid(),
      reference: `INC-${number}`,
      name: body.name ?? `Incident ${number}`,
      summary: body.summary,
      visibility: body.visibility,
      mode: body.mode ?? 'standard',
      severity,
      incident_status: status,
      creator: { api_key: { id: ulid(), name: 'warden-test' } },
      incident_role_assignments: [],
      custom_field_entries: [],
      slack_team_id: 'T00000000',
      slack_channel_id: `C${number.toString().padStart(8, '0')}`,
      permalink: `https://app.incident.io/incidents/${number}`,
      created_at: now,
      updated_at: now,
    };
    incidents.push(incident);
    byKey.set(body.idempotency_key, incident);
    idempotencyKeys.set(incident.id, body.idempotency_key);
    return { status: 200, body: { incident } };
  }

  function edit(id: string, body: components['schemas']['IncidentsEditPayloadV2']): Answer {
    const incident = incidents.find((i) => i.id === id);
    if (!incident) return { status: 404, body: errorBody(404, 'not_found', [{ code: 'not_found', message: 'Incident not found' }]) };
    const change = body.incident;
    if (change.severity_id !== undefined) {
      const severity = severities.find((s) => s.id === change.severity_id);
      if (!severity) return { status: 422, body: errorBody(422, 'validation_error', [{ code: 'not_found', message: 'Severity not found', field: 'incident.severity_id' }]) };
      incident.severity = severity;
    }
    if (change.incident_status_id !== undefined) {
      const status = statuses.find((s) => s.id === change.incident_status_id);
      if (!status) return { status: 422, body: errorBody(422, 'validation_error', [{ code: 'not_found', message: 'Incident status not found', field: 'incident.incident_status_id' }]) };
      if (!transitionAllowed(incident.incident_status.category, status.category))
        return { status: 422, body: errorBody(422, 'validation_error', [{ code: 'invalid_transition', message: `Cannot move from ${incident.incident_status.category} to ${status.category}`, field: 'incident.incident_status_id' }]) };
      incident.incident_status = status;
    }
    if (change.summary !== undefined) incident.summary = change.summary;
    if (change.name !== undefined) incident.name = change.name;
    incident.updated_at = new Date().toISOString();
    return { status: 200, body: { incident } };
  }

  function route(method: string, template: string | undefined, params: Record<string, string>, body: unknown): Answer {
    switch (`${method} ${template}`) {
      case 'GET /v1/severities':
        return { status: 200, body: { severities } };
      case 'GET /v1/incident_statuses':
        return { status: 200, body: { incident_statuses: statuses } };
      case 'POST /v2/incidents':
        return create(body as components['schemas']['IncidentsCreatePayloadV2']);
      case 'POST /v2/incidents/{id}/actions/edit':
        return edit(params.id, body as components['schemas']['IncidentsEditPayloadV2']);
      case 'GET /v2/incidents/{id}': {
        const incident = incidents.find((i) => i.id === params.id);
        return incident ? { status: 200, body: { incident } } : { status: 404, body: errorBody(404, 'not_found', [{ code: 'not_found', message: 'Incident not found' }]) };
      }
      default:
        return { status: 404, body: errorBody(404, 'not_found', [{ code: 'not_found', message: `${method} ${template ?? 'this path'} is not simulated` }]) };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    const record: IoRecordedCall = {
      at: new Date().toISOString(),
      method,
      path: url.pathname,
      authorized: req.headers.authorization === `Bearer ${apiKey}`,
      body: undefined,
      status: 0,
      violations: [],
    };
    calls.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const violate = (problems: string[]) => {
      record.violations.push(...problems);
      violations.push(...problems.map((p) => (p.startsWith(method) ? p : `${method} ${url.pathname}: ${p}`)));
    };

    let parseFailed = false;
    if (raw.length > 0) {
      try {
        record.body = JSON.parse(raw);
      } catch {
        parseFailed = true;
      }
    }
    const operation = validator.operation(method, url.pathname);
    const problems = parseFailed
      ? ['body is not JSON']
      : validator.validateRequest({ method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'], body: record.body });
    // Required in practice, though not by the schema: incident.io answers 422 is_required without it.
    if (operation?.template === '/v2/incidents' && method === 'POST' && !parseFailed && record.body && typeof record.body === 'object' && !('severity_id' in record.body))
      problems.push('severity_id is required (incident.io refuses incidents without a severity)');
    if (problems.length) violate(problems);

    if (!record.authorized)
      return answer(401, errorBody(401, 'authentication_error', [{ code: 'authentication_error', message: 'The API key is missing or not valid' }]));

    const fault = faults.shift();
    const act = () => (problems.length === 0 ? route(method, operation?.template, operation?.pathParams ?? {}, record.body) : undefined);
    if (fault) {
      if (fault.process) act();
      if ('hang' in fault) return; // never answered; the client times out (close() drops the connection)
      return answer(fault.status, fault.body ?? defaultFaultBody(fault.status, errorBody), fault.headers);
    }
    if (problems.length)
      return answer(422, errorBody(422, 'validation_error', problems.map((message) => ({ code: 'invalid', message, field: fieldOf(message) }))));
    const result = act()!;
    return answer(result.status, result.body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'internal_error', status: 500, errors: [{ code: 'internal', message: String(err) }] }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    calls,
    violations,
    incidents,
    severities,
    statuses,
    idempotencyKeys,
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function defaultFaultBody(status: number, errorBody: (status: number, type: string, errors: { code: string; message: string }[]) => Record<string, unknown>): unknown {
  if (status === 429)
    return {
      ...errorBody(429, 'too_many_requests', [{ code: 'too_many_requests', message: 'Rate limit exceeded' }]),
      rate_limit: { name: 'api_key', limit: 1200, remaining: 0, retry_after: new Date(Date.now() + 30_000).toUTCString().replace('GMT', 'UTC') },
    };
  if (status >= 500) return errorBody(status, 'internal_error', [{ code: 'internal_error', message: 'Something went wrong' }]);
  return errorBody(status, 'invalid_request', [{ code: 'invalid_request', message: 'Refused' }]);
}

/** The body field a validator message is about (`POST /v2/incidents: body/visibility must be...` → visibility). */
function fieldOf(message: string): string | undefined {
  const m = /body(\/[^\s:]+)/.exec(message);
  return m ? m[1].slice(1).replace(/\//g, '.') : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}
