/**
 * Structured logs: one JSON object a line — time, level, message, then the event's fields — with
 * secrets redacted (./redact). The worker's Temporal runtime logger and the intake both write
 * through here; WARDEN_LOG_LEVEL (trace, debug, info, warn, error; default info) filters.
 */
import { redact, redactText } from './redact';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };
const RESERVED = new Set(['time', 'level', 'message']);

export type Fields = Record<string, unknown>;

export interface JsonLogger {
  readonly level: Level;
  log(level: Level, message: string, fields?: Fields, time?: Date): void;
  trace(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Fields): JsonLogger;
}

export interface JsonLoggerOptions {
  level?: Level | string;
  /** Fields on every line, e.g. { component: 'intake' }. */
  fields?: Fields;
  /** Where each line goes (default: stdout). */
  write?: (line: string) => void;
}

export function parseLevel(value: string | undefined, fallback: Level = 'info'): Level {
  const v = value?.toLowerCase();
  return v && v in RANK ? (v as Level) : fallback;
}

/** One line for one event; never throws (a log line must not take the process down). */
export function formatLine(level: Level, message: string, fields: Fields = {}, time = new Date()): string {
  const line: Fields = { time: time.toISOString(), level, message: redactText(String(message)) };
  const safe = redact(fields) as Fields;
  for (const [k, v] of Object.entries(safe)) if (v !== undefined) line[RESERVED.has(k) ? `field.${k}` : k] = v;
  try {
    return JSON.stringify(line);
  } catch {
    return JSON.stringify({ time: line.time, level, message: line.message, fields: '[unserializable]' });
  }
}

export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const level = parseLevel(options.level);
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const base = options.fields ?? {};
  const logger: JsonLogger = {
    level,
    log(l, message, fields, time) {
      if (RANK[l] < RANK[level]) return;
      write(formatLine(l, message, { ...base, ...fields }, time));
    },
    trace: (m, f) => logger.log('trace', m, f),
    debug: (m, f) => logger.log('debug', m, f),
    info: (m, f) => logger.log('info', m, f),
    warn: (m, f) => logger.log('warn', m, f),
    error: (m, f) => logger.log('error', m, f),
    child: (fields) => createJsonLogger({ level, write, fields: { ...base, ...fields } }),
  };
  return logger;
}

/** An error as log fields: its message and type, redacted like everything else. */
export function errorFields(err: unknown): Fields {
  if (err instanceof Error) return { error: err.message, errorType: (err as { type?: string }).type ?? err.name };
  return { error: String(err) };
}
