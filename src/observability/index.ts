/** Observability: metrics, structured logs with redaction, health and readiness, graceful shutdown. */
export * from './cases';
export * from './health';
export * from './log';
export * from './metrics';
export * from './redact';
