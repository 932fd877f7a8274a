/**
 * The tool webhooks over real HTTP into the real Temporal server: each vendor's real sample
 * payload (../shared/reference/alerts) is posted, and what reaches the case is read back from
 * the case view. Refused requests (401, 400, 413) are checked to start nothing, through
 * visibility.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { CaseView, Report } from '../src/domain';
import type { FilingResult } from '../src/intake/filing';
import { HttpError } from '../src/intake/http';
import { createIntakeServer } from '../src/intake/server';
import { signWebhook, splunkSource, webhookSources } from '../src/intake/webhooks';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const ALERTS = resolve(__dirname, '../../shared/reference/alerts');
const sample = (path: string): Buffer => readFileSync(resolve(ALERTS, path));
const sampleJson = (path: string): any => JSON.parse(sample(path).toString('utf8'));
const sha256 = (body: Buffer | string) => createHash('sha256').update(body).digest('hex');

const SECRETS = {
  signedSecrets: ['signing-secret-old', 'signing-secret-new'],
  alertmanagerToken: 'alertmanager-token',
  toolToken: 'tool-token',
  splunkToken: 'splunk-token',
};

interface Answer {
  status: number;
  body: { reports?: FilingResult[]; error?: string; reasons?: string[] };
}

describe('tool webhooks', () => {
  let w: TestWarden;
  const policy = testPolicy();
  /** Every source configured with the test secrets. */
  let server: Server;
  let base: string;
  /** No secrets: only Splunk is explicitly opened; every other source must refuse. */
  let openServer: Server;
  let openBase: string;

  async function listen(s: Server): Promise<string> {
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    w = await startWarden(policy);
    server = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, sources: webhookSources(SECRETS) });
    openServer = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, sources: webhookSources({ allowUnauthenticated: ['splunk'] }) });
    base = await listen(server);
    openBase = await listen(openServer);
  });
  afterAll(async () => {
    await new Promise((ok) => server?.close(ok));
    await new Promise((ok) => openServer?.close(ok));
    await w?.stop();
  });

  async function post(path: string, body: Buffer | string, headers: Record<string, string> = {}, at = base): Promise<Answer> {
    const res = await fetch(`${at}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  }
  const json = (value: unknown) => JSON.stringify(value);
  const tool = { 'x-warden-token': SECRETS.toolToken };
  const bearer = { authorization: `Bearer ${SECRETS.alertmanagerToken}` };

  /** The case view once it holds `reports` reports. */
  async function caseView(caseId: string, reports = 1): Promise<CaseView & { firstReport: Report }> {
    return eventually(async () => {
      const view = (await w.view(caseId)) as CaseView;
      return view.firstReport && view.evidenceCount >= reports ? (view as CaseView & { firstReport: Report }) : undefined;
    }, `case ${caseId} with ${reports} report(s)`);
  }

  /** The one report filed by an accepted request, and its case. */
  async function filedOne(answer: Answer): Promise<{ filed: FilingResult; view: CaseView & { firstReport: Report } }> {
    expect(answer.status).toBe(202);
    expect(answer.body.reports).toHaveLength(1);
    const filed = answer.body.reports![0];
    return { filed, view: await caseView(filed.caseId) };
  }

  /** Cases started on this test's task queue since `since` (visibility settles within a second here). */
  async function casesStartedSince(since: Date): Promise<number> {
    await new Promise((r) => setTimeout(r, 1_000));
    let n = 0;
    for await (const _ of w.client.workflow.list({ query: `TaskQueue = '${w.taskQueue}' AND StartTime > '${since.toISOString()}'` })) n++;
    return n;
  }

  function expectRefused(answer: Answer, status: number, error?: string | RegExp): void {
    expect(answer.status).toBe(status);
    if (error !== undefined) expect(answer.body.error).toMatch(error);
  }
  const reasonsOf = (answer: Answer) => (answer.body.reasons ?? []).join('\n');

  // -------------------------------------------------------------------------------------------

  describe('signed generic webhook', () => {
    const signed = (body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) => ({
      'x-warden-timestamp': String(timestamp),
      'x-warden-signature': `v1=${signWebhook(secret, timestamp, body)}`,
    });

    test('a correctly signed report is filed, with either secret during rotation', async () => {
      const report = sampleReport({ source: 'siem', reporter: 'siem-forwarder' });
      const body = json(report);
      const { filed, view } = await filedOne(await post('/webhooks/signed', body, signed(body, 'signing-secret-old')));
      expect(filed.deduplicated).toBe(false);
      expect(view.title).toBe(report.title);
      expect(view.assets).toEqual(['laptop-1234']);
      expect(view.indicators.ips).toEqual(['203.0.113.9']);
      expect(view.firstReport).toMatchObject({ source: 'siem', reporter: 'siem-forwarder', raw: { sha256: sha256(body) } });

      const other = json(sampleReport());
      const rotated = await filedOne(await post('/webhooks/signed', other, signed(other, 'signing-secret-new')));
      expect(rotated.view.firstReport.raw?.sha256).toBe(sha256(other));
    });

    test('forged, tampered, stale, future, replayed and unsigned requests get 401 and start nothing', async () => {
      const body = json(sampleReport());
      const now = Math.floor(Date.now() / 1000);
      const headers = signed(body, 'signing-secret-old', now);
      await filedOne(await post('/webhooks/signed', body, headers));

      const since = new Date();
      expectRefused(await post('/webhooks/signed', body, headers), 401, 'replayed request');
      const fresh = json(sampleReport());
      expectRefused(await post('/webhooks/signed', fresh, signed(fresh, 'not-the-secret')), 401, 'invalid signature');
      expectRefused(await post('/webhooks/signed', fresh.replace('laptop-1234', 'laptop-9999'), signed(fresh, 'signing-secret-old')), 401, 'invalid signature');
      expectRefused(await post('/webhooks/signed', fresh, signed(fresh, 'signing-secret-old', now - 301)), 401, 'stale timestamp');
      // (measured now: the filing above took seconds, and "now + 301" from before it is inside the window)
      expectRefused(await post('/webhooks/signed', fresh, signed(fresh, 'signing-secret-old', Math.floor(Date.now() / 1000) + 302)), 401, 'stale timestamp');
      expectRefused(await post('/webhooks/signed', fresh), 401, /missing X-Warden-Timestamp/);
      expectRefused(await post('/webhooks/signed', fresh, { 'x-warden-timestamp': String(now) }), 401, /missing X-Warden-Signature/);
      expectRefused(await post('/webhooks/signed', fresh, { ...signed(fresh, 'signing-secret-old'), 'x-warden-signature': 'v1=zz' }), 401, 'invalid signature');
      // The sources of a server without secrets refuse, rather than accept unsigned reports.
      expectRefused(await post('/webhooks/signed', fresh, signed(fresh, 'signing-secret-old'), openBase), 401, 'not configured');
      expect(await casesStartedSince(since)).toBe(0);
      // The same query does see a case that was started: the zero above is not blindness.
      await filedOne(await post('/webhooks/signed', fresh, signed(fresh, 'signing-secret-new')));
      expect(await casesStartedSince(since)).toBe(1);
    });

    test('a signed body that is not a valid report gets 400 with the reasons', async () => {
      const since = new Date();
      const body = json({ title: 'x', assets: 'db-1' });
      const answer = await post('/webhooks/signed', body, signed(body, 'signing-secret-new'));
      expectRefused(answer, 400, 'invalid report');
      expect(answer.body.reasons).toEqual(expect.arrayContaining(['source: Required', 'assets: Expected array, received string']));
      const notJson = '{"title": ';
      expectRefused(await post('/webhooks/signed', notJson, signed(notJson, 'signing-secret-new')), 400, 'body is not valid JSON');
      expect(await casesStartedSince(since)).toBe(0);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('Prometheus Alertmanager', () => {
    test('a firing group of two alerts files two reports, each its own case', async () => {
      const raw = sample('prometheus-alertmanager/example-firing.json');
      const answer = await post('/webhooks/alertmanager', raw, bearer);
      expect(answer.status).toBe(202);
      expect(answer.body.reports).toHaveLength(2);
      const [a, b] = answer.body.reports!;
      expect(a.caseId).not.toBe(b.caseId);

      const first = await caseView(a.caseId);
      expect(first.title).toBe('More than 50 failed SSH logins in 5m on bastion-01');
      expect(first.assets).toEqual(['bastion-01']);
      expect(first.firstReport).toMatchObject({
        source: 'alertmanager',
        reporter: 'alertmanager:security-orchestrator',
        externalId: '5f3c2a9d1e7b4c60',
        fingerprint: 'alertmanager:{}/{team="secops"}:{alertname="SSHBruteForce"}|SSHBruteForce|bastion-01:9100',
        observedAt: '2025-03-14T09:21:30.512Z',
        raw: { sha256: sha256(raw) },
      });
      expect(first.firstReport.description).toMatch(/^sshd on bastion-01 recorded 212 failed password attempts/);

      const second = await caseView(b.caseId);
      expect(second.title).toBe('More than 50 failed SSH logins in 5m on bastion-02');
      expect(second.assets).toEqual(['bastion-02']);
      expect(second.firstReport).toMatchObject({ externalId: 'a81d04c7e29f3b15', observedAt: '2025-03-14T09:22:00.101Z' });
    });

    test('a resolved group files nothing; bad tokens get 401, malformed payloads 400 with the reasons', async () => {
      const since = new Date();
      const resolved = await post('/webhooks/alertmanager', sample('prometheus-alertmanager/example-resolved.json'), bearer);
      expect(resolved).toEqual({ status: 202, body: { reports: [] } });

      const firing = sample('prometheus-alertmanager/example-firing.json');
      expectRefused(await post('/webhooks/alertmanager', firing), 401, 'missing token');
      expectRefused(await post('/webhooks/alertmanager', firing, { authorization: 'Bearer wrong-token' }), 401, 'invalid token');
      expectRefused(await post('/webhooks/alertmanager', firing, { authorization: `Basic ${Buffer.from(`x:${SECRETS.alertmanagerToken}`).toString('base64')}` }), 401);
      expectRefused(await post('/webhooks/alertmanager', firing, bearer, openBase), 401, 'not configured');

      const broken = sampleJson('prometheus-alertmanager/example-firing.json');
      broken.version = '3';
      broken.alerts[0].labels.instance = 9100;
      broken.alerts[1].startsAt = 'yesterday';
      delete broken.receiver;
      const answer = await post('/webhooks/alertmanager', json(broken), bearer);
      expectRefused(answer, 400, 'invalid Alertmanager webhook');
      const reasons = reasonsOf(answer);
      expect(reasons).toMatch(/^version: expected webhook payload version "4"$/m);
      expect(reasons).toMatch(/^receiver: Required$/m);
      expect(reasons).toMatch(/^alerts\.0\.labels\.instance: Expected string, received number$/m);
      expect(reasons).toMatch(/^alerts\.1\.startsAt: an RFC 3339 timestamp/m);
      expectRefused(await post('/webhooks/alertmanager', '{"alerts": [', bearer), 400, 'body is not valid JSON');
      expect(await casesStartedSince(since)).toBe(0);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('AWS GuardDuty via EventBridge', () => {
    const envelope = (detail: unknown) => ({ ...sampleJson('aws-guardduty/eventbridge-event-iam.json'), detail });

    test('an EventBridge event and a bare finding are filed with the finding mapped', async () => {
      const raw = sample('aws-guardduty/eventbridge-event-iam.json');
      const { view } = await filedOne(await post('/webhooks/guardduty', raw, tool));
      expect(view.title).toBe('Reconnaissance API GeneratedFindingAPIName was invoked from an IP address on a custom threat list.');
      expect(view.assets).toEqual(['i-99999999', 'GeneratedFindingUserName']);
      expect(view.indicators).toEqual({ ips: ['198.51.100.0'], domains: [], urls: [], hashes: [] });
      expect(view.firstReport).toMatchObject({
        source: 'guardduty',
        reporter: 'guardduty:123456789012/us-east-1',
        users: ['GeneratedFindingUserName'],
        dataClasses: [],
        externalId: '30bf285e52a1e405084ff6ec28e06e17',
        fingerprint: 'guardduty:30bf285e52a1e405084ff6ec28e06e17',
        observedAt: '2022-01-13T00:00:47.000Z',
        raw: { sha256: sha256(raw) },
      });
      expect(view.firstReport.description).toMatch(/Recon:IAMUser\/MaliciousIPCaller\.Custom, severity 5 \(Medium\)/);

      const s3 = await filedOne(await post('/webhooks/guardduty', sample('aws-guardduty/finding-detail-s3.json'), tool));
      expect(s3.view.title).toBe('API GeneratedFindingAPIName was invoked from a remote host potentially running Parrot Security Linux.');
      expect(s3.view.assets).toEqual(expect.arrayContaining(['bucketName', 'GeneratedFindingUserName']));
      expect(s3.view.firstReport).toMatchObject({ externalId: '2cbf285e52a6e74ff96f4cb3cf93296d', dataClasses: [] });
    });

    test('the same finding posted twice is one case with two reports', async () => {
      const body = json(envelope(sampleJson('aws-guardduty/finding-detail-ec2.json')));
      const first = await filedOne(await post('/webhooks/guardduty', body, tool));
      expect(first.filed.deduplicated).toBe(false);
      const again = await post('/webhooks/guardduty', body, tool);
      expect(again.status).toBe(202);
      expect(again.body.reports![0]).toMatchObject({ caseId: first.filed.caseId, deduplicated: true });
      const view = await caseView(first.filed.caseId, 2);
      expect(view.evidenceCount).toBe(2);
      expect(view.title).toBe('Canary:EC2/Stateless.IntegTest');
      expect(view.assets).toEqual(['i-05746eb48123455e0']);
      // The sample's remote address is the unspecified 0.0.0.0: no indicator.
      expect(view.indicators.ips).toEqual([]);
      expect(view.firstReport.observedAt).toBe('2017-10-31T23:16:23.000Z');
    });

    test('another event type, a finding without id and a missing token are refused; nothing starts', async () => {
      const since = new Date();
      const raw = sample('aws-guardduty/eventbridge-event-iam.json');
      expectRefused(await post('/webhooks/guardduty', raw), 401, 'missing token');
      expectRefused(await post('/webhooks/guardduty', raw, { 'x-warden-token': 'nope' }), 401, 'invalid token');
      expectRefused(await post('/webhooks/guardduty', raw, tool, openBase), 401, 'not configured');

      const other = { ...sampleJson('aws-guardduty/eventbridge-event-iam.json'), 'detail-type': 'AWS API Call via CloudTrail' };
      const wrongType = await post('/webhooks/guardduty', json(other), tool);
      expectRefused(wrongType, 400, 'invalid GuardDuty event');
      expect(reasonsOf(wrongType)).toMatch(/^detail-type: expected "GuardDuty Finding"$/m);

      const finding = sampleJson('aws-guardduty/finding-detail-ec2.json');
      delete finding.id;
      finding.resource.s3BucketDetails = 'bucket';
      const noId = await post('/webhooks/guardduty', json(envelope(finding)), tool);
      expectRefused(noId, 400, 'invalid GuardDuty event');
      expect(reasonsOf(noId)).toMatch(/^detail\.id: Required$/m);
      expect(reasonsOf(noId)).toMatch(/^detail\.resource\.s3BucketDetails: Expected array, received string$/m);
      expect(await casesStartedSince(since)).toBe(0);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('OCSF Detection Finding', () => {
    const SAMPLE = 'ocsf/examples/securityhub-guardduty.detection_finding.ocsf-1.1.0.json';

    test('a detection finding is filed; observables become checked indicators', async () => {
      const raw = sample(SAMPLE);
      const { view } = await filedOne(await post('/webhooks/ocsf', raw, tool));
      const uid = 'arn:aws:guardduty:us-east-2:111111111111:detector/1ac1bfceda6679698215d5d0EXAMPLE/finding/a6c556fcbc9bea427a19f8b787099a0b';
      expect(view.title).toBe('AWS CloudTrail trail arn:aws:cloudtrail:us-east-2:111111111111:trail/delete-me was disabled.');
      expect(view.assets).toEqual(['AWS::IAM::AccessKey:ASIATMJPC7EXAMPLE']);
      expect(view.indicators).toEqual({ ips: ['52.94.133.131'], domains: [], urls: [], hashes: [] });
      expect(view.firstReport).toMatchObject({
        source: 'ocsf',
        reporter: 'ocsf:Amazon GuardDuty',
        externalId: uid,
        fingerprint: `ocsf:${uid}`,
        observedAt: '2023-09-19T15:05:22.487Z',
        raw: { sha256: sha256(raw) },
      });
      expect(view.firstReport.description).toMatch(/^AWS CloudTrail trail .* was disabled by Admin calling DeleteTrail/);

      const finding = sampleJson(SAMPLE);
      finding.finding_info.uid = `${finding.finding_info.uid}-variant`;
      finding.device = { type_id: 1, hostname: 'web-01.corp.example' };
      finding.observables.push(
        { type_id: 1, value: 'Evil.Example.' },
        { type_id: 6, value: 'https://evil.example/login' },
        { type_id: 8, value: 'D41D8CD98F00B204E9800998ECF8427E' },
        { type_id: 2, value: '999.1.1.1' },
        { type_id: 6, value: 'javascript:alert(1)' },
        { type_id: 8, value: 'not-a-hash' },
        { type_id: 4, value: 'Admin' },
      );
      const variant = await filedOne(await post('/webhooks/ocsf', json(finding), tool));
      expect(variant.view.assets).toEqual(['AWS::IAM::AccessKey:ASIATMJPC7EXAMPLE', 'web-01.corp.example']);
      expect(variant.view.indicators).toEqual({
        ips: ['52.94.133.131'],
        domains: ['evil.example'],
        urls: ['https://evil.example/login'],
        hashes: ['d41d8cd98f00b204e9800998ecf8427e'],
      });
    });

    test('a Close files nothing; wrong class, inconsistent or missing required fields get 400; nothing starts', async () => {
      const since = new Date();
      const close = { ...sampleJson(SAMPLE), activity_id: 3, activity_name: 'Close', type_uid: 200403 };
      expect(await post('/webhooks/ocsf', json(close), tool)).toEqual({ status: 202, body: { reports: [] } });

      const wrongClass = await post('/webhooks/ocsf', json({ ...sampleJson(SAMPLE), class_uid: 2001 }), tool);
      expectRefused(wrongClass, 400, 'invalid OCSF Detection Finding');
      expect(reasonsOf(wrongClass)).toMatch(/^class_uid: expected 2004 \(Detection Finding\)$/m);

      const inconsistent = await post('/webhooks/ocsf', json({ ...sampleJson(SAMPLE), type_uid: 200402 }), tool);
      expect(reasonsOf(inconsistent)).toMatch(/^type_uid: expected 200401/m);

      const broken = sampleJson(SAMPLE);
      delete broken.finding_info.uid;
      broken.time = '2023-09-19T11:05:22Z';
      delete broken.metadata.version;
      broken.metadata.profiles.push('osint');
      const answer = await post('/webhooks/ocsf', json(broken), tool);
      expectRefused(answer, 400);
      const reasons = reasonsOf(answer);
      expect(reasons).toMatch(/^finding_info\.uid: Required$/m);
      expect(reasons).toMatch(/^time: Expected number, received string$/m);
      expect(reasons).toMatch(/^metadata\.version: Required$/m);

      const noOsint = sampleJson(SAMPLE);
      noOsint.metadata.profiles.push('osint');
      expect(reasonsOf(await post('/webhooks/ocsf', json(noOsint), tool))).toMatch(/^osint: Required by the osint profile/m);
      const noCloud = sampleJson(SAMPLE);
      delete noCloud.cloud;
      expect(reasonsOf(await post('/webhooks/ocsf', json(noCloud), tool))).toMatch(/^cloud: Required by the cloud profile/m);

      expectRefused(await post('/webhooks/ocsf', json([sampleJson(SAMPLE), { class_uid: 2004 }]), tool), 400);
      expectRefused(await post('/webhooks/ocsf', sample(SAMPLE)), 401, 'missing token');
      expectRefused(await post('/webhooks/ocsf', sample(SAMPLE), tool, openBase), 401, 'not configured');
      expect(await casesStartedSince(since)).toBe(0);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('Splunk webhook alert action', () => {
    const SAVED = 'splunk/webhook-alert-action.example.json';
    const UNSAVED = 'splunk/webhook-alert-action.unsaved-search.example.json';

    test('a saved and an unsaved search alert are filed (source opened explicitly, no token)', async () => {
      const raw = sample(SAVED);
      const { view } = await filedOne(await post('/webhooks/splunk', raw, {}, openBase));
      const sid = 'scheduler__secops__search__RMD5a1b2c3d4e5f60718_at_1710408060_4211';
      expect(view.title).toBe('Brute Force Access Behavior Detected');
      expect(view.assets).toEqual(['vpn-gw-01']);
      expect(view.indicators).toEqual({ ips: ['203.0.113.77'], domains: [], urls: [], hashes: [] });
      expect(view.firstReport).toMatchObject({
        source: 'splunk',
        reporter: 'splunk:search/secops',
        users: ['jdoe'],
        externalId: sid,
        fingerprint: 'splunk:Brute Force Access Behavior Detected|vpn-gw-01',
        observedAt: '2024-03-14T09:21:30.000Z',
        raw: { sha256: sha256(raw) },
      });
      expect(view.firstReport.description).toMatch(/^Mar 14 09:21:30 vpn-gw-01 sshd\[21877\]: Failed password for jdoe/);

      const before = Date.now();
      const unsaved = await filedOne(await post('/webhooks/splunk', sample(UNSAVED), {}, openBase));
      expect(unsaved.view.title).toBe('Splunk alert');
      expect(unsaved.view.assets).toEqual([]);
      expect(unsaved.view.firstReport).toMatchObject({ externalId: 'rt_md_1710408123.77', fingerprint: 'splunk:sid|rt_md_1710408123.77' });
      // No _time in the result: observed "now".
      expect(Date.parse(unsaved.view.firstReport.observedAt)).toBeGreaterThanOrEqual(before - 1_000);
    });

    test('with a token configured, a request without the right ?token= gets 401 and starts nothing', async () => {
      const since = new Date();
      const raw = sample(SAVED);
      expectRefused(await post('/webhooks/splunk', raw), 401, 'missing token');
      expectRefused(await post('/webhooks/splunk?token=wrong', raw), 401);
      const broken = await post('/webhooks/splunk', json({ result: [], sid: 42 }), {}, openBase);
      expectRefused(broken, 400, 'invalid Splunk webhook');
      expect(reasonsOf(broken)).toMatch(/^result: Expected object, received array$/m);
      expect(reasonsOf(broken)).toMatch(/^sid: Expected string, received number$/m);
      expect(await casesStartedSince(since)).toBe(0);
    });

    test('the token is read from the request URL and compared', async () => {
      // Directly on the source: the URL is the third argument of parse.
      const source = splunkSource({ token: ['splunk-token-new', SECRETS.splunkToken] });
      const raw = sample(SAVED);
      const url = (token?: string) => new URL(`http://intake/webhooks/splunk${token === undefined ? '' : `?token=${token}`}`);
      const [report] = await source.parse(raw, {}, url(SECRETS.splunkToken));
      expect(report).toMatchObject({ title: 'Brute Force Access Behavior Detected', raw: { sha256: sha256(raw) } });
      expect((await source.parse(raw, {}, url('splunk-token-new'))).length).toBe(1);
      const refusal = async (u?: URL) => {
        try {
          await source.parse(raw, {}, u);
        } catch (err) {
          return err as HttpError;
        }
        throw new Error('accepted');
      };
      expect(await refusal(url('wrong'))).toMatchObject({ status: 401, message: 'invalid token' });
      expect(await refusal(url())).toMatchObject({ status: 401, message: 'missing token' });
      expect(await refusal(undefined)).toMatchObject({ status: 401, message: 'missing token' });
      expect(await refusal(url())).toBeInstanceOf(HttpError);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('Microsoft Graph security alert (alerts_v2)', () => {
    const SAMPLE = 'microsoft/graph-security-alert-v2.example.json';

    test('the Defender alert is filed; recommended actions keep their U+FFFD bullets', async () => {
      const raw = sample(SAMPLE);
      const { view } = await filedOne(await post('/webhooks/defender', raw, tool));
      expect(view.title).toBe('Suspicious execution of hidden file');
      expect(view.assets).toEqual(['tempDns']);
      expect(view.indicators).toEqual({ ips: [], domains: [], urls: [], hashes: ['8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec'] });
      expect(view.firstReport).toMatchObject({
        source: 'defender',
        reporter: 'defender:microsoftDefenderForEndpoint',
        users: [], // the process ran as SYSTEM: process evidence, not an affected user
        externalId: 'da637578995287051192_756343937',
        fingerprint: 'defender:da637578995287051192_756343937',
        observedAt: '2021-04-26T07:45:50.116Z',
        raw: { sha256: sha256(raw) },
      });
      // The category is the alert's source type, for the policy's table; no hint of the adapter's own.
      expect(view.firstReport).toMatchObject({ sourceType: 'DefenseEvasion', sourceTypes: ['microsoftDefenderForEndpoint/DefenseEvasion', 'technique:T1564.001'] });
      expect(view.firstReport.categoryHint).toBeUndefined();
      expect(view.firstReport.description).toContain('Recommended actions:\nCollect artifacts and determine scope\n\uFFFD\tReview the machine timeline');
      expect(view.firstReport.description).toContain('at the organization\uFFFDs perimeter.');
    });

    test('a Graph list answer: long text is clipped, evidence mapped, the category carried as the source type', async () => {
      const alert = sampleJson(SAMPLE);
      alert.id = `${alert.id}-variant`;
      alert.providerAlertId = `${alert.providerAlertId}-variant`;
      alert.category = 'CredentialAccess';
      // Another alert, not the sample's file seen again: a shared file hash would fold it into the sample's case (one campaign).
      alert.evidence = JSON.parse(JSON.stringify(alert.evidence).replace(/"(sha1|sha256|md5)":"[0-9a-f]+"/gi, (_m: string, k: string) => `"${k}":"${createHash(k.toLowerCase()).update(`variant-${Date.now()}`).digest('hex')}"`));
      alert.title = `Sign-in from a password spray ${'x'.repeat(400)}`;
      alert.description = 'd'.repeat(30_000);
      alert.evidence.push(
        { '@odata.type': '#microsoft.graph.security.userEvidence', userAccount: { accountName: 'jdoe', userPrincipalName: 'jdoe@corp.example' } },
        { '@odata.type': '#microsoft.graph.security.userEvidence', userAccount: { accountName: 'svc-backup', userPrincipalName: null } },
        { '@odata.type': '#microsoft.graph.security.ipEvidence', ipAddress: '203.0.113.50' },
        { '@odata.type': '#microsoft.graph.security.ipEvidence', ipAddress: 'not-an-ip' },
        { '@odata.type': '#microsoft.graph.security.urlEvidence', url: 'https://login.evil.example/x' },
        { '@odata.type': '#microsoft.graph.security.urlEvidence', url: 'javascript:alert(1)' },
        { '@odata.type': '#microsoft.graph.security.someFutureEvidence', anything: true },
      );
      const { view } = await filedOne(await post('/webhooks/defender', json({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2', value: [alert] }), tool));
      expect(view.title).toHaveLength(300);
      expect(view.title.endsWith('…')).toBe(true);
      expect(view.firstReport.description).toHaveLength(20_000);
      expect(view.indicators).toMatchObject({ ips: ['203.0.113.50'], urls: ['https://login.evil.example/x'] });
      expect(view.firstReport).toMatchObject({
        users: ['jdoe@corp.example', 'svc-backup'],
        sourceType: 'CredentialAccess',
        fingerprint: 'defender:da637578995287051192_756343937-variant',
      });
    });

    test('malformed alerts get 400 with the reasons, oversized bodies 413, missing tokens 401; nothing starts', async () => {
      const since = new Date();
      const raw = sample(SAMPLE);
      expectRefused(await post('/webhooks/defender', raw), 401, 'missing token');
      expectRefused(await post('/webhooks/defender', raw, tool, openBase), 401, 'not configured');

      const broken = sampleJson(SAMPLE);
      delete broken.id;
      broken.evidence[0].deviceDnsName = 42;
      const answer = await post('/webhooks/defender', json(broken), tool);
      expectRefused(answer, 400, 'invalid Graph security alert');
      expect(reasonsOf(answer)).toMatch(/^id: Required$/m);
      expect(reasonsOf(answer)).toMatch(/^evidence\.0\.deviceDnsName: Expected string, received number$/m);

      const badItem = await post('/webhooks/defender', json({ value: [sampleJson(SAMPLE), { title: 'no id' }] }), tool);
      expect(reasonsOf(badItem)).toMatch(/^value\.1\.id: Required$/m);
      expectRefused(await post('/webhooks/defender', json({ ...sampleJson(SAMPLE), evidence: 'none' }), tool), 400);
      expectRefused(await post('/webhooks/defender', '{"id": ', tool), 400, 'body is not valid JSON');

      const huge = sampleJson(SAMPLE);
      huge.description = 'x'.repeat(2 * 1024 * 1024);
      expectRefused(await post('/webhooks/defender', json(huge), tool), 413);
      expect(await casesStartedSince(since)).toBe(0);
    });
  });
});
