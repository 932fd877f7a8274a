/**
 * Redaction for logs: values under keys that name a secret are masked whole, and secret shapes
 * inside any string (Slack tokens, bearer credentials, passwords in URLs, JWTs, `token=` query
 * parameters) are masked in place. Applied to every structured log line the worker and the
 * intake write, so an error message that quotes a request cannot leak its credentials.
 */

export const REDACTED = '[REDACTED]';

/** A key names a secret: token, password, secret, authorization, cookie, credential, or …key. */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z]/g, '');
  return /token|passw(or)?d|passphrase|secret|authori[sz]ation|cookie|credential/.test(k) || /keys?$/.test(k);
}

const SHAPES: [RegExp, string][] = [
  // Slack bot, user, app and config tokens.
  [/\bxox[abposr]-[A-Za-z0-9-]+/g, REDACTED],
  [/\bxapp-[A-Za-z0-9-]+/g, REDACTED],
  // Authorization header values (Bearer, Basic).
  [/\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{4,}/gi, `$1$2${REDACTED}`],
  // user:password@ in any URL (smtp://, https://, postgres://…): the user stays, the password goes.
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s@/]+)@/gi, `$1$2:${REDACTED}@`],
  // JSON Web Tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, REDACTED],
  // key=value pairs (query strings, form bodies, "password=…" in messages) and "key": "value" in quoted JSON.
  [/\b([A-Za-z0-9_-]*(?:token|password|passwd|secret|api[_-]?key|routing[_-]?key|authorization)[A-Za-z0-9_-]*)=([^&\s"',;]+)/gi, `$1=${REDACTED}`],
  [/("[A-Za-z0-9_-]*(?:token|password|passwd|secret|api[_-]?key|routing[_-]?key|authorization|cookie)[A-Za-z0-9_-]*"\s*:\s*)"[^"]*"/gi, `$1"${REDACTED}"`],
];

/** Mask the known secret shapes inside a string. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A deep copy of `value` fit for a log: secret-named keys masked, secret shapes in strings
 * masked, Errors as { name, message, stack }, bigints as strings, cycles cut.
 */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: redactText(value.message) };
    if (value.stack) out.stack = redactText(value.stack);
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redact(v, seen);
    if (value.cause !== undefined) out.cause = redact(value.cause, seen);
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, seen);
  return out;
}
