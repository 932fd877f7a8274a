/**
 * `warden evidence <sha256>` and `warden evidence --case <case>`: the evidence store's side of the
 * CLI (src/evidence/store.ts). The chain-of-custody commands (`warden evidence add|transfer|
 * export|verify`) stay in src/cli-incident.ts; a SHA-256 or --case routes here instead.
 *
 *   warden evidence <sha256> [--json]       the stored body (pretty JSON when it parses, else as
 *                                           stored), verified against its SHA-256 first
 *   warden evidence --case <case> [--json]  the case's reports and their evidence refs
 */
import type { CaseView } from './domain';
import { evidenceConfig } from './config';
import { describeEvidenceStore, type EvidenceRef, type EvidenceStore, evidenceStoreFromConfig } from './evidence/store';

export class EvidenceUsageError extends Error {}

type Values = Record<string, string | boolean | string[] | undefined>;

/** A report's evidence ref as listed. */
export interface ReportEvidenceRow {
  reportId: string;
  source: string;
  receivedAt: string;
  /** Absent for a report filed while the store was unavailable, or before the store existed. */
  evidence?: EvidenceRef;
}

const SHA256 = /^[0-9a-fA-F]{64}$/;

/** True for the command lines this module answers (the rest of `warden evidence` is cli-incident's). */
export function isStoredEvidenceCommand(positionals: string[], values: Values): boolean {
  return positionals[0] === 'evidence' && (values.case !== undefined || SHA256.test(positionals[1] ?? ''));
}

/**
 * An evidence ref read defensively from a case view: the case's evidence entries carry
 * `evidence?: EvidenceRef` from the case workflow that records it; older cases, or a view from an
 * older server, have none, and anything not shaped like a ref is ignored.
 */
export function evidenceRefOf(value: unknown): EvidenceRef | undefined {
  const ref = (value as { evidence?: unknown } | undefined)?.evidence as Partial<EvidenceRef> | undefined;
  if (!ref || typeof ref !== 'object') return undefined;
  if (typeof ref.sha256 !== 'string' || !SHA256.test(ref.sha256) || typeof ref.bytes !== 'number' || typeof ref.store !== 'string') return undefined;
  return { sha256: ref.sha256.toLowerCase(), bytes: ref.bytes, store: ref.store };
}

/** The case's reports with their evidence refs: its first report (kept in full) and the evidence entries it keeps, oldest first. */
export function reportEvidence(view: CaseView): ReportEvidenceRow[] {
  const rows: ReportEvidenceRow[] = [];
  const seen = new Set<string>();
  const add = (r: { reportId?: unknown; source?: unknown; receivedAt?: unknown } | undefined) => {
    if (!r || typeof r.reportId !== 'string' || seen.has(r.reportId)) return;
    seen.add(r.reportId);
    const evidence = evidenceRefOf(r);
    rows.push({ reportId: r.reportId, source: String(r.source ?? ''), receivedAt: String(r.receivedAt ?? ''), ...(evidence ? { evidence } : {}) });
  };
  add(view.firstReport);
  for (const entry of (view.evidence ?? []) as unknown[]) add(entry as Parameters<typeof add>[0]);
  return rows;
}

export function renderReportEvidence(view: CaseView, rows: ReportEvidenceRow[]): string {
  if (!rows.length) return `${view.caseId}: no reports`;
  const cells = [
    ['REPORT', 'SOURCE', 'RECEIVED', 'SHA256', 'BYTES'],
    ...rows.map((r) => [r.reportId, r.source, r.receivedAt, r.evidence?.sha256 ?? '- (not in the evidence store)', r.evidence ? String(r.evidence.bytes) : '-']),
  ];
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const lines = cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  const total = typeof view.evidenceCount === 'number' ? view.evidenceCount : rows.length;
  if (total > rows.length) lines.push(`(${rows.length} of ${total} reports: the case keeps its first and its most recent ones)`);
  return lines.join('\n');
}

function isUtf8(body: Buffer): boolean {
  return Buffer.from(body.toString('utf8'), 'utf8').equals(body);
}

/** Pretty JSON when the body parses as JSON, else the body as stored. */
export function renderEvidenceBody(body: Buffer): { json?: unknown; text: string | Buffer } {
  try {
    const json = JSON.parse(body.toString('utf8')) as unknown;
    return { json, text: `${JSON.stringify(json, null, 2)}\n` };
  } catch {
    return { text: body };
  }
}

/**
 * Run `warden evidence <sha256>` or `warden evidence --case <case>`; undefined for any other
 * command line. `cases` reads a case (the API or Temporal, as for the other commands); `store`
 * defaults to the one WARDEN_EVIDENCE_* configure.
 */
export async function runStoredEvidenceCommand(
  positionals: string[],
  values: Values,
  cases: () => { show(caseRef: string): Promise<CaseView> },
  out: (data: unknown, text: () => string) => void,
  store: () => EvidenceStore = () => evidenceStoreFromConfig(evidenceConfig()),
): Promise<number | undefined> {
  if (!isStoredEvidenceCommand(positionals, values)) return undefined;
  if (values.case !== undefined) {
    const caseRef = values.case;
    if (typeof caseRef !== 'string' || !caseRef) throw new EvidenceUsageError('evidence --case: which case?');
    if (positionals[1]) throw new EvidenceUsageError('evidence: give a SHA-256 or --case <case>, not both');
    const view = await cases().show(caseRef);
    const rows = reportEvidence(view);
    out({ caseId: view.caseId, reportCount: view.evidenceCount, reports: rows }, () => renderReportEvidence(view, rows));
    return 0;
  }
  const sha256 = positionals[1].toLowerCase();
  const evidence = store();
  // get() verifies the body against its SHA-256 and throws (exit 1) when it does not match.
  const body = await evidence.get(sha256);
  if (!body) {
    console.error(`error: no evidence ${sha256} in the evidence store (${describeEvidenceStore(evidence)})`);
    return 1;
  }
  const shown = renderEvidenceBody(body);
  if (values.json) {
    console.log(JSON.stringify({ sha256, bytes: body.length, store: describeEvidenceStore(evidence), verified: true, ...(shown.json !== undefined ? { json: shown.json } : isUtf8(body) ? { text: body.toString('utf8') } : { base64: body.toString('base64') }) }, null, 2));
    return 0;
  }
  process.stdout.write(shown.text);
  // On stderr, so that stdout is the body alone.
  console.error(`verified: the body matches SHA-256 ${sha256} (${body.length} bytes, ${describeEvidenceStore(evidence)})`);
  return 0;
}
