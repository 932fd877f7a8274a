/**
 * Triage as one pure function: for a report (or a case's facts) and the policy, the category,
 * the severity with its factors, the owning queue, whether to page, the escalation path, the
 * forensic collection steps for the category and the regulatory flags. The case workflow records
 * exactly this answer (with the configured classifier's category); `warden triage` prints it for
 * a report without opening a case.
 */
import { type Classification, classifyByRules, routeToQueue } from './categorize';
import { type DetectedDataClass, detectDataClasses } from './data-classes';
import { type EscalationTrigger, escalationTriggers } from './escalation';
import { atOrAbove, entryFor, type Policy } from './policy';
import { caseJurisdictions, type PendingDetermination, type RegulatoryFlag, pendingDeterminations, regulatoryFlags } from './regimes';
import { assessSeverity, type SeverityAssessment } from './scoring';

export interface TriageFacts {
  title: string;
  description: string;
  source?: string;
  categoryHint?: string;
  assets: string[];
  users: string[];
  dataClasses: string[];
  reportCount?: number;
  /** Regulatory facts a responder recorded on the case (none for a fresh report). */
  jurisdictions?: string[];
  determined?: Record<string, boolean>;
  affected?: number;
  declared?: boolean;
}

export interface Triage {
  classification: Classification;
  assessment: SeverityAssessment;
  queue: string;
  routedBecause: string;
  page: boolean;
  escalation: { path: 'escalate' | 'respond'; triggers: EscalationTrigger[] };
  forensics: string[];
  regulatoryFlags: RegulatoryFlag[];
  /** Human determinations that would trigger a regime, still to be made. */
  determinationsNeeded: PendingDetermination[];
  /** Data classes the report's own words name, added to what the sender declared. */
  dataClassesFound: DetectedDataClass[];
}

export function triage(facts: TriageFacts, policy: Policy, classification: Classification = classifyByRules(facts, policy)): Triage {
  const detected = detectDataClasses(`${facts.title}\n${facts.description}`);
  const dataClasses = [...new Set([...facts.dataClasses, ...detected.map((d) => d.dataClass)])];
  facts = { ...facts, dataClasses };
  const assessment = assessSeverity({ ...facts, reportCount: facts.reportCount ?? 1 }, policy);
  const route = routeToQueue(policy, classification.category, facts.assets);
  const regime = {
    dataClasses,
    jurisdictions: caseJurisdictions(policy, facts.assets, facts.jurisdictions),
    entityTypes: policy.regulatoryProfile.entityTypes,
    determinations: facts.determined ?? {},
    affected: facts.affected,
    declared: facts.declared ?? false,
  };
  const triggers = escalationTriggers({ severity: assessment.severity, assets: facts.assets, users: facts.users, regulatedData: assessment.regulatedData }, policy);
  return {
    classification,
    assessment,
    queue: route.queue,
    routedBecause: route.why,
    page: atOrAbove(assessment.severity, policy.paging.pageAtOrAbove),
    escalation: { path: triggers.length ? 'escalate' : 'respond', triggers },
    forensics: entryFor(policy.forensics, classification.category) ?? [],
    regulatoryFlags: regulatoryFlags(regime, policy),
    determinationsNeeded: pendingDeterminations(regime, policy),
    dataClassesFound: detected,
  };
}
