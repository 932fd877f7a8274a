export { codecFromEnv, type CodecKey, EncryptionCodec, ENCODING_ENCRYPTED, METADATA_KEY_ID, parseCodecKeys } from './encryption';
export { createCodecServer, type CodecServerOptions } from './server';
export { startCodecServerFromEnv } from './start';
