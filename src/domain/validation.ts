/**
 * Validation of a received report before it is assigned: is it an obvious false alarm by the
 * policy's rules? Pure; the case workflow applies it in its "validating" stage.
 */
import type { Policy } from './policy';
import type { Report } from './report';

export interface FalseAlarmVerdict {
  rule: string;
  explanation: string;
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
    return { rule: rule.id, explanation: rule.explanation };
  }
  return undefined;
}
