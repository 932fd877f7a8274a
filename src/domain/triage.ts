/**
 * Triage as one pure function: facts, then judgment, then trust. For a report (or a case's facts)
 * and the policy: the facts its fields and words give (people affected, data kinds, assets named,
 * activity signals), the category (the classifier's vote, or the structured source's own type
 * through the policy's table), the severity with its factors, the owning queue, whether to page,
 * the escalation path, the forensic collection steps, the regulatory flags, and whether Warden may
 * act on it alone. The case workflow records exactly this answer; `warden triage` prints it.
 */
import { type Classification, classifyByRules, routeToQueue } from './categorize';
import { type EscalationTrigger, escalationTriggers } from './escalation';
import { type AffectedFact, type DataClassFact, reportFacts, type ReportFacts, type SignalFact } from './facts';
import { atOrAbove, entryFor, type Policy } from './policy';
import { caseJurisdictions, type PendingDetermination, type RegulatoryFlag, pendingDeterminations, regulatoryFlags } from './regimes';
import { assessSeverity, type SeverityAssessment } from './scoring';
import { sourceTypeVerdict, type SourceTypeVerdict } from './source-types';
import { type MeasuredAgreement, type TrustDecision, trustFor } from './trust';

export interface TriageFacts {
  title: string;
  description: string;
  source?: string;
  categoryHint?: string;
  /** The sending tool's own type for the finding, matched against the policy's sourceTypes table. */
  sourceType?: string;
  /** Further types of the finding (ATT&CK techniques, tactics) for the same table. */
  sourceTypes?: string[];
  assets: string[];
  users: string[];
  dataClasses: string[];
  reportCount?: number;
  /** Regulatory facts a responder recorded on the case (none for a fresh report). */
  jurisdictions?: string[];
  determined?: Record<string, boolean>;
  /** People or records affected, as the report or a responder states it. */
  affected?: number;
  declared?: boolean;
  /** Activity signals a structured source's type implies. */
  signals?: SignalFact[];
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
  /** Every fact weighed, with where it came from. */
  facts: ReportFacts;
  /** People or records affected, and where the count came from. */
  affected?: AffectedFact;
  /** The assets the case is about: the report's, and inventory assets its words name. */
  assets: string[];
  /** The accounts affected: the report's, and accounts its words name. */
  users: string[];
  /** Data involved: declared, held by the assets, or named in the words, with where each came from. */
  dataClasses: DataClassFact[];
  /** Whether Warden may act on this alone, and why (the trust loop). */
  trust: TrustDecision;
  /** Set when a human must confirm before Warden acts: why, in words. */
  confirmBecause?: string;
}

export interface TriageOptions {
  /** The classifier's answer (default: the rules engine). */
  classification?: Classification;
  /** The measured agreement of the category's automated decisions with humans. */
  agreement?: MeasuredAgreement;
}

/**
 * The category to score by: the decided one; while the votes are in doubt, the candidate whose
 * impact is the worst, so that doubt never lowers a severity (nor withholds a page).
 */
function scoringCategory(classification: Classification, policy: Policy): string {
  if (!classification.needsHuman || !classification.candidates?.length) return classification.category;
  const impact = (id: string) => policy.taxonomy.find((c) => c.id === id)?.impact ?? 0;
  return [classification.category, ...classification.candidates.map((c) => c.category)].reduce((a, b) => (impact(b) > impact(a) ? b : a));
}

/**
 * A structured source says what it is: its finding type, through the policy's table, decides the
 * category over the classifier's reading of the words (whose vote stays on record).
 */
function byTable(verdict: SourceTypeVerdict, read: Classification): Classification {
  return {
    category: verdict.category,
    classifier: 'source-type',
    classifierVersion: '1',
    confidence: 0.99,
    rationale: `the source's own type ${verdict.sourceType} maps to ${verdict.category} (policy sourceTypes ${verdict.rule})${read.category !== verdict.category ? `; the words read as ${read.category} (${read.classifier})` : ''}`,
    matched: [`type:${verdict.sourceType}`],
    votes: [
      { classifier: 'source-type', classifierVersion: '1', category: verdict.category, confidence: 0.99, weight: 1 },
      { classifier: read.classifier, classifierVersion: read.classifierVersion, category: read.category, confidence: read.confidence, weight: 0 },
    ],
  };
}

export function triage(input: TriageFacts, policy: Policy, options: TriageOptions | Classification = {}): Triage {
  const opts: TriageOptions = 'category' in options ? { classification: options as Classification } : (options as TriageOptions);
  const table = input.source ? sourceTypeVerdict(policy, { source: input.source, sourceType: input.sourceType, sourceTypes: input.sourceTypes }) : undefined;
  const tableSignals = (table?.signals ?? []).map((signal) => ({ signal, from: `source type ${table!.sourceType} (${table!.rule})` }));
  const facts = reportFacts({ ...input, signals: [...(input.signals ?? []), ...tableSignals] }, policy);
  const assets = [...input.assets, ...facts.assetsNamed.map((a) => a.asset)];
  const dataClasses = facts.dataClasses.map((d) => d.dataClass);
  const users = [...input.users, ...facts.usersNamed.map((u) => u.user)];
  const read = opts.classification ?? classifyByRules(input, policy);
  const classification = table && read.classifier !== 'source-type' ? byTable(table, read) : read;
  const assessment = assessSeverity(
    {
      assets,
      users,
      dataClasses,
      reportCount: input.reportCount ?? 1,
      category: scoringCategory(classification, policy),
      signals: facts.signals,
      affected: facts.affected,
    },
    policy,
  );
  const route = routeToQueue(policy, classification.category, assets);
  const regime = {
    dataClasses,
    jurisdictions: caseJurisdictions(policy, assets, input.jurisdictions),
    entityTypes: policy.regulatoryProfile.entityTypes,
    determinations: input.determined ?? {},
    affected: facts.affected?.count,
    declared: input.declared ?? false,
  };
  const triggers = escalationTriggers({ severity: assessment.severity, assets, users, regulatedData: assessment.regulatedData }, policy);
  return withTrust(
    {
      classification,
      assessment,
      queue: route.queue,
      routedBecause: route.why,
      page: atOrAbove(assessment.severity, policy.paging.pageAtOrAbove),
      escalation: { path: triggers.length ? 'escalate' : 'respond', triggers },
      forensics: entryFor(policy.forensics, classification.category) ?? [],
      regulatoryFlags: regulatoryFlags(regime, policy),
      determinationsNeeded: pendingDeterminations(regime, policy),
      facts,
      affected: facts.affected,
      assets,
      users,
      dataClasses: facts.dataClasses,
    },
    opts.agreement,
    policy,
  );
}

/**
 * The trust loop on a triage answer: whether Warden may act on its category alone, given the
 * category's measured agreement with humans, and why a human must confirm when not (the votes in
 * doubt, or trust not yet earned). The workflow decides the category first, measures its
 * agreement, then applies this, without triaging twice.
 */
export function withTrust(answer: Omit<Triage, 'trust' | 'confirmBecause'>, agreement: MeasuredAgreement | undefined, policy: Policy): Triage {
  const trust = trustFor(answer.classification.category, agreement, policy);
  const confirmBecause = answer.classification.needsHuman ?? (trust.mode === 'propose' ? trust.why : undefined);
  const { confirmBecause: _stale, ...rest } = answer as Triage;
  return { ...rest, trust, ...(confirmBecause ? { confirmBecause } : {}) };
}
