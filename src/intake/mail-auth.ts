/**
 * Authentication-Results (RFC 8601), read only as far as Warden can trust them.
 *
 * Anyone can write an Authentication-Results header into a mail; only the ones our own mail
 * servers add mean anything, and those are told apart by their **authserv-id** (the first token
 * of the header, e.g. `mx.corp.example`). The organisation's border MTAs must remove incoming
 * headers that claim our authserv-id (RFC 8601 §5; Exchange Online, Gmail, Postfix with
 * OpenDMARC and rspamd do); Warden then counts only headers carrying one of the configured ids
 * (`WARDEN_MAIL_AUTHSERV_ID`), and of those the topmost (the last one our servers added).
 *
 * - {@link senderVerification}: is the message's From domain authenticated? By DMARC
 *   (`dmarc=pass` for that From domain), else by an aligned DKIM signature (`dkim=pass` with
 *   `header.d` the From domain or a parent of it). SPF alone never is: it authenticates the
 *   envelope sender, not the From an employee sees.
 * - {@link dmarcFailure}: does the message fail DMARC? Per our servers when ids are configured;
 *   when none are, a `dmarc=fail` from any server counts (failing is never a claim in the
 *   sender's favour).
 */

export interface AuthResult {
  method: string;
  result: string;
  /** `ptype.property` → value, e.g. `header.from` → `corp.example`. */
  props: Record<string, string>;
}

export interface AuthenticationResults {
  /** The authserv-id, lower-cased. */
  authservId: string;
  results: AuthResult[];
}

/** One header value parsed; undefined when it has no authserv-id. Comments are dropped, quoted values unquoted. */
export function parseAuthenticationResults(value: string): AuthenticationResults | undefined {
  const text = withoutComments(value);
  const [head, ...resinfo] = splitOutsideQuotes(text, ';');
  const authservId = head.trim().split(/\s+/)[0]?.toLowerCase();
  if (!authservId || authservId.includes('=')) return undefined;
  const results: AuthResult[] = [];
  for (const info of resinfo) {
    const pairs = [...info.matchAll(/([A-Za-z0-9_.\-]+(?:\/\d+)?)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)/g)].map(
      (m) => [m[1].toLowerCase(), m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2]] as const,
    );
    if (!pairs.length) continue;
    const [[method, result], ...rest] = pairs;
    const props: Record<string, string> = {};
    for (const [k, v] of rest) if (k !== 'reason' && !(k in props)) props[k] = v;
    results.push({ method: method.replace(/\/\d+$/, ''), result: result.toLowerCase(), props });
  }
  return { authservId, results };
}

/** The topmost header from one of `authservIds` (lower-cased), parsed. */
export function trustedResults(headerValues: string[], authservIds: string[]): AuthenticationResults | undefined {
  for (const value of headerValues) {
    const parsed = parseAuthenticationResults(value);
    if (parsed && authservIds.includes(parsed.authservId)) return parsed;
  }
  return undefined;
}

export type SenderVerification = { verified: true; by: string } | { verified: false; why: string };

/**
 * Whether our servers authenticated `fromDomain` as the sender of the message whose
 * Authentication-Results values these are (topmost first). `acceptSmtpAuth`: an `auth=pass`
 * (the sender logged in to our submission server) counts too: for mail from our own people.
 */
export function senderVerification(headerValues: string[], fromDomain: string, authservIds: string[], acceptSmtpAuth = false): SenderVerification {
  if (!authservIds.length) return { verified: false, why: 'no authserv-id is configured (WARDEN_MAIL_AUTHSERV_ID), so no Authentication-Results header is trusted' };
  const trusted = trustedResults(headerValues, authservIds);
  if (!trusted) return { verified: false, why: `no Authentication-Results header from our mail servers (${authservIds.join(', ')})` };
  const id = trusted.authservId;
  const domain = fromDomain.toLowerCase();
  const dmarc = trusted.results.find((r) => r.method === 'dmarc');
  if (dmarc?.result === 'pass') {
    const checked = domainOf(dmarc.props['header.from'] ?? domain);
    if (checked === domain) return { verified: true, by: `${id}: dmarc=pass header.from=${checked}` };
    return { verified: false, why: `${id} passed DMARC for ${checked}, not for the From domain ${domain}` };
  }
  if (dmarc?.result === 'fail') return { verified: false, why: `${id} reports dmarc=fail for ${dmarc.props['header.from'] ?? domain}` };
  const dkim = trusted.results.find((r) => r.method === 'dkim' && r.result === 'pass' && aligned(domain, domainOf(r.props['header.d'] ?? r.props['header.i'] ?? '')));
  if (dkim) return { verified: true, by: `${id}: dkim=pass header.d=${domainOf(dkim.props['header.d'] ?? dkim.props['header.i'] ?? '')}` };
  if (acceptSmtpAuth) {
    const auth = trusted.results.find((r) => r.method === 'auth' && r.result === 'pass');
    if (auth) return { verified: true, by: `${id}: auth=pass` };
  }
  const summary = trusted.results.map((r) => `${r.method}=${r.result}`).join(' ') || 'none';
  return { verified: false, why: `${id} has no passing DMARC or aligned DKIM result for ${domain} (${summary})` };
}

/** The DMARC failure that makes a From untrustworthy, in words; undefined when there is none. */
export function dmarcFailure(headerValues: string[], authservIds: string[]): string | undefined {
  if (authservIds.length) {
    const trusted = trustedResults(headerValues, authservIds);
    const dmarc = trusted?.results.find((r) => r.method === 'dmarc');
    return dmarc?.result === 'fail' ? `dmarc=fail by ${trusted!.authservId}` : undefined;
  }
  for (const value of headerValues) {
    const parsed = parseAuthenticationResults(value);
    if (parsed?.results.some((r) => r.method === 'dmarc' && r.result === 'fail')) return `dmarc=fail by ${parsed.authservId}`;
  }
  return undefined;
}

/** DKIM relaxed alignment, approximately: the signing domain is the From domain or a parent of it. */
function aligned(fromDomain: string, signingDomain: string): boolean {
  return !!signingDomain && signingDomain.includes('.') && (fromDomain === signingDomain || fromDomain.endsWith(`.${signingDomain}`));
}

function domainOf(value: string): string {
  const v = value.trim().replace(/^<|>$/g, '').toLowerCase();
  return v.slice(v.lastIndexOf('@') + 1).replace(/\.$/, '');
}

/** RFC 5322 comments (nested parentheses) taken out, quoted strings left alone. */
function withoutComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      if (depth === 0) out += c + s[i + 1];
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    if (!quoted && c === '(') {
      depth++;
      continue;
    }
    if (!quoted && c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === '"') quoted = !quoted;
    else if (!quoted && s[i] === sep) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}
