/**
 * Wiring for the intake process: with WARDEN_CODEC_KEYS set, serve the codec for the Temporal
 * Web UI on WARDEN_CODEC_PORT (default 8888), guarded by WARDEN_CODEC_TOKEN.
 */
import type { Server } from 'node:http';
import { codecFromEnv, type EncryptionCodec } from './encryption';
import { createCodecServer } from './server';

/** One line saying whether payloads are encrypted, for the start-up log. */
export function describeEncryption(codec: EncryptionCodec | undefined): string {
  return codec
    ? `payload encryption on (AES-256-GCM, encrypting with key "${codec.encryptKeyId}", decrypting with ${codec.keyIds.join(', ')})`
    : 'payload encryption off (WARDEN_CODEC_KEYS not set): case data is stored in plain text by Temporal';
}

export function startCodecServerFromEnv(host: string, env: NodeJS.ProcessEnv = process.env): Server | undefined {
  const codec = codecFromEnv(env);
  console.log(`warden intake: ${describeEncryption(codec)}`);
  if (!codec) return undefined;
  const token = env.WARDEN_CODEC_TOKEN?.trim();
  if (!token) {
    console.log('warden intake: codec server not started: set WARDEN_CODEC_TOKEN to serve the Web UI codec endpoint');
    return undefined;
  }
  const port = Number(env.WARDEN_CODEC_PORT ?? 8888);
  const corsOrigin = env.WARDEN_CODEC_CORS_ORIGIN ?? 'http://localhost:8233';
  const server = createCodecServer({ codec, token, corsOrigin });
  server.listen(port, host, () => console.log(
      `warden intake: codec server http://${host}:${port} (POST /encode, /decode) for ${corsOrigin}; ` +
        `point the Web UI at it with --ui-codec-endpoint http://${host}:${port}/$WARDEN_CODEC_TOKEN`,
    ),
  );
  return server;
}
