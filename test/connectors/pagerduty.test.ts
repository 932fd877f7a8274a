/**
 * The PagerDuty connector (@pagerduty/pdjs) against the loopback Events API v2: alert lifecycle
 * by dedup key, retries that do not page twice, failure classification, and the simulator's
 * contract check itself.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { ApplicationFailure } from '@temporalio/common';
import { RATE_LIMITED, REJECTED, UNAVAILABLE } from '../../src/activities/failures';
import { createPagerPort, type PagerDutyOptions, type PagerEvent } from '../../src/activities/pagerduty';
import { OpenApiValidator } from '../simulators/openapi';
import { PAGERDUTY_EVENTS_SPEC, type PagerDutySimulator, startPagerDutySimulator } from '../simulators/pagerduty';

let counter = 0;
const newDedupKey = () => `warden-WRD-${process.pid}${Date.now().toString(16)}${++counter}`.slice(0, 60);

function trigger(dedupKey: string, summary = 'SEV1 malware: ransomware note on laptop-1234'): PagerEvent {
  return {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: { summary, source: 'warden', severity: 'critical', custom_details: { caseId: 'WRD-0123456789AB', category: 'malware', queue: 'soc', stage: 'responding' } },
    links: [{ href: 'http://localhost:8233/namespaces/default/workflows/case-WRD-0123456789AB', text: 'Case WRD-0123456789AB in Temporal' }],
  };
}
const ack = (dedupKey: string): PagerEvent => ({ event_action: 'acknowledge', dedup_key: dedupKey });
const resolveEvent = (dedupKey: string): PagerEvent => ({ event_action: 'resolve', dedup_key: dedupKey });

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('the call succeeded, but it should have failed');
}

/** POST a raw body straight to the simulator (bypassing the connector). */
function postRaw(sim: PagerDutySimulator, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((ok, fail) => {
    const req = request(`${sim.url}/v2/enqueue`, { method: 'POST', ca: sim.ca, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('PagerDuty connector against the Events API v2 simulator', () => {
  let sim: PagerDutySimulator;
  const port = (overrides: Partial<PagerDutyOptions> = {}) =>
    createPagerPort({ routingKey: sim.routingKeys.default, routingKeys: { soc: sim.routingKeys.soc }, eventsUrl: sim.url, ca: sim.ca, timeoutMs: 2_000, ...overrides });

  beforeAll(async () => {
    sim = await startPagerDutySimulator({ services: ['default', 'soc'] });
  });
  afterAll(async () => {
    await sim?.close();
  });
  afterEach(() => {
    // Everything the connector sent conforms to the OpenAPI document and the documented rules.
    expect(sim.violations).toEqual([]);
  });

  test('trigger, re-trigger, acknowledge and resolve one dedup key: exactly one incident, resolved', async () => {
    const pager = port();
    const key = newDedupKey();
    await pager.enqueue(trigger(key), 'soc');
    await pager.enqueue(trigger(key, 'SEV1 malware: second report on laptop-1234'), 'soc'); // still open: deduplicated
    await pager.enqueue(ack(key), 'soc');
    await pager.enqueue(resolveEvent(key), 'soc');

    const incidents = sim.incidents.filter((i) => i.dedupKey === key);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ service: 'soc', status: 'resolved', severity: 'critical', summary: 'SEV1 malware: second report on laptop-1234' });
    expect(incidents[0].history.map((h) => h.action)).toEqual(['trigger', 'trigger (deduplicated)', 'acknowledge', 'resolve']);
    expect(sim.eventsFor(key).map((e) => e.event_action)).toEqual(['trigger', 'trigger', 'acknowledge', 'resolve']);
    // acknowledge and resolve carry no payload; the trigger carries the case link
    expect(sim.eventsFor(key)[2]).not.toHaveProperty('payload');
    expect(sim.eventsFor(key)[0].links).toEqual([expect.objectContaining({ text: 'Case WRD-0123456789AB in Temporal' })]);
  });

  test('routing: the queue’s own key when it has one, the default key otherwise', async () => {
    const pager = port();
    const soc = newDedupKey();
    const other = newDedupKey();
    await pager.enqueue(trigger(soc), 'soc');
    await pager.enqueue(trigger(other), 'cloud');
    await pager.enqueue(trigger(newDedupKey()));
    expect(sim.incidents.find((i) => i.dedupKey === soc)?.service).toBe('soc');
    expect(sim.incidents.find((i) => i.dedupKey === other)?.service).toBe('default');
  });

  test('a trigger retried after an injected 500 makes one incident', async () => {
    const pager = port();
    const key = newDedupKey();
    sim.failNext(1, { status: 500 });
    const first = await failure(pager.enqueue(trigger(key), 'soc'));
    expect(first.type).toBe(UNAVAILABLE);
    expect(first.nonRetryable).toBe(false);
    expect(first.message).toContain('HTTP 500');
    await pager.enqueue(trigger(key), 'soc'); // Temporal's retry
    expect(sim.incidents.filter((i) => i.dedupKey === key)).toHaveLength(1);
    expect(sim.eventsFor(key)).toHaveLength(2);
  });

  test('a trigger that PagerDuty accepted but whose answer never came (timeout), retried, makes one incident', async () => {
    const pager = port({ timeoutMs: 500 });
    const key = newDedupKey();
    sim.failNext(1, { hang: true, process: true });
    const first = await failure(pager.enqueue(trigger(key), 'soc'));
    expect(first.type).toBe(UNAVAILABLE);
    expect(first.nonRetryable).toBe(false);
    expect(first.message).toContain('no answer within 500 ms');
    await pager.enqueue(trigger(key), 'soc');
    const incidents = sim.incidents.filter((i) => i.dedupKey === key);
    expect(incidents).toHaveLength(1);
    expect(incidents[0].history.map((h) => h.action)).toEqual(['trigger', 'trigger (deduplicated)']);
  });

  test('429 → retryable VendorRateLimited with nextRetryDelay from Retry-After (after pdjs’s own three retries)', async () => {
    const pager = port();
    const key = newDedupKey();
    sim.failNext(4, { status: 429, headers: { 'retry-after': '7' } });
    const before = sim.requests.length;
    const err = await failure(pager.enqueue(trigger(key), 'soc'));
    expect(err.type).toBe(RATE_LIMITED);
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(7_000);
    expect(sim.requests.length - before).toBe(4); // pdjs 2.2.4 retries a 429 three times by itself
    expect(sim.incidents.filter((i) => i.dedupKey === key)).toHaveLength(0);
  });

  test('a 429 that clears within pdjs’s own retries is delivered once', async () => {
    const pager = port();
    const key = newDedupKey();
    sim.failNext(1, { status: 429 });
    await pager.enqueue(trigger(key), 'soc');
    expect(sim.incidents.filter((i) => i.dedupKey === key)).toHaveLength(1);
  });

  test('invalid routing key → non-retryable VendorRejected, and the message does not carry the key', async () => {
    const unknownKey = randomBytes(16).toString('hex'); // well-formed (32 characters), not an integration
    const pager = port({ routingKey: unknownKey, routingKeys: {} });
    const err = await failure(pager.enqueue(trigger(newDedupKey())));
    expect(err.type).toBe(REJECTED);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('HTTP 400');
    expect(err.message).toContain('Invalid routing key');
    expect(JSON.stringify({ message: err.message, details: err.details, stack: err.stack })).not.toContain(unknownKey);
  });

  test('a vendor answer that quotes the routing key is scrubbed', async () => {
    const pager = port();
    sim.failNext(1, { status: 400, body: { status: 'invalid event', message: `Unknown integration ${sim.routingKeys.soc}`, errors: [`routing_key ${sim.routingKeys.soc}`] } });
    const err = await failure(pager.enqueue(trigger(newDedupKey()), 'soc'));
    expect(err.type).toBe(REJECTED);
    expect(err.message).not.toContain(sim.routingKeys.soc);
    expect(err.message).toContain('Unknown integration [routing key]');
  });

  test('a proxy’s HTML error page and a refused connection are unavailable (retryable)', async () => {
    sim.failNext(1, { status: 502, rawBody: '<html><body>502 Bad Gateway</body></html>' });
    const html = await failure(port().enqueue(trigger(newDedupKey())));
    expect(html.type).toBe(UNAVAILABLE);
    expect(html.nonRetryable).toBe(false);

    const refused = await failure(port({ eventsUrl: 'https://127.0.0.1:1' }).enqueue(trigger(newDedupKey())));
    expect(refused.type).toBe(UNAVAILABLE);
    expect(refused.message).toContain('ECONNREFUSED');
  });

  test('eventsUrl must be an https origin, as pdjs builds https://<host>/v2/enqueue', () => {
    expect(() => createPagerPort({ routingKey: 'k', eventsUrl: 'http://127.0.0.1:9' })).toThrow(/https:\/\/host/);
    expect(() => createPagerPort({ routingKey: 'k', eventsUrl: 'https://proxy.example/pagerduty' })).toThrow(/https:\/\/host/);
    expect(() => createPagerPort({ routingKey: 'k', eventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue' })).not.toThrow();
  });
});

describe('the PagerDuty simulator’s contract check', () => {
  let sim: PagerDutySimulator;
  beforeAll(async () => {
    sim = await startPagerDutySimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });

  test('a malformed event sent straight to the simulator is a violation and gets 400', async () => {
    const answer = await postRaw(sim, JSON.stringify({ routing_key: 'too-short', event_action: 'explode', payload: { summary: 5, source: 'x' } }));
    expect(answer.status).toBe(400);
    expect(sim.violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining('event_action must be equal to one of the allowed values'),
        expect.stringContaining("must have required property 'severity'"),
        expect.stringContaining('summary must be string'),
        expect.stringContaining('routing_key must be 32 characters'),
      ]),
    );
    const before = sim.violations.length;
    await postRaw(sim, JSON.stringify({ routing_key: sim.routingKeys.default, event_action: 'resolve' }));
    await postRaw(sim, JSON.stringify({ routing_key: sim.routingKeys.default, event_action: 'trigger', dedup_key: 'k' }));
    expect(sim.violations.slice(before)).toEqual([expect.stringContaining('dedup_key is required for resolve'), expect.stringContaining('payload is required for trigger')]);
    expect(sim.incidents).toHaveLength(0);
  });

  test('its answers are the documented ones', async () => {
    const validator = OpenApiValidator.load(PAGERDUTY_EVENTS_SPEC);
    expect([...validator.uncheckedFormats]).toEqual([]);
    const ok = await postRaw(sim, JSON.stringify({ routing_key: sim.routingKeys.default, event_action: 'trigger', payload: { summary: 's', source: 'warden', severity: 'info' } }));
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ status: 'success', message: 'Event processed' });
    expect(validator.validateResponse('POST', '/v2/enqueue', ok.status, ok.body)).toEqual([]);
    // no dedup_key on the trigger: the simulator made one, as PagerDuty does, and returned it
    expect(sim.incidents.at(-1)?.dedupKey).toBe((ok.body as { dedup_key: string }).dedup_key);
  });
});
