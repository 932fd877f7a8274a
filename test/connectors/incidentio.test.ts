/**
 * The incident.io connector (fetch, generated types) against the loopback incident.io API:
 * idempotent declaration, severity and status mapping, failure classification, and the
 * simulator's contract check itself.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { RATE_LIMITED, REJECTED, UNAVAILABLE } from '../../src/activities/failures';
import { createIncidentPort, type IncidentDeclaration, type IncidentIoOptions } from '../../src/activities/incidentio';
import { OpenApiValidator } from '../simulators/openapi';
import { INCIDENTIO_SPEC, type IncidentIoSimulator, startIncidentIoSimulator } from '../simulators/incidentio';

let counter = 0;
function declaration(overrides: Partial<IncidentDeclaration> = {}): IncidentDeclaration {
  counter += 1;
  return {
    idempotency_key: `warden-WRD-${process.pid}${counter}-escalation-1`,
    name: `WRD-0123456789AB: Ransomware note on laptop-1234 (${counter})`,
    summary: 'Escalated by: priority: SEV1\nhttp://localhost:8233/namespaces/default/workflows/case-WRD-0123456789AB',
    severity: 'SEV1',
    visibility: 'private',
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('the call succeeded, but it should have failed');
}

async function show(sim: IncidentIoSimulator, id: string) {
  const res = await fetch(`${sim.url}/v2/incidents/${id}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { incident: IncidentIoSimulator['incidents'][number] }).incident;
}

const callsTo = (sim: IncidentIoSimulator, method: string, path: string) => sim.calls.filter((c) => c.method === method && c.path === path);

describe('incident.io connector against the simulator', () => {
  let sim: IncidentIoSimulator;
  const port = (overrides: Partial<IncidentIoOptions> = {}) => createIncidentPort({ apiKey: sim.apiKey, apiUrl: sim.url, timeoutMs: 2_000, ...overrides });

  beforeAll(async () => {
    sim = await startIncidentIoSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => {
    // Everything the connector sent conforms to the OpenAPI subset (and severity_id was there).
    expect(sim.violations).toEqual([]);
  });

  test('declaring twice with the same idempotency key makes one incident; severities are listed once per port', async () => {
    const incidents = port();
    const before = sim.incidents.length;
    const input = declaration();
    const first = await incidents.declare(input);
    const second = await incidents.declare(input);
    expect(second.id).toBe(first.id);
    expect(sim.incidents.length - before).toBe(1);
    expect(sim.idempotencyKeys.get(first.id)).toBe(input.idempotency_key);
    const created = await show(sim, first.id);
    expect(created).toMatchObject({ name: input.name, summary: input.summary, visibility: 'private', mode: 'standard' });
    expect(created.incident_status.category).toBe('live');
    expect(callsTo(sim, 'GET', '/v1/severities')).toHaveLength(1);
    expect(callsTo(sim, 'POST', '/v2/incidents').at(-1)?.body).toMatchObject({ idempotency_key: input.idempotency_key, mode: 'standard', severity_id: expect.any(String) });
  });

  test('severity mapping: SEV1..SEV4 onto the four severities, most severe (highest rank) first', async () => {
    const incidents = port();
    const names: string[] = [];
    for (const severity of ['SEV1', 'SEV2', 'SEV3', 'SEV4']) {
      const { id } = await incidents.declare(declaration({ severity }));
      names.push((await show(sim, id)).severity?.name ?? '?');
    }
    expect(names).toEqual(['Critical', 'Major', 'Minor', 'Informational']);
  });

  test('a severity change edits the incident', async () => {
    const incidents = port();
    const { id } = await incidents.declare(declaration({ severity: 'SEV3' }));
    await incidents.update(id, { severity: 'SEV1' }, `${id}-severity`);
    expect((await show(sim, id)).severity?.name).toBe('Critical');
  });

  test('status closed: the edit action moves the incident to the status whose category is closed', async () => {
    const incidents = port();
    const { id } = await incidents.declare(declaration());
    await incidents.update(id, { status: 'closed', summary: 'host rebuilt' }, `${id}-closed`);
    await incidents.update(id, { status: 'closed', summary: 'host rebuilt' }, `${id}-closed`); // a replay changes nothing
    const closed = await show(sim, id);
    expect(closed.incident_status).toMatchObject({ category: 'closed', name: 'Closed' });
    expect(closed.summary).toBe('host rebuilt');
    const edits = callsTo(sim, 'POST', `/v2/incidents/${id}/actions/edit`);
    expect(edits[0].body).toEqual({ incident: { summary: 'host rebuilt', incident_status_id: sim.statuses.find((s) => s.category === 'closed')?.id }, notify_incident_channel: true });
    expect(callsTo(sim, 'GET', '/v1/incident_statuses')).toHaveLength(1);
  });

  test('status de-escalated keeps the incident’s status and updates its summary; an unknown word is refused', async () => {
    const incidents = port();
    const { id } = await incidents.declare(declaration());
    const status = (await show(sim, id)).incident_status.name;
    await incidents.update(id, { status: 'de-escalated', summary: 'De-escalated by alice: contained, single host' }, 'k');
    const after = await show(sim, id);
    expect(after.incident_status.name).toBe(status);
    expect(after.summary).toBe('De-escalated by alice: contained, single host');
    expect(callsTo(sim, 'POST', `/v2/incidents/${id}/actions/edit`).at(-1)?.body).toEqual({ incident: { summary: 'De-escalated by alice: contained, single host' }, notify_incident_channel: true });

    const err = await failure(incidents.update(id, { status: 'paused' }, 'k'));
    expect(err.type).toBe(REJECTED);
    expect(err.nonRetryable).toBe(true);
  });

  test('401 (wrong key) → non-retryable VendorRejected, and the message does not carry the key', async () => {
    const wrongKey = `inc_${randomBytes(16).toString('hex')}`;
    const err = await failure(port({ apiKey: wrongKey }).declare(declaration()));
    expect(err.type).toBe(REJECTED);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('HTTP 401');
    expect(err.message).toContain('authentication_error');
    expect(JSON.stringify({ message: err.message, details: err.details, stack: err.stack })).not.toContain(wrongKey);
    expect(callsTo(sim, 'GET', '/v1/severities').at(-1)?.authorized).toBe(false);
  });

  test('429 → retryable VendorRateLimited: Retry-After header first, else rate_limit.retry_after', async () => {
    const incidents = port();
    await incidents.declare(declaration()); // severities cached: the next calls are the create itself

    sim.failNext(1, { status: 429, headers: { 'retry-after': '3' } });
    const withHeader = await failure(incidents.declare(declaration()));
    expect(withHeader.type).toBe(RATE_LIMITED);
    expect(withHeader.nonRetryable).toBe(false);
    expect(withHeader.nextRetryDelay).toBe(3_000);

    sim.failNext(1, { status: 429 }); // body only: rate_limit.retry_after is an RFC 1123 time ~30 s ahead
    const withBody = await failure(incidents.declare(declaration()));
    expect(withBody.type).toBe(RATE_LIMITED);
    expect(withBody.nextRetryDelay).toBeGreaterThan(25_000);
    expect(withBody.nextRetryDelay).toBeLessThanOrEqual(30_000);
  });

  test('a declaration retried after an injected 500 or a timeout makes one incident', async () => {
    const incidents = port({ timeoutMs: 500 });
    await incidents.declare(declaration()); // severities cached
    const before = sim.incidents.length;

    const afterError = declaration();
    sim.failNext(1, { status: 500 });
    const e500 = await failure(incidents.declare(afterError));
    expect(e500.type).toBe(UNAVAILABLE);
    expect(e500.nonRetryable).toBe(false);
    await incidents.declare(afterError);

    const afterTimeout = declaration();
    sim.failNext(1, { hang: true, process: true }); // created, but the answer never comes
    const timeout = await failure(incidents.declare(afterTimeout));
    expect(timeout.type).toBe(UNAVAILABLE);
    expect(timeout.message).toContain('no answer within 500 ms');
    const retried = await incidents.declare(afterTimeout);
    expect(sim.idempotencyKeys.get(retried.id)).toBe(afterTimeout.idempotency_key);

    expect(sim.incidents.length - before).toBe(2);
  });

  test('404 and 422 → non-retryable VendorRejected with the error codes and fields from the body', async () => {
    const incidents = port();
    const missing = await failure(incidents.update('01NOTANINCIDENT000000000000', { summary: 'x' }, 'k'));
    expect(missing.type).toBe(REJECTED);
    expect(missing.message).toMatch(/HTTP 404 not_found; not_found Incident not found/);

    sim.failNext(1, { status: 422, body: { type: 'validation_error', status: 422, request_id: 'req-1', errors: [{ code: 'is_required', message: 'severity is required', source: { field: 'severity_id' } }] } });
    const invalid = await failure(incidents.declare(declaration()));
    expect(invalid.type).toBe(REJECTED);
    expect(invalid.nonRetryable).toBe(true);
    expect(invalid.message).toContain('validation_error; is_required (severity_id) severity is required; request req-1');
  });

  test('a refused connection is unavailable (retryable)', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const { port: closedPort } = closed.address() as AddressInfo;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const err = await failure(port({ apiUrl: `http://127.0.0.1:${closedPort}` }).declare(declaration()));
    expect(err.type).toBe(UNAVAILABLE);
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('incident.io severity mapping with fewer than four severities', () => {
  test('SEV3 and SEV4 share the least severe; ranks, not list order, decide', async () => {
    const sim = await startIncidentIoSimulator({ severities: [{ name: 'Minor', rank: 1 }, { name: 'Critical', rank: 3 }, { name: 'Major', rank: 2 }] });
    try {
      const incidents = createIncidentPort({ apiKey: sim.apiKey, apiUrl: sim.url });
      const names: string[] = [];
      for (const severity of ['SEV1', 'SEV2', 'SEV3', 'SEV4']) {
        const { id } = await incidents.declare(declaration({ severity }));
        names.push((await show(sim, id)).severity?.name ?? '?');
      }
      expect(names).toEqual(['Critical', 'Major', 'Minor', 'Minor']);
      expect(sim.violations).toEqual([]);
    } finally {
      await sim.close();
    }
  });
});

describe('the incident.io simulator’s contract check', () => {
  let sim: IncidentIoSimulator;
  beforeAll(async () => {
    sim = await startIncidentIoSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });
  const post = (path: string, body: unknown) =>
    fetch(`${sim.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('malformed requests sent straight to the simulator are violations and get 422', async () => {
    const res = await post('/v2/incidents', { visibility: 'secret', name: 42, mode: 'standard' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { type: string }).type).toBe('validation_error');
    expect(sim.violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining("must have required property 'idempotency_key'"),
        expect.stringContaining('body/visibility must be equal to one of the allowed values'),
        expect.stringContaining('body/name must be string'),
        expect.stringContaining('severity_id is required'),
      ]),
    );
    const before = sim.violations.length;
    await post('/v2/incidents/01ANY/actions/edit', { incident: { summary: 'x' } }); // notify_incident_channel missing
    await fetch(`${sim.url}/v1/severities?page=2`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    expect(sim.violations.slice(before)).toEqual([
      expect.stringContaining("must have required property 'notify_incident_channel'"),
      expect.stringContaining('unknown query parameter "page"'),
    ]);
    expect(sim.incidents).toHaveLength(0);
  });

  test('its answers are the documented ones', async () => {
    const validator = OpenApiValidator.load(INCIDENTIO_SPEC);
    expect([...validator.uncheckedFormats]).toEqual([]);
    const get = async (path: string) => {
      const res = await fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
      return { status: res.status, body: await res.json() };
    };
    const severities = await get('/v1/severities');
    const statuses = await get('/v1/incident_statuses');
    const createdRes = await post('/v2/incidents', { idempotency_key: 'k-1', visibility: 'public', severity_id: sim.severities[0].id });
    const created = (await createdRes.json()) as { incident: { id: string } };
    const editedRes = await post(`/v2/incidents/${created.incident.id}/actions/edit`, { incident: { summary: 's' }, notify_incident_channel: false });
    const shown = await get(`/v2/incidents/${created.incident.id}`);
    expect(validator.validateResponse('GET', '/v1/severities', severities.status, severities.body)).toEqual([]);
    expect(validator.validateResponse('GET', '/v1/incident_statuses', statuses.status, statuses.body)).toEqual([]);
    expect(validator.validateResponse('POST', '/v2/incidents', createdRes.status, created)).toEqual([]);
    expect(validator.validateResponse('POST', `/v2/incidents/${created.incident.id}/actions/edit`, editedRes.status, await editedRes.json())).toEqual([]);
    expect(validator.validateResponse('GET', `/v2/incidents/${created.incident.id}`, shown.status, shown.body)).toEqual([]);
    // and the check can fail: an incident without its required fields is not an IncidentV2
    expect(validator.validateResponse('GET', '/v2/incidents/x', 200, { incident: { id: 'x' } })).not.toEqual([]);
  });
});

describe('the shared OpenAPI validator', () => {
  const validator = new OpenApiValidator({
    openapi: '3.0.3',
    servers: [{ url: 'https://api.example/base' }],
    paths: {
      '/things/{id}': {
        post: {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 10 } }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
          responses: { '200': { description: 'ok' } },
        },
      },
      '/things/special': { post: { responses: { '204': { description: 'ok' } } } },
    },
    components: {
      schemas: {
        Thing: {
          type: 'object',
          required: ['name', 'colour', 'owner'],
          properties: {
            name: { type: 'string', nullable: true },
            colour: { type: 'string', enum: ['red', 'blue'], nullable: true },
            owner: { $ref: '#/components/schemas/Owner', nullable: true },
            size: { type: 'integer' },
          },
        },
        Owner: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
      },
    },
  });

  test('OpenAPI 3.0 nullable, path templates, server base path and query coercion', () => {
    expect(validator.operation('POST', '/base/things/special')?.template).toBe('/things/special'); // literal beats template
    expect(validator.operation('POST', '/base/things/42')).toMatchObject({ template: '/things/{id}', pathParams: { id: '42' } });
    const ok = { name: null, colour: null, owner: null };
    expect(validator.validateRequest({ method: 'POST', path: '/base/things/42?limit=5', body: ok })).toEqual([]);
    expect(validator.validateRequest({ method: 'POST', path: '/things/42', body: { name: 'n', colour: 'red', owner: { id: 'o' } } })).toEqual([]);
    expect(validator.validateRequest({ method: 'POST', path: '/things/42', body: { ...ok, size: null } })).toEqual([expect.stringContaining('body/size must be integer')]);
    expect(validator.validateRequest({ method: 'POST', path: '/things/42', body: { ...ok, colour: 'green' } })).toEqual([expect.stringContaining('body/colour must be equal to one of the allowed values')]);
    // a nullable $ref becomes anyOf [ref, null]: ajv reports both branches
    expect(validator.validateRequest({ method: 'POST', path: '/things/42', body: { ...ok, owner: {} } })).toEqual(
      expect.arrayContaining([expect.stringContaining("body/owner must have required property 'id'"), expect.stringContaining('body/owner must be null')]),
    );
    expect(validator.validateRequest({ method: 'POST', path: '/things/42?limit=50', body: ok })).toEqual([expect.stringContaining('query parameter limit must be <= 10')]);
    expect(validator.validateRequest({ method: 'POST', path: '/things/42' })).toEqual([expect.stringContaining('a request body is required')]);
    expect(validator.validateRequest({ method: 'POST', path: '/things/42', contentType: 'text/plain', body: ok })).toEqual([expect.stringContaining('content-type "text/plain"')]);
    expect(validator.validateRequest({ method: 'GET', path: '/things/42' })).toEqual([expect.stringContaining('no such operation')]);
  });
});
