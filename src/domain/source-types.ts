/**
 * Source types: what a structured source says a finding is, mapped onto the taxonomy by a policy
 * table rather than by the words of its text. GuardDuty names its finding
 * `Exfiltration:S3/AnomalousBehavior`; no keyword in the title says so, but the type does, and a
 * responder would not hesitate. The policy's `sourceTypes` section holds one table per report
 * source; each entry maps a vendor type (exact, or a prefix ending in `*`) to a taxonomy category,
 * the activity signals the type itself establishes (`data-exfiltrated`, `beaconing`...) and,
 * where the type names one, the ATT&CK technique.
 *
 * A report carries the sending tool's type in `sourceType`, and may carry further candidates in
 * `sourceTypes` (an OCSF finding's ATT&CK techniques and tactics, a Defender alert's service and
 * category together). The most specific entry that matches any of them wins:
 *   - an entry pins down as many characters as its pattern has (a prefix entry, those before `*`;
 *     an exact entry, the whole type), and the one that pins down most wins;
 *   - at equal length an exact entry beats a prefix entry, then the earlier candidate
 *     (`sourceType` first) and the earlier entry of the table win.
 * A table compares case-sensitively unless it says `ignoreCase` (GuardDuty's types are
 * case-sensitive; Defender's categories are not).
 *
 * Pure: no I/O. Signal ids are not checked here; the severity model owns them.
 */
import { z } from 'zod';
import type { Policy } from './policy';

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes (e.g. "data-exposure")');

/** One entry: the category, or the category with the signals and technique the type implies. */
export const SourceTypeEntry = z.union([
  Id.transform((category): { category: string; signals: string[]; technique?: string; note?: string } => ({ category, signals: [] })),
  z
    .object({
      /** A category id from the taxonomy. */
      category: Id,
      /** Activity signals (ids from the severity model) that the type itself establishes. */
      signals: z.array(Id).default([]),
      /** The MITRE ATT&CK technique the type names, e.g. T1486 or T1562.008. */
      technique: z
        .string()
        .regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id such as T1486 or T1562.008')
        .optional(),
      /** Why the entry says what it says (shown nowhere; for the people who keep the table). */
      note: z.string().optional(),
    })
    .strict(),
]);
export type SourceTypeEntry = z.infer<typeof SourceTypeEntry>;

/** The table of one report source. */
export const SourceTypeTable = z
  .object({
    description: z.string().default(''),
    /** Compare types case-insensitively (for vendors whose values are, e.g. Defender's categories). */
    ignoreCase: z.boolean().default(false),
    /** Vendor type → entry. A key ending in `*` matches every type that starts with what precedes it. */
    types: z.record(z.string().min(1).max(200), SourceTypeEntry).default({}),
  })
  .strict()
  .superRefine((table, ctx) => {
    const seen = new Map<string, string>();
    for (const key of Object.keys(table.types)) {
      if (key.slice(0, -1).includes('*'))
        ctx.addIssue({ code: 'custom', path: ['types', key], message: 'only a trailing * is a wildcard (a prefix match)' });
      const folded = table.ignoreCase ? key.toLowerCase() : key;
      const earlier = seen.get(folded);
      if (earlier !== undefined)
        ctx.addIssue({ code: 'custom', path: ['types', key], message: `the same type as "${earlier}" (the table ignores case)` });
      else seen.set(folded, key);
    }
  });
export type SourceTypeTable = z.infer<typeof SourceTypeTable>;

/** The policy's `sourceTypes`: report source (e.g. "guardduty") → its table. */
export const SourceTypes = z.record(z.string().min(1), SourceTypeTable).default({});
export type SourceTypes = z.infer<typeof SourceTypes>;

/** What a source type says about a report. */
export interface SourceTypeVerdict {
  category: string;
  /** Activity signals the type establishes (severity-model ids). */
  signals: string[];
  /** The entry that matched, as "<source>: <pattern>", e.g. "guardduty: Exfiltration:S3/*". */
  rule: string;
  /** The report's type (or candidate) that the entry matched. */
  sourceType: string;
  technique?: string;
}

export interface SourceTyped {
  source: string;
  /** The sending tool's own type for the finding. */
  sourceType?: string;
  /** Further candidates (ATT&CK techniques, tactics...), matched together with sourceType. */
  sourceTypes?: string[];
}

/**
 * The verdict of the policy's source-type table for a report, or undefined when the policy has
 * no table for the report's source or no entry matches. A policy snapshot from before the table
 * existed has no `sourceTypes`, and gives no verdict.
 */
export function sourceTypeVerdict(policy: { sourceTypes?: Policy['sourceTypes'] }, report: SourceTyped): SourceTypeVerdict | undefined {
  const tables = policy.sourceTypes ?? {};
  if (!Object.hasOwn(tables, report.source)) return undefined;
  const table = tables[report.source];
  const fold = (text: string) => (table.ignoreCase ? text.toLowerCase() : text);
  const candidates = [report.sourceType, ...(report.sourceTypes ?? [])]
    .filter((c): c is string => typeof c === 'string')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);

  let best: { key: string; entry: SourceTypeEntry | string; candidate: string; length: number; exact: boolean } | undefined;
  for (const candidate of candidates) {
    const type = fold(candidate);
    for (const [key, entry] of Object.entries(table.types)) {
      const exact = !key.endsWith('*');
      const pattern = fold(exact ? key : key.slice(0, -1));
      if (exact ? type !== pattern : !type.startsWith(pattern)) continue;
      const length = pattern.length;
      if (!best || length > best.length || (length === best.length && exact && !best.exact)) best = { key, entry, candidate, length, exact };
    }
  }
  if (!best) return undefined;
  // Entries are objects once the policy is parsed; a bare category is accepted all the same.
  const entry = typeof best.entry === 'string' ? { category: best.entry, signals: [] } : best.entry;
  return {
    category: entry.category,
    signals: [...(entry.signals ?? [])],
    rule: `${report.source}: ${best.key}`,
    sourceType: best.candidate,
    ...(entry.technique ? { technique: entry.technique } : {}),
  };
}
