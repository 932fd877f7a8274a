/**
 * Validation of a received report before it is assigned: is it an obvious false alarm by the
 * policy's rules? Pure; the case workflow applies it in its "validating" stage.
 */
import { detectDataClasses } from './data-classes';
import { entryFor, findAsset, type Policy } from './policy';
import type { Report } from './report';

export interface FalseAlarmVerdict {
  rule: string;
  explanation: string;
  /** Set when the rule matched but must not close the case: why a human has to look. */
  notApplied?: string;
}

/**
 * Why a report must never be auto-closed, if it must not: regulated data (declared or named in
 * its words) or a critical asset is involved.
 */
export function autoCloseBlocker(report: Report, policy: Policy): string | undefined {
  const classes = [...report.dataClasses, ...detectDataClasses(`${report.title}\n${report.description}`).map((d) => d.dataClass)];
  const regulated = [...new Set(classes.filter((c) => policy.scoring.regulatedDataClasses.includes(c)))];
  if (regulated.length) return `regulated data involved (${regulated.join(', ')})`;
  const critical = report.assets.filter((a) => findAsset(policy, a)?.criticality === 'critical');
  if (critical.length) return `critical asset involved (${critical.join(', ')})`;
  return undefined;
}

/** Fields a workable case needs, per the policy for the report's source, that the report lacks. */
export function missingFields(report: Report, policy: Policy): string[] {
  const required = entryFor(policy.intake.requiredFields, report.source) ?? [];
  return required.filter((field) => {
    const value = (report as Record<string, unknown>)[field];
    return value === undefined || value === null || (typeof value === 'string' && !value.trim()) || (Array.isArray(value) && value.length === 0);
  });
}

export function matchFalseAlarm(report: Report, policy: Policy): FalseAlarmVerdict | undefined {
  for (const rule of policy.falseAlarms) {
    if (rule.source && rule.source !== report.source) continue;
    if (rule.titleMatches && !new RegExp(rule.titleMatches, 'i').test(report.title)) continue;
    if (rule.indicatorsAllIn) {
      const all = [...report.indicators.domains, ...report.indicators.ips, ...report.indicators.urls, ...report.indicators.hashes];
      if (all.length === 0 || !all.every((i) => rule.indicatorsAllIn!.some((allowed) => i === allowed || i.endsWith(`.${allowed}`) || i.includes(`//${allowed}`))))
        continue;
    }
    if (!rule.titleMatches && !rule.indicatorsAllIn && !rule.source) continue;
    const blocker = autoCloseBlocker(report, policy);
    return { rule: rule.id, explanation: rule.explanation, ...(blocker ? { notApplied: blocker } : {}) };
  }
  return undefined;
}
