/**
 * Canonical JSON: one text for one value, whoever serializes it, so the same payload always has
 * the same SHA-256 in the evidence store. The rules are RFC 8785's (JCS) as far as Warden's
 * payloads need them: object keys sorted by UTF-16 code units, no whitespace, strings and numbers
 * as ECMAScript's JSON.stringify writes them. Like JSON.stringify, `toJSON` is honoured (a Date
 * becomes its ISO string), a property whose value is undefined, a function or a symbol is left
 * out, and such a value in an array becomes null. Unlike it, a non-finite number, a bigint or a
 * cycle is refused: evidence is never silently rewritten into something else.
 */

export class CanonicalJsonError extends Error {}

/** The canonical JSON text of a value (see above); throws CanonicalJsonError on a value JSON cannot carry faithfully. */
export function canonicalJson(value: unknown): string {
  const text = write(value, new Set());
  if (text === undefined) throw new CanonicalJsonError(`a ${typeof value} has no JSON form`);
  return text;
}

/** The canonical JSON of a value as UTF-8 bytes: what the evidence store keeps. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

function write(value: unknown, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} has no JSON form`);
      return JSON.stringify(value); // -0 is written 0, as JCS asks
    case 'bigint':
      throw new CanonicalJsonError('a bigint has no JSON form (convert it to a string or number first)');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) throw new CanonicalJsonError('a cycle has no JSON form');
  seen.add(object);
  try {
    if (Array.isArray(object)) return `[${object.map((item) => write(item, seen) ?? 'null').join(',')}]`;
    const members: string[] = [];
    for (const key of Object.keys(object).sort()) {
      const text = write((object as Record<string, unknown>)[key], seen);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    seen.delete(object);
  }
}
