/**
 * Validation of a received report before it is assigned: is it an obvious false alarm by the
 * policy's rules? Pure; the case workflow applies it in its "validating" stage.
 */
import { detectDataClasses } from './data-classes';
import { entryFor, findAsset, type Policy } from './policy';
import type { Report } from './report';
import { incompleteIndicators } from './indicators';

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
  const regulated = [...new Set(classes.filter((c) => policy.severity.regulatedDataClasses.includes(c)))];
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

/**
 * The first false-alarm rule the report matches, on facts Warden has verified:
 * - `senderDomainIn` matches the sender our own mail servers authenticated (Report.verified,
 *   which only the intake's adapters set), never the From a mail merely claims;
 * - `indicatorsAllIn` matches when every indicator kept is in the list (a URL by its host);
 * - and no rule closes a report whose adapter counted an indicator it did not keep (too long,
 *   past the cap, unparsed) or a part it could not read: what Warden did not keep, it did not check.
 * When the rule's conditions hold only on claims (the sender is claimed, not verified) or only on
 * what was kept, the verdict says so in `notApplied`: a human decides, and the timeline says why.
 */
export function matchFalseAlarm(report: Report, policy: Policy): FalseAlarmVerdict | undefined {
  for (const rule of policy.falseAlarms) {
    if (rule.source && rule.source !== report.source) continue;
    if (rule.titleMatches && !new RegExp(rule.titleMatches, 'i').test(report.title)) continue;
    if (rule.indicatorsAllIn) {
      const listed = (host: string) => rule.indicatorsAllIn!.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
      const all = [
        ...[...report.indicators.domains, ...report.indicators.ips, ...report.indicators.hashes].map((i) => listed(i)),
        ...report.indicators.urls.map((u) => listed(hostOf(u))),
      ];
      if (all.length === 0 || !all.every(Boolean)) continue;
    }
    const reasons: string[] = [];
    if (rule.senderDomainIn) {
      const listed = (domain: string | undefined) => !!domain && rule.senderDomainIn!.some((allowed) => domain === allowed || domain.endsWith(`.${allowed}`));
      if (!listed(report.verified?.senderDomain)) {
        // A mail that does not even claim the sender is simply not this rule's.
        if (!listed(report.verified?.claimedSenderDomain)) continue;
        reasons.push(`the sender ${report.verified!.claimedSenderDomain} is not verified (${report.verified!.notVerified ?? 'not authenticated by our mail servers'})`);
      }
    }
    if (!rule.titleMatches && !rule.indicatorsAllIn && !rule.source && !rule.senderDomainIn) continue;
    const incomplete = incompleteIndicators(report.indicatorCounts);
    if (incomplete) reasons.push(`not every indicator was checked: ${incomplete}`);
    const blocker = autoCloseBlocker(report, policy);
    if (blocker) reasons.push(blocker);
    return { rule: rule.id, explanation: rule.explanation, ...(reasons.length ? { notApplied: reasons.join('; ') } : {}) };
  }
  return undefined;
}

/** The rule that would close the report by itself, if one would (a match that is not set aside). */
export function autoClosingRule(report: Report, policy: Policy): string | undefined {
  const verdict = matchFalseAlarm(report, policy);
  return verdict && !verdict.notApplied ? verdict.rule : undefined;
}

function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)/i.exec(url);
  return (m?.[1] ?? '').toLowerCase().replace(/\.$/, '');
}
