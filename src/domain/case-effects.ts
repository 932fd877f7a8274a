/**
 * What a case asks the world to do: the effects the case machine (src/domain/case-machine.ts)
 * returns and the workflow carries out as activities. Plain data: an effect names the activity, its
 * input, the words its failure goes on the timeline with, and what the machine does with its
 * result. Builders here turn the case into the inputs the vendors' connectors take (the summary,
 * the card, one notice per recipient).
 */
import type { CaseState, TimelineEntry } from './case';
import { categoryOf } from './case';
import { isOpenClock } from './clocks';
import type { Policy, Severity } from './policy';

/** The case as every vendor message shows it (Slack card, page, incident). */
export interface CaseSummary {
  caseId: string;
  title: string;
  stage: string;
  severity?: Severity;
  category?: string;
  queue?: string;
  evidenceCount: number;
  escalated: boolean;
  acknowledgedBy?: string;
  assignees: string[];
  /** The page priority the policy gives this severity. */
  pagePriority?: 'critical' | 'error' | 'warning' | 'info';
  /** Link to the case in the Temporal Web UI. */
  link?: string;
  /** Regulatory determinations still open and deadlines still running, one line each. */
  regulatory?: string[];
  /** When the case opened: how far back a repost check reads. */
  openedAt?: string;
}

/** The activities a case calls. */
export type CaseActivity =
  | 'classifyReport'
  | 'measureAgreement'
  | 'pageOnCall'
  | 'publishCaseCard'
  | 'declareIncident'
  | 'updateIncident'
  | 'postEscalationSummary'
  | 'notifyCommanders'
  | 'notifyReporters'
  | 'alertOperators'
  | 'runRecoveryCheck'
  | 'storeEvidence';

/**
 * What the machine does with an activity's result (or failure). Effects without one only report a
 * failure: it goes on the timeline and the operators are alerted.
 */
export type ResultHandler =
  | { on: 'classified' }
  | { on: 'agreement'; purpose: 'false-alarm' | 'triage' }
  | { on: 'paged'; why: string }
  | { on: 'page-acknowledged' }
  | { on: 'card' }
  | { on: 'declared'; escalation: number }
  | { on: 'checked'; criterion: string }
  | { on: 'stored'; reportId: string }
  | { on: 'archived' }
  | { on: 'operators-alerted' };

export interface ActivityEffect {
  kind: 'activity';
  activity: CaseActivity;
  input: Record<string, unknown>;
  /** How a failure reads on the timeline: "<what> failed". */
  what: string;
  /** Short in-process work (classification, a visibility count): a local activity. */
  local?: boolean;
  result?: ResultHandler;
  /** The activity's arguments when it takes more than its one input. */
  args?: unknown[];
}

/** Start a third party's coordination as a child workflow that outlives the case's runs. */
export interface StartPartyEffect {
  kind: 'start-party';
  workflowId: string;
  input: Record<string, unknown>;
  what: string;
}

/** Tell a third party's coordination that it was acknowledged, or is released. */
export interface SignalPartyEffect {
  kind: 'signal-party';
  workflowId: string;
  signal: 'acknowledged' | 'released';
  payload: { by: string; note?: string; reason?: string };
  what: string;
  /** At closing the party may have ended on its own: a failure then is not worth a line. */
  quiet?: boolean;
}

/** A metric for the worker's dashboards (a sink: not in history, not repeated on replay). */
export interface MetricEffect {
  kind: 'metric';
  metric: 'slaBreached' | 'deadlineMissed';
  labels: string[];
}

export type Effect = ActivityEffect | StartPartyEffect | SignalPartyEffect | MetricEffect;

/** The result an activity effect produced, fed back to the machine. */
export type EffectResult =
  | { ok: true; value: unknown }
  | { ok: false; cause: string };

/** The case's summary for vendor messages. */
export function summaryOf(state: CaseState, policy: Policy): CaseSummary {
  const regulatory = [
    ...state.determinationsNeeded.map((d) => `to determine: ${d.determination} (${d.regimes.join(', ')})`),
    ...state.clocks.filter(isOpenClock).map((c) => `${c.name}: ${c.missedAt ? 'DEADLINE PASSED' : 'due'} ${c.dueAt}`),
  ];
  return {
    caseId: state.caseId,
    title: state.title,
    stage: state.stage,
    severity: state.severity,
    pagePriority: state.severity ? policy.paging.priority?.[state.severity] : undefined,
    category: categoryOf(state),
    queue: state.queue,
    evidenceCount: state.reportCount,
    escalated: state.escalated,
    acknowledgedBy: state.acknowledgedBy,
    assignees: state.assignees,
    ...(regulatory.length ? { regulatory } : {}),
    openedAt: state.openedAt,
  };
}

export const channelOf = (policy: Policy, queue: string | undefined): string | undefined => policy.queues.find((q) => q.id === queue)?.slackChannel;
/** The case's Slack channel: its queue's, or the first queue's before it is routed. */
export const channelFor = (state: CaseState, policy: Policy): string => channelOf(policy, state.queue) ?? policy.queues[0].slackChannel;
/** The dedup key of the incident commander's page for one escalation. */
export const commanderPageKey = (caseId: string, escalation: number): string => `warden-${caseId}-commander-${escalation}`;

/** The members of these roles, with how to reach them. */
export function membersOf(policy: Policy, roles: string[]): { id: string; name?: string; slack?: string; email?: string }[] {
  return [...new Set(roles.flatMap((role) => policy.roles[role]?.members ?? []))].map((id) => ({ id, ...policy.people[id] }));
}
export const commandersOf = (policy: Policy) => membersOf(policy, [policy.incidentCommanderRole]);

/** The activity effect of one vendor call. */
export function activity(activityName: CaseActivity, what: string, input: Record<string, unknown>, extra: Partial<ActivityEffect> = {}): ActivityEffect {
  return { kind: 'activity', activity: activityName, input, what, ...extra };
}

/** The card's input: the summary and the human sign-offs still open. */
export function cardInput(state: CaseState, policy: Policy): Record<string, unknown> {
  const signOff = policy.recovery.criteria
    .filter((c) => c.verification === 'human' && !state.recovery.find((r) => r.id === c.id)?.passed)
    .map((c) => ({ id: c.id, description: c.description }));
  return { card: { ...summaryOf(state, policy), signOff }, channel: channelFor(state, policy), cardRef: state.cardRef, revision: state.cardRevision };
}

/** The most recent timeline entries an escalation summary carries. */
export function recentTimeline(state: CaseState, n = 50): TimelineEntry[] {
  return state.timeline.slice(-n);
}
