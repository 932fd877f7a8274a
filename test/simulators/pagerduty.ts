/**
 * A loopback PagerDuty Events API v2 (`POST /v2/enqueue`) for connector tests.
 *
 * Every request is recorded and checked against PagerDuty's published OpenAPI document
 * (../shared/reference/pagerduty/events-v2.openapi.json) plus the rules PagerDuty documents but
 * the document does not encode: routing_key is 32 characters, dedup_key is required for
 * acknowledge and resolve and at most 255 characters, payload is required on trigger, its summary
 * is at most 1024 characters, image sources are https. A request that breaks any of them is a
 * contract violation: it is listed in `violations` and answered 400, as PagerDuty would.
 *
 * Alerts are kept per integration and dedup_key, the way PagerDuty keeps them: a trigger opens an
 * incident; a trigger with the same dedup_key while it is open updates it (no second incident);
 * acknowledge and resolve move it (triggered → acknowledged → resolved); acknowledge or resolve of
 * an unknown or resolved key is accepted and changes nothing; a trigger after resolve opens a new
 * incident. Routing keys not configured here are refused with 400 "Invalid routing key".
 *
 * PagerDuty's Events API is HTTPS only, and @pagerduty/pdjs always builds `https://<server>/v2/enqueue`,
 * so the simulator serves HTTPS on 127.0.0.1 with a self-signed certificate made at start-up
 * (`ca` is the PEM a client must trust).
 *
 * Faults: `failNext(n, fault)` answers the next n requests with a status (429 with Retry-After,
 * 500...), a non-JSON body, or a hang that outlasts the client's timeout; `process: true` makes
 * the simulator act on the event before failing, as when PagerDuty accepted it but the answer was lost.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { OpenApiValidator } from './openapi';

export const PAGERDUTY_EVENTS_SPEC = resolve(__dirname, '../../../shared/reference/pagerduty/events-v2.openapi.json');

export type PdAlertStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface PdIncident {
  /** Sequence number, 1-based, in the order incidents were opened. */
  number: number;
  /** The integration (service) the routing key belongs to, by the name given to the simulator. */
  service: string;
  dedupKey: string;
  status: PdAlertStatus;
  summary: string;
  severity: string;
  /** Every event that touched this incident, in order. */
  history: { action: string; at: string }[];
}

export interface PdRecordedRequest {
  at: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body (undefined when it was not JSON). */
  body: unknown;
  /** What the simulator answered (0 when it hung). */
  status: number;
  violations: string[];
}

export type PdFault =
  | { status: number; body?: unknown; headers?: Record<string, string>; process?: boolean }
  | { status: number; rawBody: string; contentType?: string; process?: boolean }
  | { hang: true; process?: boolean };

export interface PagerDutySimulator {
  /** Base URL, `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** PEM certificate of the simulator, for the client to trust. */
  readonly ca: string;
  /** Valid routing keys by service name (`default` unless others were asked for). */
  readonly routingKeys: Record<string, string>;
  readonly requests: PdRecordedRequest[];
  readonly violations: string[];
  readonly incidents: PdIncident[];
  /** Events (request bodies) that carried this dedup key, in arrival order. */
  eventsFor(dedupKey: string): Record<string, unknown>[];
  /** Answer the next `count` requests with `fault` instead of normally. */
  failNext(count: number, fault: PdFault): void;
  close(): Promise<void>;
}

export async function startPagerDutySimulator(options: { services?: string[] } = {}): Promise<PagerDutySimulator> {
  const validator = OpenApiValidator.load(PAGERDUTY_EVENTS_SPEC);
  const routingKeys: Record<string, string> = {};
  for (const service of options.services ?? ['default']) routingKeys[service] = randomBytes(16).toString('hex');
  const serviceOf = new Map(Object.entries(routingKeys).map(([service, key]) => [key, service]));
  const requests: PdRecordedRequest[] = [];
  const violations: string[] = [];
  const incidents: PdIncident[] = [];
  const open = new Map<string, PdIncident>(); // `${service}|${dedupKey}` → open incident
  const faults: PdFault[] = [];
  const { key, cert } = selfSignedCertificate();

  function handleEvent(event: Record<string, unknown>, service: string): string {
    const action = event.event_action as string;
    const at = new Date().toISOString();
    let dedupKey = event.dedup_key as string | undefined;
    if (action === 'trigger') {
      dedupKey ??= randomBytes(16).toString('hex');
      const payload = event.payload as { summary: string; severity: string };
      const current = open.get(`${service}|${dedupKey}`);
      if (current) {
        current.summary = payload.summary;
        current.history.push({ action: 'trigger (deduplicated)', at });
      } else {
        const incident: PdIncident = { number: incidents.length + 1, service, dedupKey, status: 'triggered', summary: payload.summary, severity: payload.severity, history: [{ action, at }] };
        incidents.push(incident);
        open.set(`${service}|${dedupKey}`, incident);
      }
      return dedupKey;
    }
    const current = open.get(`${service}|${dedupKey}`);
    if (current) {
      current.history.push({ action, at });
      if (action === 'acknowledge') current.status = 'acknowledged';
      if (action === 'resolve') {
        current.status = 'resolved';
        open.delete(`${service}|${dedupKey}`);
      }
    }
    return dedupKey as string;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    const record: PdRecordedRequest = { at: new Date().toISOString(), method: req.method ?? '', path, headers: req.headers, body: undefined, status: 0, violations: [] };
    requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const violate = (problems: string[]) => {
      record.violations.push(...problems);
      violations.push(...problems.map((p) => (p.startsWith(`${record.method} `) ? p : `${record.method} ${path}: ${p}`)));
    };

    if (req.method !== 'POST' || path !== '/v2/enqueue') {
      if (!validator.operation(req.method ?? '', path)) violate(['no such operation']);
      return answer(404, { status: 'Not found', message: 'Only POST /v2/enqueue is simulated' });
    }
    let event: Record<string, unknown> | undefined;
    try {
      record.body = JSON.parse(raw);
      event = record.body && typeof record.body === 'object' && !Array.isArray(record.body) ? (record.body as Record<string, unknown>) : undefined;
    } catch {
      // not JSON: reported below
    }
    if (!event) {
      violate(['body is not a JSON object']);
      return answer(400, { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] });
    }
    const problems = [
      ...validator.validateRequest({ method: 'POST', path, contentType: req.headers['content-type'], body: event }),
      ...documentedRules(event),
    ];
    if (problems.length) violate(problems);

    const fault = faults.shift();
    const valid = problems.length === 0;
    const service = typeof event.routing_key === 'string' ? serviceOf.get(event.routing_key) : undefined;
    if (fault) {
      if (fault.process && valid && service) handleEvent(event, service);
      if ('hang' in fault) return; // never answered; the client times out (close() drops the connection)
      record.status = fault.status;
      if ('rawBody' in fault) {
        res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'text/html' }).end(fault.rawBody);
        return;
      }
      return answer(fault.status, fault.body ?? defaultFaultBody(fault.status), fault.headers);
    }
    if (!valid) return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: problems.map((p) => p.replace(/^POST \/enqueue: /, '')) });
    if (!service) return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] });
    const dedupKey = handleEvent(event, service);
    return answer(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  }

  const server: Server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', message: String(err) }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    routingKeys,
    requests,
    violations,
    incidents,
    eventsFor: (dedupKey) =>
      requests.map((r) => r.body as Record<string, unknown>).filter((b) => b && typeof b === 'object' && b.dedup_key === dedupKey),
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** The rules PagerDuty's Events API documentation states and the OpenAPI document leaves out. */
function documentedRules(event: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof event.routing_key === 'string' && event.routing_key.length !== 32) problems.push('routing_key must be 32 characters');
  const action = event.event_action;
  if ((action === 'acknowledge' || action === 'resolve') && (typeof event.dedup_key !== 'string' || !event.dedup_key))
    problems.push(`dedup_key is required for ${action}`);
  if (typeof event.dedup_key === 'string' && event.dedup_key.length > 255) problems.push('dedup_key must be at most 255 characters');
  if (action === 'trigger' && event.payload === undefined) problems.push('payload is required for trigger');
  const payload = event.payload as Record<string, unknown> | undefined;
  if (payload && typeof payload.summary === 'string' && payload.summary.length > 1024) problems.push('payload.summary must be at most 1024 characters');
  for (const image of Array.isArray(event.images) ? (event.images as { src?: unknown }[]) : [])
    if (typeof image?.src === 'string' && !image.src.startsWith('https://')) problems.push('images[].src must be served over https');
  return problems;
}

function defaultFaultBody(status: number): unknown {
  if (status === 429) return { status: 'throttle exceeded', message: 'Too many events for this integration; retry later' };
  if (status >= 500) return { status: 'error', message: 'Internal server error' };
  return { status: 'invalid event', message: 'Event object is invalid', errors: [] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

// --- a self-signed certificate for 127.0.0.1 and localhost, built in DER with node:crypto ----

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  let length: Buffer;
  if (body.length < 0x80) length = Buffer.from([body.length]);
  else {
    const hex = body.length.toString(16);
    const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    length = Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const sequence = (...content: Buffer[]) => der(0x30, ...content);
const integer = (value: Buffer) => der(0x02, value[0] & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
const utcTime = (d: Date) => der(0x17, Buffer.from(`${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (let n of rest) {
    const group = [n & 0x7f];
    while ((n = Math.floor(n / 128)) > 0) group.unshift((n & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return der(0x06, Buffer.from(bytes));
}

function selfSignedCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from('warden-test-pagerduty')))));
  const algorithm = sequence(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const now = Date.now();
  const extensions = der(
    0xa3,
    sequence(
      sequence(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, sequence(der(0x01, Buffer.from([0xff]))))), // basicConstraints: CA
      sequence(oid('2.5.29.17'), der(0x04, sequence(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1]))))), // subjectAltName
    ),
  );
  // A positive serial with no leading zero byte (DER forbids the padding; 1 in 128 random serials had it).
  const serial = randomBytes(12);
  serial[0] = 1 + (serial[0] % 0x7f);
  const tbs = sequence(
    der(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name,
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 24 * 3600_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = (label: string, data: Buffer) => `-----BEGIN ${label}-----\n${data.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: pem('CERTIFICATE', certificate),
  };
}
