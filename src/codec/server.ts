/**
 * The codec server for the Temporal Web UI (`temporal server start-dev --ui-codec-endpoint
 * http://localhost:8888`): POST …/encode and …/decode with `{payloads: [{metadata: {k: base64},
 * data: base64}]}` (Payloads as protobuf JSON), CORS for the UI's origin, and a bearer token.
 * Only the last path segment is looked at, so the endpoints can be mounted at any depth.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Required: requests without `Authorization: Bearer <token>` get 401. */
  token: string;
  /** The Web UI's origin (default http://localhost:8233). */
  corsOrigin?: string;
  /** Request body limit in bytes (default 4 MiB). */
  maxBodyBytes?: number;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function fromJson(p: JsonPayload): Payload {
  if (!p || typeof p !== 'object') throw new Error('each payload must be an object');
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) {
    if (typeof v !== 'string' || !BASE64.test(v)) throw new Error(`metadata "${k}" must be base64`);
    metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  }
  if (p.data != null && (typeof p.data !== 'string' || !BASE64.test(p.data))) throw new Error('data must be base64');
  return { metadata, data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')) };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

/** Constant-time comparison (both sides hashed, so the time does not depend on the lengths either). */
function sameToken(presented: string | undefined, token: string): boolean {
  const a = createHash('sha256').update(presented ?? '').digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented !== undefined;
}

function authorized(req: IncomingMessage, segments: string[], token: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  let pathToken: string | undefined;
  try {
    pathToken = segments.length >= 2 ? decodeURIComponent(segments[segments.length - 2]) : undefined;
  } catch {
    pathToken = undefined;
  }
  // Both are checked, always, so the time taken says nothing about which one was close.
  const byHeader = sameToken(bearer, token);
  const byPath = sameToken(pathToken, token);
  return byHeader || byPath;
}

export function createCodecServer(opts: CodecServerOptions): Server {
  if (!opts.token) throw new Error('the codec server needs a token (WARDEN_CODEC_TOKEN)');
  const corsOrigin = opts.corsOrigin ?? 'http://localhost:8233';
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.statusCode = status;
    if (body === undefined) return void res.end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.origin === corsOrigin) {
      res.setHeader('access-control-allow-origin', corsOrigin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      // Preflight: browsers send no credentials here, so it is answered without the token.
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'authorization, content-type, x-namespace');
      res.setHeader('access-control-max-age', '600');
      return send(res, 204);
    }
    const segments = (req.url ?? '').split('?')[0].split('/').filter(Boolean);
    const last = segments[segments.length - 1];
    const op = last === 'encode' || last === 'decode' ? last : undefined;
    if (!op) return send(res, 404, { error: 'not found: POST /encode or /decode' });
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    if (!authorized(req, segments, opts.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'unauthorized' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody && !refused) {
        refused = true;
        send(res, 413, { error: 'body too large' });
        req.destroy();
      } else if (!refused) chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      void (async () => {
        let payloads: Payload[];
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          if (!body || !Array.isArray(body.payloads)) throw new Error('expected {"payloads": [...]}');
          payloads = body.payloads.map(fromJson);
        } catch (err) {
          return send(res, 400, { error: (err as Error).message });
        }
        try {
          const out = op === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
          send(res, 200, { payloads: out.map(toJson) });
        } catch (err) {
          send(res, 400, { error: (err as Error).message });
        }
      })();
    });
  });
}
