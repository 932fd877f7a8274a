/**
 * The classification audit: over closed cases, how often the automated category and severity
 * agreed with the final human answer (an override, or the automated answer left standing), per
 * category and per classifier, with the confusion table behind the rates.
 */
import { type CaseView, categoryOf } from './case';

export interface AuditRow {
  caseId: string;
  classifier: string;
  autoCategory: string;
  finalCategory: string;
  autoSeverity?: string;
  finalSeverity?: string;
  overridden: boolean;
  /** A human looked: confirmed, overrode, acknowledged, or closed it (what the trust loop counts). */
  judged: boolean;
}

export interface Agreement {
  cases: number;
  agreed: number;
  rate: number;
}

export interface AuditReport {
  cases: number;
  category: Agreement;
  severity: Agreement;
  byCategory: Record<string, Agreement>;
  byClassifier: Record<string, { category: Agreement; severity: Agreement }>;
  /** Per automated category, over judged cases only: what the trust loop measures (src/domain/trust.ts). */
  judgedByCategory: Record<string, { cases: number; agreed: number }>;
  /** confusion[automated][final] = number of cases */
  confusion: Record<string, Record<string, number>>;
}

/** The audit row of a case; none for a case closed before it was classified (a validation false alarm). */
export function auditRow(view: CaseView): AuditRow | undefined {
  if (!view.classification) return undefined;
  return {
    caseId: view.caseId,
    classifier: view.classification.classifier,
    autoCategory: view.classification.category,
    finalCategory: categoryOf(view) ?? view.classification.category,
    autoSeverity: view.assessment?.severity,
    finalSeverity: view.severity,
    overridden: view.overrides.length > 0,
    judged: view.overrides.length > 0 || !!view.proposal?.decided || !!view.acknowledgedBy || (!!view.closure && view.closure.by !== 'warden'),
  };
}

function agreement(rows: AuditRow[], agree: (r: AuditRow) => boolean): Agreement {
  const agreed = rows.filter(agree).length;
  return { cases: rows.length, agreed, rate: rows.length ? agreed / rows.length : 0 };
}

const sameCategory = (r: AuditRow) => r.autoCategory === r.finalCategory;
const sameSeverity = (r: AuditRow) => r.autoSeverity === r.finalSeverity;

export function auditClassifications(rows: AuditRow[]): AuditReport {
  const group = <K extends string>(key: (r: AuditRow) => K) => {
    const groups: Record<string, AuditRow[]> = {};
    for (const r of rows) (groups[key(r)] ??= []).push(r);
    return groups;
  };
  const confusion: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    confusion[r.autoCategory] ??= {};
    confusion[r.autoCategory][r.finalCategory] = (confusion[r.autoCategory][r.finalCategory] ?? 0) + 1;
  }
  return {
    cases: rows.length,
    category: agreement(rows, sameCategory),
    severity: agreement(rows, sameSeverity),
    byCategory: Object.fromEntries(Object.entries(group((r) => r.autoCategory)).map(([k, v]) => [k, agreement(v, sameCategory)])),
    byClassifier: Object.fromEntries(
      Object.entries(group((r) => r.classifier)).map(([k, v]) => [k, { category: agreement(v, sameCategory), severity: agreement(v, sameSeverity) }]),
    ),
    judgedByCategory: Object.fromEntries(
      Object.entries(group((r) => r.autoCategory)).map(([k, v]) => {
        const judged = v.filter((r) => r.judged);
        return [k, { cases: judged.length, agreed: judged.filter(sameCategory).length }];
      }),
    ),
    confusion,
  };
}
