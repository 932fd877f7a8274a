/**
 * The evidence store: every report's full payload (its canonical JSON, src/evidence/canonical.ts),
 * kept outside Temporal's history and named by the SHA-256 of its bytes. A case records only the
 * small EvidenceRef; whoever holds the ref can fetch the body and prove it is the one recorded.
 *
 * - Content-addressed: the key is the lower-case hex SHA-256 of the bytes, so `put` is idempotent
 *   (the same bytes give the same ref, and a body already stored is never written again).
 * - Verified on read: `get` hashes what it read and throws EvidenceIntegrityError when that is
 *   not the key (a body changed, truncated or swapped where it is kept): damaged evidence is never
 *   returned as if it were good, nor silently repaired by a later `put`.
 * - Two places: FileEvidenceStore (a directory, `<dir>/<aa>/<sha256>`, files 0600 written through
 *   a temporary file and a rename) and S3EvidenceStore (any S3-compatible server, key
 *   `sha256/<sha256>`, uploaded with its ChecksumSHA256 so the server checks it too).
 *   evidenceStoreFromConfig picks one from WARDEN_EVIDENCE_* (src/config.ts).
 *
 * The `meta` given to `put` is advisory: S3 keeps it as the object's metadata (of its first
 * writer), the file store does not keep it. What a body is, and for which case, is recorded where
 * the ref is (the case's evidence entries).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type EvidenceConfig, evidenceConfig } from '../config';

/** A body in the evidence store, named by the SHA-256 of its bytes. */
export interface EvidenceRef {
  /** Lower-case hex SHA-256 of the stored bytes: the body's key. */
  sha256: string;
  /** Its length in bytes. */
  bytes: number;
  /** Which store holds it: `file`, or `s3://<bucket>`. */
  store: string;
}

/** What a body is: advisory (see above). */
export interface EvidenceMeta {
  caseId?: string;
  /** e.g. `report` */
  kind: string;
  /** e.g. `application/json` */
  contentType: string;
}

export interface EvidenceStore {
  /** Keep the bytes (once: a body already stored is not written again); its ref. */
  put(bytes: Buffer, meta: EvidenceMeta): Promise<EvidenceRef>;
  /** The body stored under this SHA-256, verified against it; undefined when none is. Throws EvidenceIntegrityError when the stored body does not match. */
  get(sha256: string): Promise<Buffer | undefined>;
}

/** The stored body under a key does not hash to that key: it was changed where it is kept. */
export class EvidenceIntegrityError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly where: string,
  ) {
    super(`evidence ${expected} in ${where} is damaged or was tampered with: its stored body hashes to ${actual}`);
    this.name = 'EvidenceIntegrityError';
  }
}

/** Lower-case hex SHA-256 of the bytes. */
export function sha256Of(bytes: Buffer | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The key as the stores use it (lower case); throws on anything but 64 hex digits, so no key can name another path. */
export function evidenceKey(sha256: string): string {
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) throw new Error(`not a SHA-256 (64 hex digits): ${JSON.stringify(String(sha256).slice(0, 80))}`);
  return sha256.toLowerCase();
}

function verified(expected: string, body: Buffer, where: string): Buffer {
  const actual = sha256Of(body);
  if (actual !== expected) throw new EvidenceIntegrityError(expected, actual, where);
  return body;
}

/**
 * Bodies as files: `<dir>/<first two hex digits>/<sha256>`, mode 0600 in directories 0700. A
 * body is written to a temporary file beside its final name, flushed to disk, then renamed into
 * place (and the directory flushed): a reader sees the whole body or none, even after a crash.
 */
export class FileEvidenceStore implements EvidenceStore {
  readonly dir: string;
  readonly name = 'file';

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Where the body with this SHA-256 is (or would be) kept. */
  pathFor(sha256: string): string {
    const key = evidenceKey(sha256);
    return join(this.dir, key.slice(0, 2), key);
  }

  async put(bytes: Buffer, _meta: EvidenceMeta): Promise<EvidenceRef> {
    const sha256 = sha256Of(bytes);
    const ref: EvidenceRef = { sha256, bytes: bytes.length, store: this.name };
    const path = this.pathFor(sha256);
    if (await exists(path)) return ref; // content-addressed: already kept, never rewritten
    const shard = join(this.dir, sha256.slice(0, 2));
    await mkdir(shard, { recursive: true, mode: 0o700 });
    const temp = join(shard, `.${sha256}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await chmod(temp, 0o600); // whatever the umask
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await syncDir(shard);
    return ref;
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    const path = this.pathFor(sha256);
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return verified(evidenceKey(sha256), body, path);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Flush a directory's entries (the rename) to disk; not every platform allows it, which is then no worse than before. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // e.g. Windows: directories cannot be opened for sync
  }
}

export interface S3EvidenceStoreOptions {
  bucket: string;
  /** An S3-compatible server's URL (MinIO, Ceph, a test server); default AWS. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`): what most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Explicit credentials (tests); by default the AWS SDK's standard chain (environment, profile, role). */
  credentials?: S3ClientConfig['credentials'];
  /** A client made elsewhere (then the options above but the bucket are not used). */
  client?: S3Client;
}

/** Bodies as S3 objects: `sha256/<sha256>` in the bucket, uploaded with ChecksumSHA256 and the content type. */
export class S3EvidenceStore implements EvidenceStore {
  readonly bucket: string;
  readonly name: string;
  readonly client: S3Client;

  constructor(options: S3EvidenceStoreOptions) {
    this.bucket = options.bucket;
    this.name = `s3://${options.bucket}`;
    this.client =
      options.client ??
      new S3Client({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
  }

  /** The object key of the body with this SHA-256. */
  keyFor(sha256: string): string {
    return `sha256/${evidenceKey(sha256)}`;
  }

  async put(bytes: Buffer, meta: EvidenceMeta): Promise<EvidenceRef> {
    const sha256 = sha256Of(bytes);
    const ref: EvidenceRef = { sha256, bytes: bytes.length, store: this.name };
    const Key = this.keyFor(sha256);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return ref; // content-addressed: already kept, never rewritten
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key,
        Body: bytes,
        ContentLength: bytes.length,
        ContentType: meta.contentType,
        // The server checks the upload against it, and keeps it with the object.
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        Metadata: { kind: meta.kind, ...(meta.caseId ? { 'case-id': meta.caseId } : {}) },
      }),
    );
    return ref;
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    const Key = this.keyFor(sha256);
    let body: Buffer;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!out.Body) return undefined;
      body = Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
    return verified(evidenceKey(sha256), body, `${this.name}/${Key}`);
  }
}

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** The store the configuration names (src/config.ts evidenceConfig); S3 credentials from the AWS SDK's standard chain. */
export function evidenceStoreFromConfig(config: EvidenceConfig | { evidence: EvidenceConfig }): EvidenceStore {
  const c = 'evidence' in config ? config.evidence : config;
  if (c.kind === 'file') return new FileEvidenceStore(c.dir);
  return new S3EvidenceStore({ bucket: c.bucket, endpoint: c.endpoint, region: c.region, forcePathStyle: c.forcePathStyle });
}

/** Where a store keeps bodies, in words for logs and the CLI (no secrets: none are in a store's settings). */
export function describeEvidenceStore(store: EvidenceStore): string {
  if (store instanceof FileEvidenceStore) return `file ${store.dir}`;
  if (store instanceof S3EvidenceStore) return store.name;
  return 'custom';
}

/**
 * A store made on first use: for defaults, so that merely constructing a filer or the activities
 * reads no environment and touches no disk.
 */
export function lazyEvidenceStore(make: () => EvidenceStore): EvidenceStore {
  let store: EvidenceStore | undefined;
  const current = () => (store ??= make());
  return {
    put: (bytes, meta) => current().put(bytes, meta),
    get: (sha256) => current().get(sha256),
  };
}

/**
 * The default where none is given (scripts, tests, callers that predate the store): the store
 * WARDEN_EVIDENCE_* configure, made on first use. The intake and the worker pass theirs explicitly.
 */
export function defaultEvidenceStore(env: NodeJS.ProcessEnv = process.env): EvidenceStore {
  return lazyEvidenceStore(() => evidenceStoreFromConfig(evidenceConfig(env)));
}
