/**
 * Everything a caller needs to talk to a case: the workflow's input, its signal, updates and
 * query, and the search attributes it keeps current. One module, imported by the workflow, the
 * intake, the CLI and the tests alike.
 */
import { defineSearchAttributeKey, SearchAttributeType, type UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate, type Sink, type Sinks } from '@temporalio/workflow';
import type { ActionInputs, CaseReceipt, CaseState, CaseView, Policy, Report, Resolution, Review, Severity } from '../domain';

export type { CaseReceipt } from '../domain';

export const TASK_QUEUE = 'warden';
export const WORKFLOW_TYPE = 'incidentCase';

export interface CaseInput {
  caseId: string;
  /** The dedupe key's canonical text hash; equal for every report folded into this case. */
  fingerprint: string;
  /** The policy snapshot the case is judged by; its version is recorded on the case. */
  policy: Policy;
  /** Carried across continue-as-new; absent on a new case. */
  state?: CaseState;
  /** Reports the previous run received while it drained, taken in first by the next. */
  pending?: Report[];
}

/** A further report for the case: the first one opens it (signalWithStart), the rest are evidence. */
export const reportSignal = defineSignal<[Report]>('report');
/** Several reports at once: the intake's group commit during a storm. */
export const reportsSignal = defineSignal<[Report[]]>('reports');

export interface ActorInput {
  /** Who is acting (a user id that the policy's roles name). */
  actor: string;
}
export interface ReasonInput extends ActorInput {
  reason: string;
}
export interface AssignInput extends ActorInput {
  assignee: string;
}
export interface SignOffInput extends ActorInput {
  criterion: string;
  note?: string;
}
export interface CloseInput extends ReasonInput {
  resolution?: Resolution;
  /** The post-incident review; required (fields per policy) to close a declared incident as resolved. */
  review?: Review;
}

export interface OverrideInput extends ReasonInput {
  category?: string;
  severity?: Severity;
}

export interface FilingInput extends ActorInput {
  /** The clock's key, "<regime>/<clock>" (e.g. "gdpr-art33/notify-authority"). */
  clock: string;
  /** The filing's reference: the authority's case number, a submission receipt. */
  reference: string;
}

export interface DeterminationInput extends ReasonInput {
  /** The determination's id in the policy (e.g. "material"). */
  determination: string;
  /** true: made (e.g. the incident is material); false: decided against. */
  decision: boolean;
  /** When it was made, if earlier than now (ISO-8601); clocks count from this. */
  at?: string;
}

export interface ScopeInput extends ReasonInput {
  /** Individuals affected, as counted so far. */
  affected?: number;
  /** Jurisdictions the incident reaches beyond its assets' (e.g. where affected people live). */
  jurisdictions?: string[];
}

export const acknowledgeUpdate = defineUpdate<CaseReceipt, [ActorInput]>('acknowledge');
export const assignUpdate = defineUpdate<CaseReceipt, [AssignInput]>('assign');
export const escalateUpdate = defineUpdate<CaseReceipt, [ReasonInput]>('escalate');
export const deescalateUpdate = defineUpdate<CaseReceipt, [ReasonInput]>('deescalate');
export const signOffUpdate = defineUpdate<CaseReceipt, [SignOffInput]>('signOff');
export const closeUpdate = defineUpdate<CaseReceipt, [CloseInput]>('close');
export interface EvidenceInput extends ActorInput {
  description: string;
  collectedFrom: string;
  sha256: string;
  storageRef: string;
  collectedAt?: string;
  step?: number;
}
export interface CustodyInput extends ActorInput {
  item: string;
  to: string;
  reason: string;
}

/** A third party's coordination child reports a step to its case. */
export const partyStatusSignal = defineSignal<[{ party: string; status: string; detail: string; at: string; workflowId: string }]>('partyStatus');

/** To a party's coordination: it acknowledged (recorded by a responder, or by the party's own link)… */
export const partyAcknowledgedSignal = defineSignal<[{ by: string; note?: string }]>('partyAcknowledged');
/** …or it is released from the incident. */
export const partyReleasedSignal = defineSignal<[{ by: string; reason: string }]>('partyReleased');

export interface PartyActionInput extends ActorInput {
  party: string;
  reason?: string;
}
/** Record that a third party acknowledged (e.g. by phone), or release a party from the incident. */
export const acknowledgePartyUpdate = defineUpdate<CaseReceipt, [PartyActionInput]>('acknowledgeParty');
export const releasePartyUpdate = defineUpdate<CaseReceipt, [PartyActionInput]>('releaseParty');
/** Bring in a party of the response plan that was not involved yet. */
export const addPartyUpdate = defineUpdate<CaseReceipt, [PartyActionInput]>('addParty');

/** Record a collected evidence item (its hash and where its body is stored). */
export const recordEvidenceUpdate = defineUpdate<CaseReceipt, [EvidenceInput]>('recordEvidence');
/** Hand an evidence item to someone else; the chain of custody records it. */
export const transferCustodyUpdate = defineUpdate<CaseReceipt, [CustodyInput]>('transferCustody');
/** Record that a regulatory notification was filed: its clock stops. */
export const recordFilingUpdate = defineUpdate<CaseReceipt, [FilingInput]>('recordFiling');
/** Record a human determination (e.g. materiality); regimes waiting on it start their clocks. */
export const determineUpdate = defineUpdate<CaseReceipt, [DeterminationInput]>('determine');
/** Record the incident's scope: people affected and jurisdictions reached; regimes are re-judged. */
export const recordScopeUpdate = defineUpdate<CaseReceipt, [ScopeInput]>('recordScope');
/** Overrule the automated category and/or severity; the automated answer stays on the case for the audit. */
export const overrideUpdate = defineUpdate<CaseReceipt, [OverrideInput]>('override');
export interface ConfirmInput extends ActorInput {
  /** Why the proposal stands, in a few words (optional). */
  note?: string;
}
/** Confirm the triage Warden proposed (category, severity, page, or closing as a false alarm): the case goes on. */
export const confirmTriageUpdate = defineUpdate<CaseReceipt, [ConfirmInput]>('confirmTriage');

export const caseViewQuery = defineQuery<CaseView>('caseView');

/**
 * What a case reports to the worker's metrics as it happens (a workflow sink: not in history,
 * not called again when the case is replayed).
 */
export interface CaseMetricsSinks extends Sinks {
  caseMetrics: Sink & {
    /** An SLA clock passed without its human action. */
    slaBreached(clock: string, severity: string): void;
    /** A regulatory deadline passed without a recorded filing. */
    deadlineMissed(regime: string): void;
  };
}

export const WardenStatus = defineSearchAttributeKey('WardenStatus', SearchAttributeType.KEYWORD);
export const WardenSeverity = defineSearchAttributeKey('WardenSeverity', SearchAttributeType.KEYWORD);
export const WardenCategory = defineSearchAttributeKey('WardenCategory', SearchAttributeType.KEYWORD);
export const WardenQueue = defineSearchAttributeKey('WardenQueue', SearchAttributeType.KEYWORD);
/** The category Warden decided at triage, before any human changed it: what the trust loop measures. */
export const WardenAutoCategory = defineSearchAttributeKey('WardenAutoCategory', SearchAttributeType.KEYWORD);
/** Set when a closed case was judged by a human: "agreed" (confirmed, or worked with the category standing) or "overridden". */
export const WardenVerdict = defineSearchAttributeKey('WardenVerdict', SearchAttributeType.KEYWORD);
/** Whether a person has acknowledged the case. */
export const WardenAcknowledged = defineSearchAttributeKey('WardenAcknowledged', SearchAttributeType.BOOL);
/** The case's next deadline (an SLA or a regulatory clock), to sort and filter on in the Web UI. */
export const WardenNextDeadline = defineSearchAttributeKey('WardenNextDeadline', SearchAttributeType.DATETIME);
/**
 * The case's campaign anchors (src/domain/campaign.ts), at most MAX_CAMPAIGN_ANCHORS: the intake
 * files a report to the open case that holds any of its anchors (src/intake/filing.ts).
 */
export const WardenCampaign = defineSearchAttributeKey('WardenCampaign', SearchAttributeType.KEYWORD_LIST);

/** Every human action's update, by name (each answers a small receipt; the case view is the query). */
export const ACTION_UPDATES = {
  acknowledge: acknowledgeUpdate,
  assign: assignUpdate,
  escalate: escalateUpdate,
  deescalate: deescalateUpdate,
  signOff: signOffUpdate,
  close: closeUpdate,
  acknowledgeParty: acknowledgePartyUpdate,
  releaseParty: releasePartyUpdate,
  addParty: addPartyUpdate,
  recordEvidence: recordEvidenceUpdate,
  transferCustody: transferCustodyUpdate,
  recordFiling: recordFilingUpdate,
  determine: determineUpdate,
  recordScope: recordScopeUpdate,
  confirmTriage: confirmTriageUpdate,
  override: overrideUpdate,
} satisfies { [A in keyof ActionInputs]: UpdateDefinition<CaseReceipt, [ActionInputs[A]]> };

/** Registered with the server at start (`--search-attribute NAME=Keyword`; WardenCampaign is a KeywordList). */
export const SEARCH_ATTRIBUTES = [WardenStatus, WardenSeverity, WardenCategory, WardenQueue, WardenCampaign];

/** The workflow id of a case: readable in the Temporal UI, derived from the case id alone. */
export function workflowIdFor(caseId: string): string {
  return caseId.startsWith('case-') ? caseId : `case-${caseId}`;
}

/** The workflow id of a third party's coordination on a case (a child of the case). */
export function partyWorkflowId(caseId: string, party: string): string {
  return `${workflowIdFor(caseId)}-party-${party}`;
}

export function caseIdFrom(workflowId: string): string {
  return workflowId.replace(/^case-/, '');
}
