/** Metrics, structured logs with redaction, health and readiness: the intake over real HTTP, the worker's ports. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { dryRunConnectors, type ActivityDeps, type CaseSummary } from '../src/activities';
import { rateLimited, rejected, unavailable } from '../src/activities/failures';
import type { CaseView } from '../src/domain';
import type { ReportFiler } from '../src/intake/filing';
import { createIntakeServer } from '../src/intake/server';
import {
  countCases,
  createJsonLogger,
  formatLine,
  REDACTED,
  redact,
  redactText,
  startCaseGauges,
  startHealthServer,
  workerRegistry,
} from '../src/observability';
import { temporalLogger } from '../src/observability/runtime-log';
import { observedActivities } from '../src/worker';
import { freePort } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

/** The value of one series in Prometheus text ("name" and exact labels), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-zA-Z_]+=")/).filter(Boolean).sort().join(',');
    if (have === want) return Number(m[3]);
  }
  return 0;
}

const listen = async (server: Server) => {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server?: Server) => new Promise((ok) => (server ? server.close(ok) : ok(undefined)));

const summary = (caseId: string): CaseSummary => ({ caseId, title: 'Beaconing from laptop-1234', stage: 'escalated', severity: 'SEV2', evidenceCount: 1, escalated: true, assignees: [] });

test('SLA breaches and missed regulatory deadlines are counted by the case as they happen, escalating or not', async () => {
  const policy = testPolicy({
    slas: Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy: '1s', respondBy: '1m' }])),
    escalation: { responseTimeExceeded: false, regulatedData: false },
    regulatory: [{ id: 'gdpr-art33', name: 'GDPR Art. 33', dataClasses: ['personal'], deadline: '72h', clocks: [{ id: 'notify-authority', name: 'notify', due: '2s', owners: ['incident-commander'] }] }],
  });
  const w = await startWarden(policy);
  try {
    const before = await workerRegistry.metrics();
    const filed = await w.file(sampleReport({ dataClasses: ['personal'] }));
    const view = await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.slaBreaches.includes('acknowledge') && v.clocks[0]?.missedAt ? v : undefined;
    }, 'the breach and the missed deadline');
    expect(view.escalated).toBe(false); // this policy does not escalate on them: they are counted all the same
    const after = await workerRegistry.metrics();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('warden_sla_breaches_total', { clock: 'acknowledge', severity: view.severity! })).toBe(1);
    expect(delta('warden_regulatory_deadlines_missed_total', { regime: 'gdpr-art33' })).toBe(1);
  } finally {
    await w.stop();
  }
});

describe('observability', () => {
  let w: TestWarden;
  let server: Server;
  let base: string;
  const lines: string[] = [];
  const logger = createJsonLogger({ write: (line) => lines.push(line), fields: { component: 'intake' } });
  const policy = testPolicy();

  beforeAll(async () => {
    w = await startWarden(policy);
    server = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, logger });
    base = await listen(server);
  });
  afterAll(async () => {
    await close(server);
    await w?.stop();
  });

  const post = (url: string, body: string) => fetch(`${url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const scrape = async (url: string) => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  test('GET /metrics on the intake: accepted, deduplicated and refused counters move', async () => {
    const before = await scrape(base);
    const report = sampleReport();
    expect((await post(base, JSON.stringify(report))).status).toBe(202);
    expect((await post(base, JSON.stringify({ ...report, reporter: 'carol' }))).status).toBe(202);
    expect((await post(base, JSON.stringify({ title: 'no source, no reporter' }))).status).toBe(400);
    expect((await fetch(`${base}/webhooks/generic`)).status).toBe(405);
    const after = await scrape(base);

    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('warden_intake_reports_total', { source: 'generic', outcome: 'accepted' })).toBe(1);
    expect(delta('warden_intake_reports_total', { source: 'generic', outcome: 'deduplicated' })).toBe(1);
    expect(delta('warden_intake_refused_total', { source: 'generic', reason: 'invalid' })).toBe(1);
    expect(delta('warden_intake_refused_total', { source: 'generic', reason: 'method_not_allowed' })).toBe(1);
    expect(after).toMatch(/# TYPE warden_intake_reports_total counter/);
  });

  test('GET /readyz: 200 with Temporal up, 503 with a client pointed at a closed port', async () => {
    const up = await fetch(`${base}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ ready: true });

    // No retry interceptor: a retry scheduled past the probe's deadline would outlive connection.close() below.
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
    const down = createIntakeServer({ client: new Client({ connection }), policy, logger });
    const downBase = await listen(down);
    try {
      const started = Date.now();
      const res = await fetch(`${downBase}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ready: false, reason: expect.stringMatching(/^Temporal unreachable/) });
      expect(Date.now() - started).toBeLessThan(5_000);
      // Cached: a second probe answers at once, and liveness does not depend on Temporal.
      const again = Date.now();
      expect((await fetch(`${downBase}/readyz`)).status).toBe(503);
      expect(Date.now() - again).toBeLessThan(500);
      expect((await fetch(`${downBase}/healthz`)).status).toBe(200);
    } finally {
      await close(down);
      await connection.close();
    }
  });

  test.each([
    // (token-shaped strings are assembled at run time so that no secret-looking literal is committed)
    ['Slack bot token', `chat.postMessage failed with ${['xoxb', '1234567890', '0987654321', 'AbCdEfGhIjKl'].join('-')}`, ['xoxb', '1234567890'].join('-')],
    ['Slack app token', 'socket mode xapp-1-A0123-456-abcdef', 'xapp-1-A0123'],
    ['bearer header', 'GET /incidents Authorization: Bearer sk_live_abcdef123456', 'sk_live_abcdef123456'],
    ['lower-case bearer', 'sent bearer abc.def-ghi_jkl', 'abc.def-ghi_jkl'],
    ['basic header', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['SMTP URL password', 'connect smtp://warden:s3cr3t-pass@mail.example.com:587 failed', 's3cr3t-pass'],
    ['HTTPS URL password', 'proxy https://user:hunter2@proxy.internal/ refused', 'hunter2'],
    ['query token', 'POST /webhooks/splunk?token=abc123def456&x=1', 'abc123def456'],
    ['password assignment', 'login failed password=correct-horse', 'correct-horse'],
    ['JSON secret', '{"client_secret": "very-secret-value", "ok": true}', 'very-secret-value'],
    ['JWT', 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3YXJkZW4ifQ.c2lnbmF0dXJl expired', 'eyJhbGciOiJIUzI1NiJ9'],
  ])('redaction masks a %s', (_what, text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  test('redaction masks secret-named keys, keeps everything else', () => {
    const out = redact({
      token: 'abc',
      password: 'p',
      clientSecret: 's',
      apiKey: 'k',
      routing_key: 'r',
      headers: { Authorization: 'whatever', Cookie: 'sid=1', 'x-request-id': 'req-1' },
      caseId: 'WRD-ABCDEF123456',
      count: 3,
      nested: [{ session_token: 't' }],
      note: 'plain text stays',
    });
    expect(out).toEqual({
      token: REDACTED,
      password: REDACTED,
      clientSecret: REDACTED,
      apiKey: REDACTED,
      routing_key: REDACTED,
      headers: { Authorization: REDACTED, Cookie: REDACTED, 'x-request-id': 'req-1' },
      caseId: 'WRD-ABCDEF123456',
      count: 3,
      nested: [{ session_token: REDACTED }],
      note: 'plain text stays',
    });
    const line = JSON.parse(formatLine('warn', 'with smtp://u:pw@host', { err: new Error('xoxb-1-2-3 rejected'), message: 'kept aside' }));
    expect(line).toMatchObject({ level: 'warn', message: `with smtp://u:${REDACTED}@host`, 'field.message': 'kept aside' });
    expect(JSON.stringify(line)).not.toMatch(/xoxb-1-2-3|pw@/);
    expect(new Date(line.time).toString()).not.toBe('Invalid Date');
  });

  test('an intake error that quotes a token is logged as one JSON line, masked', async () => {
    const failing = { file: async () => Promise.reject(new Error(`upstream said invalid_auth for ${['xoxb', '1111', '2222', 'SECRETSECRET'].join('-')} (Authorization: Bearer abc.def.ghi)`)) };
    const broken = createIntakeServer({ client: w.client, policy, filer: failing as unknown as ReportFiler, logger });
    const brokenBase = await listen(broken);
    try {
      const before = await scrape(brokenBase);
      lines.length = 0;
      const res = await post(brokenBase, JSON.stringify(sampleReport()));
      expect(res.status).toBe(503);
      const after = await scrape(brokenBase);
      expect(sample(after, 'warden_intake_refused_total', { source: 'generic', reason: 'unavailable' }) - sample(before, 'warden_intake_refused_total', { source: 'generic', reason: 'unavailable' })).toBe(1);
    } finally {
      await close(broken);
    }
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ level: 'error', message: 'intake error', component: 'intake', path: '/webhooks/generic' });
    expect(typeof entry.time).toBe('string');
    expect(entry.error).toContain(REDACTED);
    expect(lines[0]).not.toMatch(/SECRETSECRET|abc\.def\.ghi/);
  });

  test('vendor outcome counters move with each outcome a port gives; escalations and SLA breaches count', async () => {
    const outbox = join(mkdtempSync(join(tmpdir(), 'warden-obs-')), 'outbox.jsonl');
    const dry = dryRunConnectors(outbox);
    let slackFailure: Error = rejected('slack', 'chat.postMessage', 'channel_not_found');
    const deps: ActivityDeps = {
      ...dry,
      slack: { ...dry.slack, postCard: async () => Promise.reject(slackFailure) },
      mail: { send: async () => Promise.reject(new TypeError('socket hang up')) },
    };
    const acts = observedActivities(deps);
    const value = async (vendor: string, outcome: string) => sample(await workerRegistry.metrics(), 'warden_vendor_calls_total', { vendor, outcome });
    const before = {
      rejected: await value('slack', 'rejected'),
      rateLimited: await value('slack', 'rate_limited'),
      unavailable: await value('slack', 'unavailable'),
      pagerOk: await value('pagerduty', 'ok'),
      mailError: await value('mail', 'error'),
    };
    const card = { card: { ...summary('WRD-000000000001'), signOff: [] }, channel: '#sec', revision: 1 };
    await expect(acts.publishCaseCard(card)).rejects.toThrow(/channel_not_found/);
    slackFailure = rateLimited('slack', 'chat.postMessage', 1_000);
    await expect(acts.publishCaseCard(card)).rejects.toThrow(/rate limited/);
    slackFailure = unavailable('slack', 'chat.postMessage', 'HTTP 503');
    await expect(acts.publishCaseCard(card)).rejects.toThrow(/HTTP 503/);
    await acts.pageOnCall({ summary: summary('WRD-000000000001'), action: 'trigger' });
    await expect(acts.notifyReporters({ caseId: 'WRD-000000000001', title: 't', reporters: [{ id: 'a@example.com' }], notice: 'received', text: 'x' })).rejects.toThrow(/socket hang up/);

    expect((await value('slack', 'rejected')) - before.rejected).toBe(1);
    expect((await value('slack', 'rate_limited')) - before.rateLimited).toBe(1);
    expect((await value('slack', 'unavailable')) - before.unavailable).toBe(1);
    expect((await value('pagerduty', 'ok')) - before.pagerOk).toBe(1);
    expect((await value('mail', 'error')) - before.mailError).toBe(1);

    // The worker's health server serves the same registry.
    let ready: boolean | string = true;
    const health = await startHealthServer({ port: 0, registry: workerRegistry, ready: () => ready });
    try {
      const metricsBefore = await (await fetch(`${health.url}/metrics`)).text();
      await acts.postEscalationSummary({
        summary: summary('WRD-000000000002'),
        channel: '#sec',
        escalation: 1,
        triggers: ['response-time-exceeded: acknowledge deadline 2026-01-01T00:00:00.000Z passed (1m ago)'],
        timeline: [],
      });
      // The worker's Runtime logger: the activity's log line comes out as JSON, the key in its cause masked.
      const workerLines: string[] = [];
      const workerLogger = temporalLogger(createJsonLogger({ write: (line) => workerLines.push(line), fields: { component: 'worker' } }));
      const alert = { caseId: 'WRD-000000000002', what: 'declare incident', cause: 'incident.io rejected the request (api_key=inc_live_0123456789)' };
      await new MockActivityEnvironment(undefined, { logger: workerLogger }).run(acts.alertOperators, alert);
      await new MockActivityEnvironment({ attempt: 2 }, { logger: workerLogger }).run(acts.alertOperators, alert); // a retry is not a new alert
      expect(workerLines).toHaveLength(2);
      expect(JSON.parse(workerLines[0])).toMatchObject({ level: 'error', message: 'operator alert', component: 'worker', caseId: 'WRD-000000000002', attempt: 1 });
      expect(workerLines.join('\n')).not.toContain('inc_live_0123456789');
      const metricsAfter = await (await fetch(`${health.url}/metrics`)).text();
      const delta = (name: string, labels: Record<string, string>) => sample(metricsAfter, name, labels) - sample(metricsBefore, name, labels);
      expect(delta('warden_escalations_total', { severity: 'SEV2' })).toBe(1);
      expect(delta('warden_operator_alerts_total', { what: 'declare incident' })).toBe(1);
      expect(delta('warden_vendor_calls_total', { vendor: 'slack', outcome: 'rejected' })).toBe(0);
      expect(metricsAfter).toMatch(/warden_vendor_calls_total\{vendor="slack",outcome="rejected"\} \d+/);

      expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${health.url}/readyz`)).status).toBe(200);
      ready = 'worker DRAINING';
      const draining = await fetch(`${health.url}/readyz`);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toEqual({ ready: false, reason: 'worker DRAINING' });
    } finally {
      await health.close();
    }
    expect(health.server.listening).toBe(false);
  });

  test('case gauges: open cases by stage and severity, over a worker-style connection', async () => {
    const filed = await w.file(sampleReport());
    const native = await NativeConnection.connect({ address: process.env.WARDEN_TEST_TEMPORAL_ADDRESS! });
    try {
      const client = new Client({ connection: native });
      const filter = `TaskQueue = '${w.taskQueue}'`;
      const counts = await eventually(async () => {
        const c = await countCases(client, filter);
        const total = [...c.values()].reduce((a, b) => a + b, 0);
        return total >= 1 ? c : undefined;
      }, 'the open case in the count');
      expect([...counts.keys()].every((k) => /^[a-z-]+\|(SEV[1-4]|none)$/.test(k))).toBe(true);

      const gauges = startCaseGauges(client, { filter, intervalMs: 60_000 });
      try {
        await gauges.refresh();
        const text = await workerRegistry.metrics();
        const open = text
          .split('\n')
          .filter((l) => l.startsWith('warden_cases{'))
          .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
        expect(open).toBeGreaterThanOrEqual(1);
        expect(text).toMatch(/warden_cases\{stage="responding",severity="SEV1"\} \d+/);
      } finally {
        gauges.stop();
      }
    } finally {
      await native.close();
    }
    expect(filed.caseId).toMatch(/^WRD-/);
  });
});
