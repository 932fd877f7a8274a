/**
 * The evidence store (src/evidence/store.ts): content addressing, idempotent put, tamper detection,
 * on a directory and on a real S3-compatible server (moto_server on loopback, installed by
 * scripts/moto); the storeEvidence activity; the filer storing each report before it is
 * signalled; `warden evidence`.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { createActivities, dryRunConnectors } from '../src/activities';
import { createEvidenceActivities } from '../src/activities/evidence';
import { isStoredEvidenceCommand, reportEvidence, renderReportEvidence, runStoredEvidenceCommand } from '../src/cli-evidence';
import { evidenceConfig } from '../src/config';
import type { CaseView, Report } from '../src/domain';
import { canonicalJson, CanonicalJsonError } from '../src/evidence/canonical';
import {
  EvidenceIntegrityError,
  type EvidenceMeta,
  type EvidenceRef,
  type EvidenceStore,
  evidenceStoreFromConfig,
  FileEvidenceStore,
  S3EvidenceStore,
} from '../src/evidence/store';
import { ReportFiler, toReport } from '../src/intake/filing';
import { workflowIdFor } from '../src/workflows/definitions';
import { createJsonLogger } from '../src/observability/log';
import { freePort, ROOT } from './support/server';
import { eventually, sampleReport, startWarden, testPolicy } from './support/warden';

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const META: EvidenceMeta = { caseId: 'WRD-TEST', kind: 'report', contentType: 'application/json' };
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('canonical JSON', () => {
  test('one text per value: keys sorted at every depth, no whitespace, undefined left out', () => {
    const a = canonicalJson({ b: 1, a: { d: [3, undefined, 'x'], c: null }, e: undefined });
    const b = canonicalJson({ a: { c: null, d: [3, undefined, 'x'] }, b: 1 });
    expect(a).toBe('{"a":{"c":null,"d":[3,null,"x"]},"b":1}');
    expect(b).toBe(a);
    expect(canonicalJson({ at: new Date('2026-01-02T03:04:05.000Z'), s: 'é\n"' })).toBe('{"at":"2026-01-02T03:04:05.000Z","s":"é\\n\\""}');
  });

  test('a value JSON cannot carry faithfully is refused, not rewritten', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(10n)).toThrow(CanonicalJsonError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow('cycle');
    expect(() => canonicalJson(undefined)).toThrow(CanonicalJsonError);
  });
});

describe('FileEvidenceStore', () => {
  test('round trip: keyed by the SHA-256 of the bytes, at <dir>/<aa>/<sha256>, mode 0600', async () => {
    const dir = tempDir('warden-evidence-');
    const store = new FileEvidenceStore(dir);
    const body = Buffer.from('{"title":"phish"}');
    const ref = await store.put(body, META);
    expect(ref).toEqual({ sha256: sha(body), bytes: body.length, store: 'file' });
    const path = join(dir, ref.sha256.slice(0, 2), ref.sha256);
    expect(store.pathFor(ref.sha256)).toBe(path);
    expect(readFileSync(path)).toEqual(body);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await store.get(ref.sha256)).toEqual(body);
    expect(await store.get(ref.sha256.toUpperCase())).toEqual(body);
  });

  test('put is idempotent: the same bytes give the same ref and the file is not written again', async () => {
    const dir = tempDir('warden-evidence-');
    const store = new FileEvidenceStore(dir);
    const body = Buffer.from('same bytes');
    const first = await store.put(body, META);
    const path = store.pathFor(first.sha256);
    const before = statSync(path);
    await new Promise((r) => setTimeout(r, 20));
    const again = await Promise.all([store.put(Buffer.from('same bytes'), { kind: 'other', contentType: 'text/plain' }), store.put(body, META)]);
    expect(again).toEqual([first, first]);
    const after = statSync(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    // Nothing but the body in its shard: no temporary files left behind.
    expect(readdirSync(join(dir, first.sha256.slice(0, 2)))).toEqual([first.sha256]);
  });

  test('a body changed where it is kept is detected on read, and put does not paper over it', async () => {
    const store = new FileEvidenceStore(tempDir('warden-evidence-'));
    const body = Buffer.from('{"reporter":"alice"}');
    const ref = await store.put(body, META);
    writeFileSync(store.pathFor(ref.sha256), '{"reporter":"mallory"}');
    const read = store.get(ref.sha256);
    await expect(read).rejects.toThrow(EvidenceIntegrityError);
    await expect(store.get(ref.sha256)).rejects.toThrow(`evidence ${ref.sha256} in ${store.pathFor(ref.sha256)} is damaged or was tampered with: its stored body hashes to ${sha('{"reporter":"mallory"}')}`);
    await store.put(body, META);
    await expect(store.get(ref.sha256)).rejects.toThrow(EvidenceIntegrityError);
  });

  test('a body never stored is undefined; a key that is not a SHA-256 is refused', async () => {
    const store = new FileEvidenceStore(tempDir('warden-evidence-'));
    expect(await store.get(sha('never stored'))).toBeUndefined();
    await expect(store.get('../../etc/passwd')).rejects.toThrow('not a SHA-256');
    await expect(store.get(`${sha('x').slice(0, 63)}g`)).rejects.toThrow('not a SHA-256');
  });

  test('the configuration: file by default under .data/evidence, WARDEN_EVIDENCE_DIR elsewhere; bad settings are errors', () => {
    expect(evidenceConfig({})).toEqual({ kind: 'file', dir: resolve(ROOT, '.data/evidence') });
    expect(evidenceConfig({ WARDEN_EVIDENCE_STORE: 'file', WARDEN_EVIDENCE_DIR: '/var/lib/warden/evidence' })).toEqual({ kind: 'file', dir: '/var/lib/warden/evidence' });
    expect(evidenceStoreFromConfig({ kind: 'file', dir: '/tmp/x' })).toBeInstanceOf(FileEvidenceStore);
    expect(() => evidenceConfig({ WARDEN_EVIDENCE_STORE: 'ftp' })).toThrow('WARDEN_EVIDENCE_STORE must be file or s3 (got "ftp")');
    expect(() => evidenceConfig({ WARDEN_EVIDENCE_STORE: 's3' })).toThrow('needs WARDEN_EVIDENCE_S3_BUCKET');
    expect(() => evidenceConfig({ WARDEN_EVIDENCE_STORE: 's3', WARDEN_EVIDENCE_S3_BUCKET: 'b-1', WARDEN_EVIDENCE_S3_ENDPOINT: 'minio:9000' })).toThrow('must be an http:// or https:// URL');
    expect(evidenceConfig({ WARDEN_EVIDENCE_STORE: 's3', WARDEN_EVIDENCE_S3_BUCKET: 'evidence', AWS_REGION: 'eu-west-1' })).toEqual({
      kind: 's3',
      bucket: 'evidence',
      region: 'eu-west-1',
      forcePathStyle: false,
    });
  });
});

describe('S3EvidenceStore against moto_server on loopback', () => {
  let moto: ChildProcess | undefined;
  let endpoint: string;
  const bucket = 'warden-evidence-test';
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  let raw: S3Client;

  beforeAll(async () => {
    // scripts/moto finds or installs moto[server] (pinned, tools/moto); it fails loudly when it cannot.
    let bin: string;
    try {
      bin = execFileSync(resolve(ROOT, 'scripts/moto'), ['path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (err) {
      throw new Error(`moto_server is not available, so the S3 evidence store cannot be tested: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
    }
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    const log = join(tmpdir(), `warden-moto-${port}.log`);
    moto = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    moto.stderr?.on('data', (chunk) => (stderr = `${stderr}${chunk}`.slice(-4_000)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (moto.exitCode !== null) throw new Error(`moto_server exited with ${moto.exitCode}: ${stderr}`);
      try {
        if ((await fetch(`${endpoint}/moto-api/`)).status < 500) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`moto_server did not start on ${endpoint} (log ${log}): ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    raw = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    raw?.destroy();
    if (moto && moto.exitCode === null) {
      const exited = new Promise((r) => moto!.once('exit', r));
      moto.kill('SIGTERM');
      await exited;
    }
  });

  const storeFor = () => new S3EvidenceStore({ bucket, endpoint, region: 'us-east-1', forcePathStyle: true, credentials });

  test('round trip: key sha256/<sha256>, with its ChecksumSHA256, content type and metadata', async () => {
    const store = storeFor();
    // The upload's headers as sent: moto takes x-amz-checksum-sha256 but neither checks nor returns
    // it (AWS S3 does both), so the test checks that the store sends it.
    const uploads: Record<string, string>[] = [];
    store.client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; headers?: Record<string, string> };
        if (request.method === 'PUT') uploads.push({ ...request.headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordUploads' },
    );
    const body = Buffer.from(canonicalJson({ title: 'phish', reporter: 'alice' }));
    const ref = await store.put(body, META);
    expect(ref).toEqual({ sha256: sha(body), bytes: body.length, store: `s3://${bucket}` });
    expect(await store.get(ref.sha256)).toEqual(body);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({ 'x-amz-checksum-sha256': Buffer.from(ref.sha256, 'hex').toString('base64'), 'content-type': 'application/json' });
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `sha256/${ref.sha256}` }));
    expect(head.ContentType).toBe('application/json');
    expect(head.ContentLength).toBe(body.length);
    expect(head.Metadata).toEqual({ kind: 'report', 'case-id': 'WRD-TEST' });
  });

  test('put is idempotent: the same bytes give the same ref, and no second upload', async () => {
    const store = storeFor();
    const body = Buffer.from(`idempotent ${Date.now()}`);
    const first = await store.put(body, META);
    const sent: string[] = [];
    const send = store.client.send.bind(store.client);
    jest.spyOn(store.client, 'send').mockImplementation(((command: { constructor: { name: string } }, ...rest: unknown[]) => {
      sent.push(command.constructor.name);
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as never);
    expect(await store.put(Buffer.from(body), META)).toEqual(first);
    expect(sent).toEqual(['HeadObjectCommand']);
  });

  test('an object replaced in the bucket is detected on read; a key never stored is undefined', async () => {
    const store = storeFor();
    const body = Buffer.from('{"reporter":"alice"}');
    const ref = await store.put(body, META);
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `sha256/${ref.sha256}`, Body: '{"reporter":"mallory"}', ContentType: 'application/json' }));
    await expect(store.get(ref.sha256)).rejects.toThrow(EvidenceIntegrityError);
    await expect(store.get(ref.sha256)).rejects.toThrow(`evidence ${ref.sha256} in s3://${bucket}/sha256/${ref.sha256} is damaged or was tampered with`);
    expect(await store.get(sha('never stored in s3'))).toBeUndefined();
  });

  test('from the configuration, with the credentials from the standard AWS environment', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    try {
      const config = evidenceConfig({ WARDEN_EVIDENCE_STORE: 's3', WARDEN_EVIDENCE_S3_BUCKET: bucket, WARDEN_EVIDENCE_S3_ENDPOINT: endpoint, WARDEN_EVIDENCE_S3_REGION: 'us-east-1' });
      expect(config).toEqual({ kind: 's3', bucket, endpoint, region: 'us-east-1', forcePathStyle: true });
      const store = evidenceStoreFromConfig(config);
      expect(store).toBeInstanceOf(S3EvidenceStore);
      const ref = await store.put(Buffer.from('from config'), META);
      expect(await store.get(ref.sha256)).toEqual(Buffer.from('from config'));
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});

describe('the storeEvidence activity', () => {
  test('stores the canonical JSON of the payload and returns its ref; createActivities registers it', async () => {
    const store = new FileEvidenceStore(tempDir('warden-evidence-'));
    const payload = { title: 'phish', nested: { b: 2, a: 1 } };
    const ref = await createEvidenceActivities(store).storeEvidence({ caseId: 'WRD-1', kind: 'report', payload });
    expect(ref).toEqual({ sha256: sha(canonicalJson(payload)), bytes: Buffer.byteLength(canonicalJson(payload)), store: 'file' });
    expect(JSON.parse((await store.get(ref.sha256))!.toString('utf8'))).toEqual(payload);

    const activities = createActivities({ ...dryRunConnectors(join(tempDir('warden-outbox-'), 'outbox.jsonl')), evidence: store });
    expect(await activities.storeEvidence({ caseId: 'WRD-1', kind: 'report', payload: { nested: { a: 1, b: 2 }, title: 'phish' } })).toEqual(ref);
    await expect(activities.storeEvidence({ caseId: 'WRD-1', kind: 'report', payload: undefined })).rejects.toMatchObject({ type: 'EvidenceNotJson', nonRetryable: true });
  });
});

/** A store that fails (or hangs) on put: the filer must file the report all the same. */
class BrokenStore implements EvidenceStore {
  puts = 0;
  constructor(private readonly how: 'throw' | 'hang') {}
  put(): Promise<EvidenceRef> {
    this.puts += 1;
    return this.how === 'throw' ? Promise.reject(new Error('evidence store down')) : new Promise<EvidenceRef>(() => undefined);
  }
  async get(): Promise<Buffer | undefined> {
    return undefined;
  }
}

describe('the filer stores every report before it is signalled', () => {
  let client: Client;
  let connection: Connection;
  const taskQueue = `warden-evidence-test-${process.pid}-${Date.now()}`; // no worker: the signals stay in history to read
  const started: string[] = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.WARDEN_TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  afterAll(async () => {
    await Promise.all(started.map((id) => client.workflow.getHandle(id).terminate('evidence test done').catch(() => undefined)));
    await connection?.close();
  });

  /** The reports the case's signals carried, from its history. */
  async function signalled(caseId: string): Promise<Report[]> {
    const history = await client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
    return (history.events ?? []).flatMap((e) =>
      (e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []).flatMap((p) => defaultPayloadConverter.fromPayload<Report[]>(p)),
    );
  }

  test('the report carries the ref of its full canonical JSON, as filed', async () => {
    const store = new FileEvidenceStore(tempDir('warden-evidence-'));
    const filer = new ReportFiler(client, testPolicy(), taskQueue, { evidence: store });
    const report = toReport(sampleReport({ title: 'evidence: a phishing mail with a link', indicators: { urls: ['https://login.example-phish.test/a'] } }));
    const filed = await filer.file({ ...report, evidence: { sha256: sha('forged'), bytes: 1, store: 'file' } });
    started.push(filed.workflowId);
    const [sent] = await signalled(filed.caseId);
    expect(sent.reportId).toBe(report.reportId);
    expect(sent.evidence).toBeDefined();
    expect(sent.evidence).not.toMatchObject({ sha256: sha('forged') }); // the filer's to set
    const body = (await store.get(sent.evidence!.sha256))!;
    const { evidence, ...asFiled } = sent;
    expect(body.toString('utf8')).toBe(canonicalJson(asFiled));
    expect(evidence).toEqual({ sha256: sha(body), bytes: body.length, store: 'file' });
    expect(asFiled.campaign?.length).toBeGreaterThan(0); // stored as filed, with the anchors the filer set
    expect(filer.stats).toMatchObject({ evidenceStored: 1, evidenceFailures: 0 });
  });

  test('a batch: every report stored, one signal', async () => {
    const store = new FileEvidenceStore(tempDir('warden-evidence-'));
    const filer = new ReportFiler(client, testPolicy(), taskQueue, { evidence: store });
    const template = sampleReport({ title: 'evidence: one case, many reporters' });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => filer.file(toReport({ ...template, reporter: `r${i}` }))));
    started.push(results[0].workflowId);
    const sent = await signalled(results[0].caseId);
    expect(sent).toHaveLength(20);
    for (const r of sent) expect((await store.get(r.evidence!.sha256))!.toString('utf8')).toBe(canonicalJson({ ...r, evidence: undefined }));
    expect(filer.stats.evidenceStored).toBe(20);
    expect(filer.stats.signals).toBeLessThan(20);
  });

  test.each(['throw', 'hang'] as const)('a store that fails (%s) does not lose the report: tried three times, then filed without a ref, with a warning', async (how) => {
    const store = new BrokenStore(how);
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (line) => lines.push(line) });
    const filer = new ReportFiler(client, testPolicy(), taskQueue, { evidence: store, logger, evidenceTimeoutMs: 200 });
    const report = toReport(sampleReport({ title: `evidence: the store is down (${how})` }));
    const filed = await filer.file(report);
    started.push(filed.workflowId);
    const [sent] = await signalled(filed.caseId);
    expect(sent.reportId).toBe(report.reportId);
    expect(sent.evidence).toBeUndefined();
    expect(store.puts).toBe(3);
    expect(filer.stats).toMatchObject({ evidenceStored: 0, evidenceFailures: 1 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', message: 'report filed without its evidence ref: the evidence store did not take it', caseId: filed.caseId, reportId: report.reportId, attempts: 3 });
  });
});

describe('warden evidence', () => {
  const run = promisify(execFile);
  const WARDEN = resolve(__dirname, '../bin/warden');
  async function warden(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(WARDEN, args, { env: { ...process.env, TEMPORAL_ADDRESS: process.env.WARDEN_TEST_TEMPORAL_ADDRESS, ...env } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  test('<sha256>: the body, pretty JSON, verified; raw when not JSON; a tampered body or none exits 1', async () => {
    const dir = tempDir('warden-evidence-');
    const store = new FileEvidenceStore(dir);
    const json = await store.put(Buffer.from(canonicalJson({ title: 'phish', assets: ['laptop-1'] })), META);
    const text = await store.put(Buffer.from('not json at all\n'), { kind: 'note', contentType: 'text/plain' });
    const env = { WARDEN_EVIDENCE_STORE: 'file', WARDEN_EVIDENCE_DIR: dir };

    const shown = await warden(env, 'evidence', json.sha256);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(`${JSON.stringify({ assets: ['laptop-1'], title: 'phish' }, null, 2)}\n`);
    expect(shown.stderr).toContain(`verified: the body matches SHA-256 ${json.sha256} (${json.bytes} bytes, file ${dir})`);
    const asJson = JSON.parse((await warden(env, 'evidence', json.sha256.toUpperCase(), '--json')).stdout);
    expect(asJson).toEqual({ sha256: json.sha256, bytes: json.bytes, store: `file ${dir}`, verified: true, json: { assets: ['laptop-1'], title: 'phish' } });
    expect((await warden(env, 'evidence', text.sha256)).stdout).toBe('not json at all\n');

    writeFileSync(store.pathFor(json.sha256), '{"title":"something else"}');
    const tampered = await warden(env, 'evidence', json.sha256);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toBe('');
    expect(tampered.stderr).toContain(`error: evidence ${json.sha256} in ${store.pathFor(json.sha256)} is damaged or was tampered with`);
    const missing = await warden(env, 'evidence', sha('never stored'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: no evidence ${sha('never stored')} in the evidence store (file ${dir})`);
  });

  test('--case on a real case: its reports with the refs the filer stored', async () => {
    const w = await startWarden();
    try {
      const dir = tempDir('warden-evidence-');
      const filer = new ReportFiler(w.client, testPolicy(), w.taskQueue, { evidence: new FileEvidenceStore(dir) });
      const template = sampleReport({ title: 'evidence: two reports on one case' });
      const [first, second] = [toReport(template), toReport({ ...template, reporter: 'second-reporter' })];
      const filed = await filer.file(first);
      await filer.file(second);
      await eventually(async () => (((await w.view(filed.caseId)) as CaseView).evidenceCount === 2 ? true : undefined), 'both reports on the case');
      const listed = await warden({ WARDEN_EVIDENCE_DIR: dir }, 'evidence', '--case', filed.caseId, '--json');
      expect(listed.stderr).toBe('');
      const out = JSON.parse(listed.stdout) as { caseId: string; reportCount: number; reports: { reportId: string; evidence?: EvidenceRef }[] };
      expect(out).toMatchObject({ caseId: filed.caseId, reportCount: 2 });
      expect(out.reports.map((r) => r.reportId)).toEqual([first.reportId, second.reportId]);
      // The first report is kept in full, so its ref is there whatever the case's evidence entries carry.
      const ref = out.reports[0].evidence!;
      expect(ref).toMatchObject({ store: 'file' });
      const body = await warden({ WARDEN_EVIDENCE_DIR: dir }, 'evidence', ref.sha256);
      expect(JSON.parse(body.stdout)).toMatchObject({ reportId: first.reportId, title: template.title });
      // Whether each later report's entry carries its ref is the case workflow's to record (EvidenceEntry.evidence).
      if (out.reports[1].evidence) expect(out.reports[1].evidence.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await w.stop();
    }
  });

  test('--case: the reports and their refs, from the case view (first report and evidence entries)', async () => {
    const ref = (s: string): EvidenceRef => ({ sha256: sha(s), bytes: s.length, store: 'file' });
    const view = {
      caseId: 'WRD-ABC',
      evidenceCount: 4,
      firstReport: { reportId: 'r1', source: 'mailbox', receivedAt: '2026-01-01T00:00:00.000Z', evidence: ref('one') },
      evidence: [
        { reportId: 'r1', source: 'mailbox', receivedAt: '2026-01-01T00:00:00.000Z', evidence: ref('one') },
        { reportId: 'r3', source: 'slack', receivedAt: '2026-01-01T00:02:00.000Z', evidence: ref('three') },
        { reportId: 'r4', source: 'edr', receivedAt: '2026-01-01T00:03:00.000Z' },
        { reportId: 'r5', source: 'edr', receivedAt: '2026-01-01T00:04:00.000Z', evidence: { sha256: 'nope' } },
      ],
    } as unknown as CaseView;
    const rows = reportEvidence(view);
    expect(rows).toEqual([
      { reportId: 'r1', source: 'mailbox', receivedAt: '2026-01-01T00:00:00.000Z', evidence: ref('one') },
      { reportId: 'r3', source: 'slack', receivedAt: '2026-01-01T00:02:00.000Z', evidence: ref('three') },
      { reportId: 'r4', source: 'edr', receivedAt: '2026-01-01T00:03:00.000Z' },
      { reportId: 'r5', source: 'edr', receivedAt: '2026-01-01T00:04:00.000Z' },
    ]);
    expect(renderReportEvidence(view, rows).split('\n')).toEqual([
      `REPORT  SOURCE   RECEIVED                  SHA256${' '.repeat(58)}  BYTES`,
      `r1      mailbox  2026-01-01T00:00:00.000Z  ${sha('one')}  3`,
      `r3      slack    2026-01-01T00:02:00.000Z  ${sha('three')}  5`,
      `r4      edr      2026-01-01T00:03:00.000Z  - (not in the evidence store)${' '.repeat(35)}  -`,
      `r5      edr      2026-01-01T00:04:00.000Z  - (not in the evidence store)${' '.repeat(35)}  -`,
    ]);
    expect(renderReportEvidence({ ...view, evidenceCount: 9 } as CaseView, rows)).toContain('(4 of 9 reports: the case keeps its first and its most recent ones)');

    const printed: unknown[] = [];
    const code = await runStoredEvidenceCommand(['evidence'], { case: 'WRD-ABC', json: true }, () => ({ show: async () => view }), (data) => printed.push(data));
    expect(code).toBe(0);
    expect(printed).toEqual([{ caseId: 'WRD-ABC', reportCount: 4, reports: rows }]);
    expect(isStoredEvidenceCommand(['evidence', 'verify', 'WRD-ABC'], {})).toBe(false); // the custody commands stay cli-incident's
    expect(isStoredEvidenceCommand(['evidence', sha('x')], {})).toBe(true);
  });
});
