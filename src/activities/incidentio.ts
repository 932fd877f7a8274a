/**
 * incident.io: declare an incident when a case escalates (idempotency key derived from the case
 * and the escalation), and update it as the case moves.
 */
import { httpFailure, rateLimited, rejected, retryAfterMs, unavailable } from './failures';
import type { components, paths } from './generated/incidentio';
import type { Outbox } from './outbox';

export interface IncidentDeclaration {
  idempotency_key: string;
  name: string;
  summary: string;
  severity: string;
  visibility: 'public' | 'private';
}

export interface IncidentPort {
  declare(incident: IncidentDeclaration): Promise<{ id: string }>;
  update(id: string, change: { status?: string; severity?: string; summary?: string }, key: string): Promise<void>;
}

export function dryRunIncidents(outbox: Outbox): IncidentPort {
  return {
    async declare(incident) {
      const id = `dry-run-${incident.idempotency_key}`;
      await outbox.deliver({ system: 'incidentio', kind: 'incidents.create', key: incident.idempotency_key, body: { ...incident, id } });
      return { id };
    },
    async update(id, change, key) {
      await outbox.deliver({ system: 'incidentio', kind: 'incidents.edit', key, body: { id, ...change } });
    },
  };
}

export interface IncidentIoOptions {
  apiKey: string;
  /** Base URL (default https://api.incident.io); a path prefix is kept, for proxies. */
  apiUrl?: string;
  /** Deadline for each HTTP request (default 10 s). */
  timeoutMs?: number;
}

type CreateRequest = paths['/v2/incidents']['post']['requestBody']['content']['application/json'];
type CreateResult = paths['/v2/incidents']['post']['responses'][200]['content']['application/json'];
type EditRequest = paths['/v2/incidents/{id}/actions/edit']['post']['requestBody']['content']['application/json'];
type EditResult = paths['/v2/incidents/{id}/actions/edit']['post']['responses'][200]['content']['application/json'];
type SeveritiesResult = paths['/v1/severities']['get']['responses'][200]['content']['application/json'];
type StatusesResult = paths['/v1/incident_statuses']['get']['responses'][200]['content']['application/json'];
type Severity = components['schemas']['SeverityV1'];
type IncidentStatus = components['schemas']['IncidentStatusV1'];

/**
 * The error body incident.io documents for every failure (the OpenAPI document has no error
 * responses; this shape is from the API reference): `{type, status, request_id, errors[]}`, and
 * `rate_limit` on 429.
 */
interface ApiError {
  type?: string;
  status?: number;
  request_id?: string;
  rate_limit?: { name?: string; limit?: number; remaining?: number; retry_after?: string };
  errors?: { code?: string; message?: string; source?: { field?: string } }[];
}

const VENDOR = 'incident.io';
const WARDEN_SEVERITY = /^SEV([1-4])$/;

/**
 * The real connector, on fetch.
 *
 * Severity: Warden's SEV1..SEV4 (SEV1 most severe) map onto the organisation's own severities,
 * listed once per port with GET /v1/severities. The spec says of `rank`: "lower numbers are less
 * severe", so sorted by rank descending the list starts with the most severe: SEVn is the n-th
 * entry, and with fewer than four severities the lower Warden levels share the least severe one.
 *
 * Status: Warden speaks of its case, not incident.io's lifecycle.
 * - 'closed' → the status whose category is `closed` (GET /v1/incident_statuses, once per port).
 *   The edit action's `incident_status_id` documents resolving "from active/triage to a
 *   post-incident or closed status" and closing "from a post-incident status"; moving straight to
 *   closed skips any post-incident flow (incident.io asks for the "Close incidents by opting out of
 *   post-incident flow" permission on the key when the lifecycle would otherwise require one).
 *   Warden closes a case only after its own recovery gate and sign-offs, so that is the intent.
 * - 'de-escalated' → the incident keeps its status (incident.io has no such state, and the
 *   incident is still being handled); only the summary changes, to say who de-escalated and why.
 * - anything else is refused (non-retryable): an unknown word is a Warden bug, not a vendor fault.
 */
export function createIncidentPort(options: IncidentIoOptions): IncidentPort {
  if (!options.apiKey) throw new Error('incident.io apiKey is required');
  const base = (options.apiUrl ?? 'https://api.incident.io').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const scrub = (text: string) => text.split(options.apiKey).join('[api key]');

  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const call = `${method} ${path}`;
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    let retryAfterHeader: string | null;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal,
      });
      status = response.status;
      retryAfterHeader = response.headers.get('retry-after');
      text = await response.text();
    } catch (err) {
      if (signal.aborted) throw unavailable(VENDOR, call, `no answer within ${timeoutMs} ms`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw unavailable(VENDOR, call, scrub(`network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`));
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) {
      if (parsed === undefined) throw unavailable(VENDOR, call, `HTTP ${status} without a JSON body`);
      return parsed as T;
    }
    const error = (parsed && typeof parsed === 'object' ? parsed : {}) as ApiError;
    if (status === 429) throw rateLimited(VENDOR, call, retryAfterMs(retryAfterHeader) ?? retryAfterMs(error.rate_limit?.retry_after));
    const detail = [
      error.type,
      ...(error.errors ?? []).map((e) => [e.code, e.source?.field && `(${e.source.field})`, e.message].filter(Boolean).join(' ')),
      error.request_id && `request ${error.request_id}`,
    ]
      .filter(Boolean)
      .join('; ');
    throw httpFailure(VENDOR, call, status, scrub(detail || (parsed === undefined && text ? 'non-JSON answer' : '')));
  }

  /** A list fetched once per port; a failed fetch is forgotten so the next call tries again. */
  function cached<T>(load: () => Promise<T>): () => Promise<T> {
    let pending: Promise<T> | undefined;
    return () => {
      pending ??= load().catch((err) => {
        pending = undefined;
        throw err;
      });
      return pending;
    };
  }

  const severities = cached(async () => (await request<SeveritiesResult>('GET', '/v1/severities')).severities);
  const statuses = cached(async () => (await request<StatusesResult>('GET', '/v1/incident_statuses')).incident_statuses);

  async function severityId(severity: string): Promise<string> {
    const level = WARDEN_SEVERITY.exec(severity);
    if (!level) throw rejected(VENDOR, 'severity', `"${severity}" is not a Warden severity (SEV1..SEV4)`);
    const bySeverity: Severity[] = [...(await severities())].sort((a, b) => b.rank - a.rank);
    if (bySeverity.length === 0) throw rejected(VENDOR, 'GET /v1/severities', 'the organisation has no severities');
    return bySeverity[Math.min(Number(level[1]) - 1, bySeverity.length - 1)].id;
  }

  async function closedStatusId(): Promise<string> {
    const closed: IncidentStatus[] = (await statuses()).filter((s) => s.category === 'closed').sort((a, b) => a.rank - b.rank);
    if (closed.length === 0) throw rejected(VENDOR, 'GET /v1/incident_statuses', 'no incident status in category "closed"');
    return closed[0].id;
  }

  /** Recovery may begin: the organisation's last "live" status (e.g. Monitoring), the incident still open. */
  async function recoveringStatusId(): Promise<string> {
    const live: IncidentStatus[] = (await statuses()).filter((s) => s.category === 'live').sort((a, b) => b.rank - a.rank);
    if (live.length === 0) throw rejected(VENDOR, 'GET /v1/incident_statuses', 'no incident status in category "live"');
    return live[0].id;
  }

  return {
    async declare(incident) {
      const body: CreateRequest = {
        idempotency_key: incident.idempotency_key,
        visibility: incident.visibility,
        name: incident.name,
        summary: incident.summary,
        mode: 'standard',
        severity_id: await severityId(incident.severity),
      };
      const result = await request<CreateResult>('POST', '/v2/incidents', body);
      if (!result.incident?.id) throw unavailable(VENDOR, 'POST /v2/incidents', 'the answer carries no incident id');
      return { id: result.incident.id };
    },

    // `key` is not sent: the edit action takes no idempotency key, and it sets fields to values
    // (summary, severity, status), so a replayed edit leaves the incident as the first one did.
    async update(id, change, _key) {
      const incident: EditRequest['incident'] = {};
      if (change.summary !== undefined) incident.summary = change.summary;
      if (change.severity !== undefined) incident.severity_id = await severityId(change.severity);
      if (change.status === 'closed') incident.incident_status_id = await closedStatusId();
      else if (change.status === 'recovering') incident.incident_status_id = await recoveringStatusId();
      else if (change.status !== undefined && change.status !== 'de-escalated')
        throw rejected(VENDOR, 'edit', `unknown Warden status "${change.status}" (closed, recovering, de-escalated)`);
      if (Object.keys(incident).length === 0) return;
      const body: EditRequest = { incident, notify_incident_channel: true };
      await request<EditResult>('POST', `/v2/incidents/${encodeURIComponent(id)}/actions/edit`, body);
    },
  };
}
