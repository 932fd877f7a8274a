/**
 * Payload encryption: AES-256-GCM over the whole serialized Payload (metadata and data), with
 * the key id in the envelope so keys can rotate. The Temporal server, its database and its UI
 * (without the codec server) see only `binary/encrypted` payloads.
 *
 * Envelope: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`;
 * data = 12-byte IV ‖ ciphertext ‖ 16-byte GCM tag of `temporal.api.common.v1.Payload.encode(original)`.
 * The key id is bound to the ciphertext as additional authenticated data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface CodecKey {
  id: string;
  key: Buffer;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/**
 * `WARDEN_CODEC_KEYS`: comma-separated `id:base64key` (32-byte keys). The first encrypts new
 * payloads; all of them decrypt. Empty or unset gives no keys (no encryption).
 */
export function parseCodecKeys(value: string | undefined): CodecKey[] {
  const entries = (value ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  const keys: CodecKey[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`WARDEN_CODEC_KEYS: expected id:base64key, got an entry without an id`);
    const id = entry.slice(0, colon).trim();
    const b64 = entry.slice(colon + 1).trim();
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`WARDEN_CODEC_KEYS: key id "${id}" may use only letters, digits, '.', '_' and '-'`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error(`WARDEN_CODEC_KEYS: key "${id}" is not base64`);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`WARDEN_CODEC_KEYS: key "${id}" is ${key.length} bytes, AES-256 needs ${KEY_BYTES} (openssl rand -base64 32)`);
    if (keys.some((k) => k.id === id)) throw new Error(`WARDEN_CODEC_KEYS: key id "${id}" appears twice`);
    keys.push({ id, key });
  }
  return keys;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  readonly encryptKeyId: string;

  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    for (const k of keys) if (k.key.length !== KEY_BYTES) throw new Error(`key "${k.id}" is ${k.key.length} bytes, AES-256 needs ${KEY_BYTES}`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.encryptKeyId = keys[0].id;
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  private encrypt(payload: Payload): Payload {
    const key = this.byId.get(this.encryptKeyId)!;
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(this.encryptKeyId, 'utf8'));
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: utf8(this.encryptKeyId) },
      data: new Uint8Array(data),
    };
  }

  private decrypt(payload: Payload): Payload {
    // Payloads written before encryption was turned on pass through unchanged.
    if (str(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCODING_ENCRYPTED) return payload;
    const keyId = str(payload.metadata?.[METADATA_KEY_ID]);
    if (!keyId) throw new ValueError('encrypted payload has no encryption-key-id');
    const key = this.byId.get(keyId);
    if (!key) throw new ValueError(`encrypted payload uses key "${keyId}", which is not in WARDEN_CODEC_KEYS (known: ${this.keyIds.join(', ')})`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError(`encrypted payload (key "${keyId}") is too short`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ValueError(`encrypted payload (key "${keyId}") failed authentication: tampered with, or the key is wrong`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** The codec from `WARDEN_CODEC_KEYS`, or undefined when no keys are set (no encryption). */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const keys = parseCodecKeys(env.WARDEN_CODEC_KEYS);
  return keys.length ? new EncryptionCodec(keys) : undefined;
}
