/**
 * Encrypted case data: the AES-256-GCM payload codec (round trip, key rotation, tampering,
 * unknown keys), a case on a file-backed Temporal server whose database never holds the
 * report's text in the clear, and the Web UI's codec server (CORS, token, decode).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type FailureConverter, type Payload } from '@temporalio/common';
import { codecFromEnv, createCodecServer, EncryptionCodec, parseCodecKeys } from '../src/codec';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { CaseView } from '../src/domain';
import { acknowledgeUpdate, signOffUpdate } from '../src/workflows/definitions';
import { wardenDataConverter } from '../src/temporal';
import { type DevServer, startDevServer } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

const newKey = (id: string) => ({ id, key: randomBytes(32) });
const str = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);

describe('payload codec', () => {
  test('round trip: the whole payload, metadata included, is encrypted and restored', async () => {
    const codec = new EncryptionCodec([newKey('k1')]);
    const original = payloadOf({ description: 'lateral movement from host-42', n: 7 });
    const [encrypted] = await codec.encode([original]);
    expect(str(encrypted.metadata?.encoding)).toBe('binary/encrypted');
    expect(str(encrypted.metadata?.['encryption-key-id'])).toBe('k1');
    expect(Object.keys(encrypted.metadata ?? {}).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(Buffer.from(encrypted.data!).includes(Buffer.from('lateral movement'))).toBe(false);
    expect(Buffer.from(encrypted.data!).includes(Buffer.from('json/plain'))).toBe(false);
    const [decoded] = await codec.decode([encrypted]);
    expect(str(decoded.metadata?.encoding)).toBe('json/plain');
    expect(valueOf(decoded)).toEqual({ description: 'lateral movement from host-42', n: 7 });
    // Two encryptions of one payload differ (fresh IV each time).
    const [again] = await codec.encode([original]);
    expect(Buffer.from(again.data!).equals(Buffer.from(encrypted.data!))).toBe(false);
  });

  test('key rotation: the new first key encrypts, the old key still decrypts', async () => {
    const old = newKey('2025-01');
    const fresh = newKey('2025-06');
    const [before] = await new EncryptionCodec([old]).encode([payloadOf('written before rotation')]);
    const rotated = new EncryptionCodec([fresh, old]);
    expect(valueOf((await rotated.decode([before]))[0])).toBe('written before rotation');
    const [after] = await rotated.encode([payloadOf('written after rotation')]);
    expect(str(after.metadata?.['encryption-key-id'])).toBe('2025-06');
    expect(valueOf((await rotated.decode([after]))[0])).toBe('written after rotation');
    // A process that only has the old key cannot read what the new key wrote.
    await expect(new EncryptionCodec([old]).decode([after])).rejects.toThrow(/key "2025-06", which is not in WARDEN_CODEC_KEYS/);
  });

  test('a tampered ciphertext, tag or key id fails authentication', async () => {
    const key = newKey('k1');
    const codec = new EncryptionCodec([key, newKey('k2')]);
    const [encrypted] = await codec.encode([payloadOf('evidence')]);
    for (const index of [0, 12, encrypted.data!.length - 1]) {
      const data = new Uint8Array(encrypted.data!);
      data[index] ^= 0x01;
      await expect(codec.decode([{ ...encrypted, data }])).rejects.toThrow(/failed authentication/);
    }
    // The key id is authenticated data: relabelling the payload with another known key fails too.
    const relabelled = { ...encrypted, metadata: { ...encrypted.metadata, 'encryption-key-id': Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/);
    await expect(codec.decode([{ ...encrypted, data: encrypted.data!.subarray(0, 20) }])).rejects.toThrow(/too short/);
  });

  test('an unknown key id fails clearly; unencrypted payloads pass through', async () => {
    const [encrypted] = await new EncryptionCodec([newKey('gone')]).encode([payloadOf('x')]);
    await expect(new EncryptionCodec([newKey('k1')]).decode([encrypted])).rejects.toThrow(
      'encrypted payload uses key "gone", which is not in WARDEN_CODEC_KEYS (known: k1)',
    );
    const plain = payloadOf('written before encryption was turned on');
    expect(await new EncryptionCodec([newKey('k1')]).decode([plain])).toEqual([plain]);
  });

  test('WARDEN_CODEC_KEYS: parsing, validation, and no keys meaning no encryption', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    expect(parseCodecKeys(` new:${a} , old:${b} `).map((k) => k.id)).toEqual(['new', 'old']);
    expect(parseCodecKeys(undefined)).toEqual([]);
    expect(parseCodecKeys('')).toEqual([]);
    expect(() => parseCodecKeys(`k1:${randomBytes(16).toString('base64')}`)).toThrow(/16 bytes, AES-256 needs 32/);
    expect(() => parseCodecKeys(a)).toThrow(/id:base64key/);
    expect(() => parseCodecKeys(`k1:${a},k1:${b}`)).toThrow(/appears twice/);
    expect(() => parseCodecKeys('k1:not base64!')).toThrow(/not base64/);
    expect(codecFromEnv({})).toBeUndefined();
    expect(wardenDataConverter({}, { announce: false })).toBeUndefined();
    const converter = wardenDataConverter({ WARDEN_CODEC_KEYS: `new:${a},old:${b}` }, { announce: false });
    expect((converter?.payloadCodecs?.[0] as EncryptionCodec).encryptKeyId).toBe('new');
  });

  test('with encryption on, failure messages travel as encoded (then encrypted) attributes', async () => {
    const converter = wardenDataConverter({ WARDEN_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}` }, { announce: false });
    const { failureConverter } = require(converter!.failureConverterPath!) as { failureConverter: FailureConverter };
    const failure = failureConverter.errorToFailure(new Error('could not reach host-42 for alice@example.com'), defaultPayloadConverter);
    expect(failure.message).not.toContain('host-42');
    expect(failure.stackTrace ?? '').not.toContain('host-42');
    const [encrypted] = await converter!.payloadCodecs![0].encode([failure.encodedAttributes!]);
    expect(str(encrypted.metadata?.encoding)).toBe('binary/encrypted');
    const [decoded] = await converter!.payloadCodecs![0].decode([encrypted]);
    expect(valueOf(decoded)).toMatchObject({ message: 'could not reach host-42 for alice@example.com' });
  });
});

/** A file-backed dev server; a free port can be taken by another process before the server binds it, so retry. */
async function startServer(dbFile: string): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServer({ dbFile });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

describe('case data at rest', () => {
  test('with the codec the database never holds the report text; without it, it does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-encryption-'));
    const dbFile = join(dir, 'temporal.sqlite');
    const server = await startServer(dbFile);
    const dataConverter = wardenDataConverter({ WARDEN_CODEC_KEYS: `test:${randomBytes(32).toString('base64')}` }, { announce: false });
    const secretCanary = `canary-encrypted-${randomBytes(12).toString('hex')}`;
    const plainCanary = `canary-plain-${randomBytes(12).toString('hex')}`;
    const warden: TestWarden[] = [];
    try {
      const encrypted = await startWarden(undefined, { address: server.address, dataConverter });
      warden.push(encrypted);
      const plain = await startWarden(undefined, { address: server.address });
      warden.push(plain);

      const run = async (w: TestWarden, canary: string) => {
        // The title too: it is the case's static summary in the Web UI, which must go through the codec like any payload.
        const filed = await w.file(sampleReport({ title: `Beaconing host, note ${canary}`, description: `attacker left a note: ${canary}` }));
        const view = await eventually(async () => {
          const v = (await w.view(filed.caseId)) as CaseView;
          return v.stage === 'responding' ? v : undefined;
        }, `case ${filed.caseId} to reach responding`);
        return { filed, view };
      };
      const secret = await run(encrypted, secretCanary);
      const control = await run(plain, plainCanary);
      // Through the codec, the case reads as usual.
      expect(secret.view.description).toContain(secretCanary);
      expect(control.view.description).toContain(plainCanary);
      // Workflow ids and search attributes stay readable (and carry nothing from the report's text).
      const described = await encrypted.handle(secret.filed.caseId).describe();
      expect(described.workflowId).toBe(secret.filed.workflowId);
      expect(JSON.stringify(described.typedSearchAttributes)).not.toContain(secretCanary);
      // Humans act as usual, and a refusal's reason (an encrypted failure message) reads through the codec.
      const handle = encrypted.handle(secret.filed.caseId);
      expect((await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] })).by).toBe('bob');
      const refused = await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'bob', criterion: 'containment-confirmed' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/bob may not sign off containment-confirmed/);
      // A client without the codec sees only encrypted payloads.
      await expect(plain.client.workflow.getHandle(secret.filed.workflowId).query('caseView')).rejects.toThrow(/binary\/encrypted|encoding/i);
    } finally {
      for (const w of warden) await w.stop().catch(() => undefined);
      await server.stop();
    }

    // The database file and its write-ahead log (if any), as bytes.
    const files = readdirSync(dir).filter((f) => f.startsWith('temporal.sqlite'));
    expect(files).toContain('temporal.sqlite');
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes(Buffer.from(plainCanary))).toBe(true); // control: the plain flow is visible at rest
    expect(bytes.includes(Buffer.from(secretCanary))).toBe(false);
  });
});

describe('codec server for the Web UI', () => {
  const token = randomBytes(16).toString('hex');
  const origin = 'http://localhost:8233';
  const codec = new EncryptionCodec([newKey('ui')]);
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createCodecServer({ codec, token, corsOrigin: origin });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
  });

  const toJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin, ...headers },
      body: JSON.stringify(body),
    });

  test('CORS preflight answers the headers the UI sends, without the token', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-namespace']));
    // Another origin gets no CORS grant.
    const other = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('401 without the bearer token, or with a wrong one', async () => {
    const [encrypted] = await codec.encode([payloadOf('x')]);
    expect((await post('/decode', { payloads: [toJson(encrypted)] })).status).toBe(401);
    expect((await post('/decode', { payloads: [toJson(encrypted)] }, { authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await post('/encode', { payloads: [] }, { authorization: token })).status).toBe(401);
    expect((await post(`/${token}x/decode`, { payloads: [toJson(encrypted)] })).status).toBe(401);
    expect((await post(`/decode/${token}`, { payloads: [toJson(encrypted)] })).status).toBe(404);
    // The 401 still carries the CORS grant, so the UI can show why.
    const denied = await post('/decode', { payloads: [] });
    expect(denied.headers.get('access-control-allow-origin')).toBe(origin);
  });

  test('the Web UI form: the token as the last path segment of the endpoint (--ui-codec-endpoint http://host:8888/<token>)', async () => {
    const original = payloadOf('seen from the Web UI');
    const [encrypted] = await codec.encode([original]);
    const res = await post(`/${token}/decode`, { payloads: [toJson(encrypted)] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ payloads: [toJson(original)] });
  });

  test('/decode gives back what the codec encoded; /encode round-trips', async () => {
    const original = payloadOf({ description: 'credential dump on db-7' });
    const [encrypted] = await codec.encode([original]);
    const auth = { authorization: `Bearer ${token}` };
    const res = await post('/decode', { payloads: [toJson(encrypted)] }, auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(await res.json()).toEqual({ payloads: [toJson(original)] });

    const enc = await post('/api/codec/encode', { payloads: [toJson(original)] }, auth); // any mount point
    const encoded = (await enc.json()) as { payloads: ReturnType<typeof toJson>[] };
    expect(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    const back = await post('/decode', encoded, auth);
    expect(await back.json()).toEqual({ payloads: [toJson(original)] });

    expect((await post('/decode', { nope: 1 }, auth)).status).toBe(400);
    const tampered = toJson(encrypted);
    tampered.data = Buffer.from(Buffer.from(tampered.data, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString('base64');
    expect((await post('/decode', { payloads: [tampered] }, auth)).status).toBe(400);
  });
});
