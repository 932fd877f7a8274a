/**
 * The case: its stages, its timeline and the view that every surface (CLI, Slack, API, UI)
 * renders. Pure data and pure transitions; the workflow owns the only mutable instance.
 */
import type { Policy, Severity } from './policy';
import type { Report } from './report';
import type { SeverityAssessment } from './scoring';
import type { Classification } from './categorize';
import type { EscalationTrigger } from './escalation';
import type { DeterminationRecord, PendingDetermination, RegulatoryFlag } from './regimes';
import { isOpenClock, type RegulatoryClock } from './clocks';
import type { Review } from './review';
import type { EvidenceItem } from './custody';
import type { AffectedFact, SignalFact } from './facts';
import type { TrustDecision } from './trust';
import type { Triage } from './triage';
import { sha256Hex } from './sha256';

export const STAGES = [
  'received',
  'validating',
  'triage',
  'categorized',
  'responding',
  'escalated',
  'recovery-gate',
  'recovering',
  'closed',
] as const;
export type Stage = (typeof STAGES)[number];

export const OPEN_STAGES: readonly Stage[] = STAGES.filter((s) => s !== 'closed');

export interface TimelineEntry {
  at: string;
  /** A person's id, or "warden" for automated steps. */
  actor: string;
  action: string;
  reason?: string;
}

/** One report folded into the case; the full text stays in the first report and the raw store. */
export interface EvidenceEntry {
  reportId: string;
  source: string;
  reporter: string;
  title: string;
  receivedAt: string;
  observedAt: string;
  /** Where the report's full payload is kept: the evidence store, by SHA-256. */
  evidence?: EvidenceRef;
}

/** A body in the evidence store, named by the SHA-256 of its bytes. */
export interface EvidenceRef {
  sha256: string;
  bytes: number;
  store: string;
}

/** What a case did not keep of one list: how many values, and a digest that chains over them. */
export interface Overflow {
  count: number;
  /** SHA-256 over the previous digest and each batch of values not kept, one per line. */
  digest: string;
}

/** The most a case keeps of each list in its state (the policy's `limits`). */
export interface CaseLimits {
  indicators: number;
  users: number;
  assets: number;
  reporters: number;
  timeline: number;
  evidence: number;
}

export interface CriterionState {
  id: string;
  description: string;
  verification: 'machine' | 'human';
  passed: boolean;
  /** Who signed it off, or the check that verified it. */
  by?: string;
  at?: string;
  detail?: string;
  attempts: number;
  /** machine criteria: when the check runs again. */
  nextCheckAt?: string;
}

export interface Escalation {
  at: string;
  actor: string;
  triggers: EscalationTrigger[];
  incidentRef?: string;
}

/** A human overruling the automated category and/or severity; the automated answer stays on record. */
export interface Override {
  at: string;
  by: string;
  reason: string;
  category?: string;
  severity?: Severity;
  /** What the case said before this override. */
  was: { category?: string; severity?: Severity };
}

export interface PartyLine {
  id: string;
  name: string;
  /** notifying, notified, reminded, escalated, acknowledged, released, failed */
  status: string;
  detail: string;
  at: string;
  workflowId: string;
}

export interface Notice {
  channel: string;
  ref?: string;
}

/** What Warden would do, held for a human to confirm: the votes were in doubt, or trust is not yet earned. */
export interface Proposal {
  at: string;
  /** Why a human must confirm, in words. */
  because: string;
  category: string;
  severity?: Severity;
  /** Whether the proposal pages (a page that is due goes out while the proposal waits). */
  page: boolean;
  /** Closing as a false alarm by this rule, with what the reporters would be told. */
  autoClose?: { rule: string; explanation: string };
  /** The classifier's ranked candidates, when the votes were in doubt. */
  candidates?: { category: string; confidence: number }[];
  /** Set once a human decided: confirmed, or overrode. */
  decided?: { by: string; at: string; how: 'confirmed' | 'overridden' | 'closed'; note?: string };
}

export interface CaseState {
  caseId: string;
  fingerprint: string;
  policyVersion: string;
  /** SHA-256 of the policy snapshot the case was opened with: which exact policy judged it. */
  policyDigest: string;
  stage: Stage;
  openedAt: string;
  /** The report that opened the case, in full. */
  firstReport?: Report;
  title: string;
  description: string;
  assets: string[];
  users: string[];
  dataClasses: string[];
  indicators: Report['indicators'];
  /** The campaign anchors of its reports (src/domain/campaign.ts), first ones kept, at most MAX_CAMPAIGN_ANCHORS: the WardenCampaign search attribute. */
  campaign?: string[];
  reporters: string[];
  /** The Message-ID of each mail reporter's report, for threaded replies. */
  reporterThreads: Record<string, string>;
  reportCount: number;
  /** Required fields the first report lacked, asked of the reporter. */
  missingFields?: string[];
  /** Ids of the most recent reports, so a report filed twice is folded in once. */
  recentReportIds: string[];
  /** The most recent evidence entries (older ones are counted, not kept, to bound history). */
  evidence: EvidenceEntry[];
  classification?: Classification;
  /** Human overrides, oldest first; the effective category and severity honour the latest. */
  overrides: Override[];
  severity?: Severity;
  assessment?: SeverityAssessment;
  queue?: string;
  /** Forensic collection steps for the category, and regulatory regimes the data involved flags. */
  forensics: string[];
  regulatoryFlags: RegulatoryFlag[];
  /** Regulatory notification clocks running on the case. */
  clocks: RegulatoryClock[];
  /** Determinations responders recorded (e.g. "material"), oldest first; the latest per id stands. */
  determinations: DeterminationRecord[];
  /** Determinations a regime waits on: asked of their deciders, required before closing as resolved. */
  determinationsNeeded: PendingDetermination[];
  /** Jurisdictions a responder recorded (e.g. where affected people live), beyond the assets' own. */
  jurisdictions: string[];
  /** Individuals affected, as a responder counted them. */
  affected?: number;
  /** People or records affected as triage read them from the reports (field or text), with the source. */
  affectedFound?: AffectedFact;
  /** Activity signals found in the reports or implied by a source's finding type, with where each came from. */
  signals?: SignalFact[];
  /** Whether Warden acted alone on its triage or proposed it, and why (the trust loop). */
  trust?: TrustDecision;
  /** A triage held for a human to confirm. */
  proposal?: Proposal;
  /** Third parties of the response plan involved in the incident, one line each. */
  parties: PartyLine[];
  /** Forensic evidence items with their chain of custody (bodies stored outside history). */
  evidenceItems: EvidenceItem[];
  paged: boolean;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  assignees: string[];
  escalations: Escalation[];
  escalated: boolean;
  /** Triggers that a de-escalation set aside; they do not re-escalate the case by themselves. */
  setAsideTriggers: string[];
  slaDeadlines: { acknowledgeBy?: string; respondBy?: string };
  slaBreaches: string[];
  recovery: CriterionState[];
  recoveryDecision?: { at: string; by: string };
  closure?: { at: string; by: string; resolution: Resolution; reason: string; review?: Review };
  cardRef?: string;
  /** Bumped on every card update: the update's idempotency key. */
  cardRevision: number;
  timeline: TimelineEntry[];
  /** Timeline entries moved to the evidence store (the policy bounds the timeline): how many, and the latest archive's SHA-256 (each names the one before). */
  timelineArchive?: { count: number; head?: string; pending: number };
  /** Values beyond the policy's limits, per list: counted and digested, not kept. */
  overflow: Partial<Record<'users' | 'assets' | 'reporters' | 'ips' | 'domains' | 'urls' | 'hashes', Overflow>>;
  /** How many times this case has continued as new. */
  generation: number;
  /** Results the case waits on ("classify", "agreement", "card", "check:<id>"…): an effect is not asked for twice. */
  awaiting: string[];
  /** Something the card shows changed since it was last posted. */
  cardDue: boolean;
  /** A false-alarm rule waiting on its category's measured agreement. */
  validation?: { rule: string; explanation: string; category: string };
  /** Triage judged, waiting on the category's measured agreement. */
  triageDraft?: Omit<Triage, 'trust' | 'confirmBecause'>;
}

export const RESOLUTIONS = ['resolved', 'false-alarm', 'duplicate', 'accepted-risk'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const MAX_EVIDENCE_KEPT = 50;
export const MAX_REPORTERS_KEPT = 1_000;
/** Campaign anchors a case keeps (a KeywordList search attribute stays well under the server's value size limit). */
export const MAX_CAMPAIGN_ANCHORS = 48;

export type CaseView = CaseState & {
  evidenceCount: number;
  openTasks: string[];
};

export function newCase(caseId: string, fingerprint: string, policy: Policy, at: string): CaseState {
  return {
    caseId,
    fingerprint,
    policyVersion: policy.version,
    policyDigest: sha256Hex(JSON.stringify(policy)),
    stage: 'received',
    openedAt: at,
    title: '',
    description: '',
    assets: [],
    users: [],
    dataClasses: [],
    indicators: { ips: [], domains: [], urls: [], hashes: [] },
    reporters: [],
    reporterThreads: {},
    reportCount: 0,
    recentReportIds: [],
    evidence: [],
    overrides: [],
    forensics: [],
    regulatoryFlags: [],
    clocks: [],
    determinations: [],
    determinationsNeeded: [],
    jurisdictions: [],
    evidenceItems: [],
    parties: [],
    paged: false,
    assignees: [],
    escalations: [],
    escalated: false,
    setAsideTriggers: [],
    slaDeadlines: {},
    slaBreaches: [],
    recovery: policy.recovery.criteria.map((c) => ({
      id: c.id,
      description: c.description,
      verification: c.verification,
      passed: false,
      attempts: 0,
    })),
    cardRevision: 0,
    timeline: [],
    overflow: {},
    generation: 0,
    awaiting: [],
    cardDue: false,
  };
}

export const DEFAULT_LIMITS: CaseLimits = { indicators: 500, users: 1_000, assets: 500, reporters: MAX_REPORTERS_KEPT, timeline: 1_000, evidence: MAX_EVIDENCE_KEPT };

type Bounded = keyof CaseState['overflow'];

/** Merge values into a bounded list: new ones are kept up to the limit, the rest counted and digested. */
function merge(state: CaseState, list: Bounded, kept: string[], incoming: string[], limit: number): void {
  if (!incoming.length) return;
  const have = new Set(kept);
  const beyond: string[] = [];
  for (const value of new Set(incoming)) {
    if (have.has(value)) continue;
    if (kept.length < limit) {
      kept.push(value);
      have.add(value);
    } else beyond.push(value);
  }
  if (!beyond.length) return;
  const was = state.overflow[list];
  state.overflow[list] = { count: (was?.count ?? 0) + beyond.length, digest: sha256Hex(`${was?.digest ?? ''}\n${beyond.join('\n')}`) };
}

/** A report as a case keeps it: its lists cut to the limits (the full payload is in the evidence store). */
export function boundedReport(report: Report, limits: CaseLimits): Report {
  return {
    ...report,
    assets: report.assets.slice(0, limits.assets),
    users: report.users.slice(0, limits.users),
    indicators: {
      ips: report.indicators.ips.slice(0, limits.indicators),
      domains: report.indicators.domains.slice(0, limits.indicators),
      urls: report.indicators.urls.slice(0, limits.indicators),
      hashes: report.indicators.hashes.slice(0, limits.indicators),
    },
  };
}

/** Fold one report into the case: facts merge up to the policy's limits, reporters accumulate, evidence is counted. */
export function addReport(state: CaseState, report: Report, limits: CaseLimits = DEFAULT_LIMITS): void {
  if (!state.firstReport) {
    state.firstReport = boundedReport(report, limits);
    state.title = report.title;
    state.description = report.description;
  }
  merge(state, 'assets', state.assets, report.assets, limits.assets);
  merge(state, 'users', state.users, report.users, limits.users);
  state.dataClasses = [...new Set([...state.dataClasses, ...report.dataClasses])];
  for (const kind of ['ips', 'domains', 'urls', 'hashes'] as const) merge(state, kind, state.indicators[kind], report.indicators[kind], limits.indicators);
  if (!state.reporters.includes(report.reporter)) {
    const before = state.reporters.length;
    merge(state, 'reporters', state.reporters, [report.reporter], limits.reporters);
    if (state.reporters.length > before && report.messageId) state.reporterThreads[report.reporter] = report.messageId;
  }
  state.reportCount += 1;
  state.evidence.push({
    reportId: report.reportId,
    source: report.source,
    reporter: report.reporter,
    title: report.title,
    receivedAt: report.receivedAt,
    observedAt: report.observedAt,
    ...(report.evidence ? { evidence: report.evidence } : {}),
  });
  if (state.evidence.length > limits.evidence) state.evidence.splice(0, state.evidence.length - limits.evidence);
}

/** Add a report's campaign anchors to the case's (bounded, first ones kept); true when the case's anchors changed. */
export function addCampaignAnchors(state: CaseState, anchors: string[] | undefined): boolean {
  if (!anchors?.length) return false;
  const kept = (state.campaign ??= []);
  let changed = false;
  for (const a of anchors) {
    if (kept.length >= MAX_CAMPAIGN_ANCHORS) break;
    if (!kept.includes(a)) {
      kept.push(a);
      changed = true;
    }
  }
  return changed;
}

/** The category the case goes by: the latest human override, else the classifier's. */
export function categoryOf(state: CaseState): string | undefined {
  for (let i = state.overrides.length - 1; i >= 0; i--) if (state.overrides[i].category) return state.overrides[i].category;
  return state.classification?.category;
}

/** The severity a human set, if any (it stands until another override; re-scoring does not change it). */
export function humanSeverity(state: CaseState): Severity | undefined {
  for (let i = state.overrides.length - 1; i >= 0; i--) if (state.overrides[i].severity) return state.overrides[i].severity;
  return undefined;
}

export function record(state: CaseState, at: string, actor: string, action: string, reason?: string): TimelineEntry {
  const entry: TimelineEntry = reason === undefined ? { at, actor, action } : { at, actor, action, reason };
  state.timeline.push(entry);
  return entry;
}

export function isOpen(state: CaseState): boolean {
  return state.stage !== 'closed';
}

/** What still needs a human or a check, in runbook order. */
export function openTasks(state: CaseState): string[] {
  if (state.stage === 'closed') return [];
  const tasks: string[] = [];
  if (state.proposal && !state.proposal.decided)
    tasks.push(`confirm triage: ${state.proposal.autoClose ? `close as false alarm (${state.proposal.autoClose.rule})` : `${state.proposal.category}, ${state.proposal.severity ?? 'unscored'}`} (${state.proposal.because})`);
  if (!state.acknowledgedBy && state.stage !== 'received' && state.stage !== 'validating') tasks.push('acknowledge');
  if (state.assignees.length === 0 && state.acknowledgedBy) tasks.push('assign a responder');
  for (const c of state.recovery)
    if (!c.passed) tasks.push(c.verification === 'human' ? `sign off: ${c.id}` : `machine check: ${c.id}`);
  for (const d of state.determinationsNeeded ?? []) tasks.push(`determine: ${d.question} (${d.regimes.join(', ')})`);
  for (const c of state.clocks ?? []) if (isOpenClock(c)) tasks.push(`file: ${c.name} by ${c.dueAt}`);
  if (state.stage !== 'recovering' && state.stage !== 'triage' && state.stage !== 'received' && state.stage !== 'validating')
    state.forensics.forEach((step, i) => {
      if (!(state.evidenceItems ?? []).some((e) => e.step === i + 1)) tasks.push(`collect (step ${i + 1}): ${step}`);
    });
  if (state.stage === 'recovering') tasks.push('close when recovery is complete');
  return tasks;
}

/** The case as every surface reads it; the machine's bookkeeping (what it waits on) stays inside. */
export function viewOf(state: CaseState): CaseView {
  const { awaiting: _awaiting, cardDue: _cardDue, validation: _validation, triageDraft: _draft, ...view } = state;
  return { ...(view as CaseState), evidenceCount: state.reportCount, openTasks: openTasks(state) };
}
