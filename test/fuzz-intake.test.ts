/**
 * A short property-based run over the intake (the long one belongs in bench/): whatever arrives —
 * malformed JSON, wrong types, huge or odd unicode fields, forged signatures, truncated MIME —
 * the answer is a clear 4xx (never a 5xx or a crash), and only accepted reports start cases.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { reportFromMail } from '../src/intake/mail-report';
import { createIntakeServer } from '../src/intake/server';
import { webhookSources } from '../src/intake/webhooks';
import { listenOnLoopback } from './support/server';
import { sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const SECRET = 'fuzz-secret';
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

describe('intake under hostile input', () => {
  let w: TestWarden;
  let server: Server;
  let base: string;
  const accepted = new Set<string>();
  const policy = testPolicy();

  beforeAll(async () => {
    w = await startWarden(policy);
    server = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, sources: webhookSources({ signedSecrets: [SECRET], toolToken: 'tool-token', alertmanagerToken: 'am-token' }) });
    base = await listenOnLoopback(server);
  });
  afterAll(async () => {
    await new Promise((ok) => server?.close(ok));
    await w?.stop();
  });

  async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const json = (await res.json()) as { error?: string; caseId?: string; reports?: { caseId: string }[] };
    if (res.status === 202) for (const id of json.caseId ? [json.caseId] : (json.reports ?? []).map((r) => r.caseId)) accepted.add(id);
    return { status: res.status, json };
  }
  const expectClearRefusal = (r: { status: number; json: { error?: string } }) => {
    expect(r.status).toBeLessThan(500);
    if (r.status !== 202) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(typeof r.json.error).toBe('string');
      expect(r.json.error!.length).toBeGreaterThan(0);
    }
  };

  test('arbitrary bytes and JSON on every route get a clear answer, never a 5xx', async () => {
    const routes = ['/webhooks/generic', '/webhooks/signed', '/webhooks/alertmanager', '/webhooks/guardduty', '/webhooks/ocsf', '/webhooks/defender', '/webhooks/splunk'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.json().map((j) => j), fc.string({ unit: 'binary', maxLength: 2_000 }), fc.uint8Array({ maxLength: 2_000 }).map((a) => Buffer.from(a))),
        async (route, body) => expectClearRefusal(await post(route, body as string | Buffer, route === '/webhooks/alertmanager' ? { authorization: 'Bearer am-token' } : { 'x-warden-token': 'tool-token' })),
      ),
      { numRuns: RUNS },
    );
  });

  test('reports with wrong types, huge fields and unicode edge cases are refused with reasons or accepted whole', async () => {
    const field = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 30_000 }), fc.integer(), fc.constant(null), fc.array(fc.string()), fc.object());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('title', 'description', 'source', 'reporter', 'assets', 'observedAt', 'indicators', 'users'), field, async (key, value) => {
        const r = await post('/webhooks/generic', JSON.stringify({ ...sampleReport(), [key]: value }));
        expectClearRefusal(r);
        if (r.status === 400) expect((r.json as { reasons: string[] }).reasons.some((reason) => reason.startsWith(key))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  test('forged, stale and replayed signatures are refused', async () => {
    const body = JSON.stringify(sampleReport());
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 64 }), fc.integer({ min: -100_000, max: 100_000 }), async (forged, skew) => {
        const ts = String(Math.floor(Date.now() / 1000) + skew);
        const r = await post('/webhooks/signed', body, { 'x-warden-timestamp': ts, 'x-warden-signature': `v1=${forged}` });
        expect(r.status).toBe(401);
      }),
      { numRuns: RUNS },
    );
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `v1=${createHmac('sha256', SECRET).update(`v1:${ts}:${body}`).digest('hex')}`;
    expect((await post('/webhooks/signed', body, { 'x-warden-timestamp': ts, 'x-warden-signature': sig })).status).toBe(202);
    expect((await post('/webhooks/signed', body, { 'x-warden-timestamp': ts, 'x-warden-signature': sig })).status).toBe(401);
  });

  test('truncated and mangled MIME never crashes the mail parser', async () => {
    const mail = [
      'From: Dana <dana@corp.example>',
      'To: security@corp.example',
      'Subject: FW: invoice',
      'Message-ID: <fw-1@corp.example>',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'Please look at this.',
      '--b1',
      'Content-Type: message/rfc822',
      '',
      'From: "Bank" <alerts@bank.example>',
      'Subject: Verify your account',
      '',
      'Click https://bank.example.evil.example/login now',
      '--b1--',
    ].join('\r\n');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: mail.length }), fc.string({ maxLength: 20 }), async (cut, junk) => {
        const parsed = await simpleParser(Buffer.from(mail.slice(0, cut) + junk));
        try {
          await reportFromMail(parsed, { mailbox: 'security@corp.example' });
        } catch (err) {
          // refusing a message is fine (it is flagged for a human); crashing with a non-Error is not
          expect(err).toBeInstanceOf(Error);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('nothing was started but the cases of accepted reports', async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    let started = 0;
    for await (const _ of w.client.workflow.list({ query: `TaskQueue = '${w.taskQueue}'` })) started++;
    expect(started).toBe(accepted.size);
  });
});
