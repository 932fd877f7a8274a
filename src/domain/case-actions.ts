/**
 * The validators of every human action on a case, as pure functions of the case, the policy, the
 * action's input and the time: the reason a person is refused, in words that say what they need
 * to know (who holds the role, who signed and when, what is still pending), or undefined when the
 * action may go ahead. The case workflow runs them as its update validators, so a refused action
 * leaves no trace in history; tests run them without a server.
 */
import type { CaseState, Stage } from './case';
import { isOpenClock } from './clocks';
import { missingReview, type Review } from './review';
import { authorize, type CaseAction, type Policy, rolesOf, SEVERITIES, type Severity } from './policy';
import { SHA256_HEX } from './custody';

/** The stages of an active response: SLA clocks run, evidence arrives, the recovery gate opens. */
export const ACTIVE_STAGES: readonly Stage[] = ['responding', 'escalated', 'recovery-gate'];
/** Where people act on a case. */
export const HUMAN_ACTION_STAGES: readonly Stage[] = ['triage', 'categorized', ...ACTIVE_STAGES, 'recovering'];

export type Refusal = string | undefined;

/** A third party still to hear back from: neither acknowledged nor released. */
export const partyOpen = (line: { status: string }): boolean => line.status !== 'acknowledged' && line.status !== 'released';

interface Actor {
  actor: string;
}

function allowed(policy: Policy, actor: string, action: CaseAction): Refusal {
  return authorize(policy, actor, policy.permissions[action], action === 'deescalate' ? 'de-escalate' : action);
}

function requireStage(state: CaseState, what: string, stages: readonly Stage[]): Refusal {
  return stages.includes(state.stage) ? undefined : `cannot ${what} a case in stage ${state.stage}`;
}

/** The first refusal of several checks, in order. */
function first(...checks: (() => Refusal)[]): Refusal {
  for (const check of checks) {
    const reason = check();
    if (reason) return reason;
  }
  return undefined;
}

const responder = (state: CaseState, policy: Policy, actor: string, what: string): Refusal =>
  rolesOf(policy, actor).length ? undefined : `${actor} holds no role: only responders ${what}`;
const open = (state: CaseState): Refusal => (state.stage === 'closed' ? 'the case is closed' : undefined);

export const refusals = {
  acknowledge: (state: CaseState, policy: Policy, { actor }: Actor): Refusal =>
    first(
      () => allowed(policy, actor, 'acknowledge'),
      () => requireStage(state, 'acknowledge', HUMAN_ACTION_STAGES),
      () => (state.acknowledgedBy ? `already acknowledged by ${state.acknowledgedBy} at ${state.acknowledgedAt}` : undefined),
    ),

  assign: (state: CaseState, policy: Policy, { actor, assignee }: Actor & { assignee: string }): Refusal =>
    first(
      () => allowed(policy, actor, 'assign'),
      () => requireStage(state, 'assign', HUMAN_ACTION_STAGES),
      () => (!assignee?.trim() ? 'assign: the assignee is required' : undefined),
      () => (state.assignees.includes(assignee) ? `${assignee} is already assigned` : undefined),
    ),

  escalate: (state: CaseState, policy: Policy, { actor, reason }: Actor & { reason: string }): Refusal =>
    first(
      () => allowed(policy, actor, 'escalate'),
      () => requireStage(state, 'escalate', HUMAN_ACTION_STAGES.filter((s) => s !== 'recovering')),
      () => (state.escalated ? 'the case is already escalated' : undefined),
      () => (!reason?.trim() ? 'escalate: a reason is required' : undefined),
    ),

  deescalate: (state: CaseState, policy: Policy, { actor, reason }: Actor & { reason: string }): Refusal =>
    first(
      () => allowed(policy, actor, 'deescalate'),
      () => (!state.escalated ? 'the case is not escalated' : undefined),
      () => (!reason?.trim() ? 'de-escalate: a reason is required' : undefined),
    ),

  /**
   * A sign-off already given answers who gave it and when, whatever the stage: a stale click on
   * a card after the gate has passed says so, not only that the stage has moved on.
   */
  signOff: (state: CaseState, policy: Policy, { actor, criterion }: Actor & { criterion: string }): Refusal => {
    const c = policy.recovery.criteria.find((r) => r.id === criterion);
    if (!c) return `unknown recovery criterion "${criterion}" (criteria: ${policy.recovery.criteria.map((r) => r.id).join(', ')})`;
    if (c.verification !== 'human') return `${criterion} is machine-verified; it cannot be signed off by hand`;
    const s = state.recovery.find((r) => r.id === criterion);
    if (s?.passed) {
      const gate = state.recoveryDecision ? `; the recovery gate passed at ${state.recoveryDecision.at}` : '';
      return `${criterion} was already signed off by ${s.by} at ${s.at}${gate}`;
    }
    return first(
      () => authorize(policy, actor, c.signers, `sign off ${criterion}`),
      () => requireStage(state, 'sign off', ACTIVE_STAGES),
    );
  },

  close: (state: CaseState, policy: Policy, { actor, reason, resolution, review }: Actor & { reason: string; resolution?: string; review?: Review }): Refusal => {
    const resolved = (resolution ?? 'resolved') === 'resolved';
    return first(
      () => allowed(policy, actor, 'close'),
      () => (state.stage === 'closed' ? 'the case is already closed' : undefined),
      () => (!reason?.trim() ? 'close: a reason is required' : undefined),
      () => {
        const undecided = state.determinationsNeeded.map((d) => d.determination);
        return resolved && undecided.length
          ? `cannot close as resolved with regulatory determinations still to make: ${undecided.join(', ')} (warden determine ${state.caseId} <determination> --yes|--no)`
          : undefined;
      },
      () => {
        const unfiled = state.clocks.filter(isOpenClock).map((c) => c.name);
        return resolved && unfiled.length ? `cannot close as resolved with regulatory filings not recorded: ${unfiled.join('; ')}` : undefined;
      },
      () => {
        const noReview = resolved ? missingReview(state, review, policy) : [];
        return noReview.length ? `closing a declared incident needs its post-incident review: missing ${noReview.join(', ')}` : undefined;
      },
      () => {
        if (!resolved || state.stage === 'recovering') return undefined;
        const pending = state.recovery.filter((c) => !c.passed).map((c) => c.id);
        return `cannot close as resolved before the recovery gate passes (pending: ${pending.join(', ') || 'none'}; stage ${state.stage})`;
      },
    );
  },

  partyAction: (state: CaseState, policy: Policy, action: 'acknowledge' | 'release', { actor, party, reason }: Actor & { party: string; reason?: string }): Refusal => {
    if (!rolesOf(policy, actor).length) return `${actor} holds no role`;
    const line = state.parties.find((p) => p.id === party);
    if (!line) return `no third party "${party}" on this case (parties: ${state.parties.map((p) => p.id).join(', ') || 'none'})`;
    if (!partyOpen(line)) return `${line.name} is already ${line.status}`;
    if (action === 'release' && !reason?.trim()) return 'release: a reason is required';
    return undefined;
  },

  addParty: (state: CaseState, policy: Policy, { actor, party }: Actor & { party: string }): Refusal =>
    first(
      () => authorize(policy, actor, [policy.incidentCommanderRole], 'add a third party'),
      () => (!policy.parties.some((p) => p.id === party) ? `no party "${party}" in the response plan (parties: ${policy.parties.map((p) => p.id).join(', ') || 'none'})` : undefined),
      () => (state.parties.some((p) => p.id === party) ? `${party} is already involved` : undefined),
      () => open(state),
    ),

  recordEvidence: (
    state: CaseState,
    policy: Policy,
    { actor, description, collectedFrom, sha256, storageRef, collectedAt, step }: Actor & { description: string; collectedFrom: string; sha256: string; storageRef: string; collectedAt?: string; step?: number },
  ): Refusal =>
    first(
      () => responder(state, policy, actor, 'record evidence'),
      () => open(state),
      () => (!description?.trim() || !collectedFrom?.trim() || !storageRef?.trim() ? 'evidence: description, collectedFrom and storageRef are required' : undefined),
      () => (!SHA256_HEX.test(sha256?.toLowerCase() ?? '') ? 'evidence: sha256 must be a SHA-256 hex digest of the stored body' : undefined),
      () => (collectedAt && Number.isNaN(Date.parse(collectedAt)) ? 'evidence: collectedAt must be an ISO-8601 time' : undefined),
      () =>
        step !== undefined && (!Number.isInteger(step) || step < 1 || step > state.forensics.length)
          ? `evidence: step must be between 1 and ${state.forensics.length} (the forensic plan's steps)`
          : undefined,
    ),

  transferCustody: (state: CaseState, policy: Policy, { actor, item, to, reason }: Actor & { item: string; to: string; reason: string }): Refusal => {
    const evidence = state.evidenceItems.find((e) => e.id === item);
    if (!evidence) return `no evidence item ${item} (items: ${state.evidenceItems.map((e) => e.id).join(', ') || 'none'})`;
    if (evidence.holder !== actor && !rolesOf(policy, actor).includes(policy.incidentCommanderRole))
      return `${actor} does not hold ${item} (${evidence.holder} does); the holder or an incident commander hands it over`;
    if (!to?.trim() || !reason?.trim()) return 'custody transfer: the recipient and a reason are required';
    if (to === evidence.holder) return `${to} already holds ${item}`;
    return undefined;
  },

  recordFiling: (state: CaseState, policy: Policy, { actor, clock: key, reference }: Actor & { clock: string; reference: string }): Refusal => {
    const clock = state.clocks.find((c) => c.key === key);
    if (!clock) return `no regulatory clock "${key}" on this case (clocks: ${state.clocks.map((c) => c.key).join(', ') || 'none'})`;
    if (clock.filed) return `${clock.name} was already filed by ${clock.filed.by} at ${clock.filed.at} (${clock.filed.reference})`;
    if (clock.withdrawn) return `${clock.name} was withdrawn at ${clock.withdrawn.at} (${clock.withdrawn.reason})`;
    return first(
      () => authorize(policy, actor, clock.owners, `record the filing of ${clock.name}`),
      () => (!reference?.trim() ? 'record filing: a reference is required' : undefined),
    );
  },

  determine: (
    state: CaseState,
    policy: Policy,
    { actor, determination, decision, reason, at: madeAt }: Actor & { determination: string; decision: boolean; reason: string; at?: string },
    now: number,
  ): Refusal => {
    const def = policy.determinations.find((d) => d.id === determination);
    if (!def) return `no determination "${determination}" in the policy (determinations: ${policy.determinations.map((d) => d.id).join(', ') || 'none'})`;
    return first(
      () => authorize(policy, actor, def.deciders, `record the ${determination} determination`),
      () => open(state),
      () => (typeof decision !== 'boolean' ? 'determine: the decision must be true (made) or false (decided against)' : undefined),
      () => (!reason?.trim() ? 'determine: a reason is required' : undefined),
      () => {
        if (madeAt === undefined) return undefined;
        const t = Date.parse(madeAt);
        if (Number.isNaN(t)) return 'determine: at must be an ISO-8601 time';
        if (t > now) return `determine: at (${madeAt}) is in the future`;
        if (t < Date.parse(state.openedAt)) return `determine: at (${madeAt}) is before the case was opened (${state.openedAt})`;
        return undefined;
      },
      () => {
        const latest = [...state.determinations].reverse().find((d) => d.id === determination);
        return latest && latest.decision === decision ? `${determination} was already ${decision ? 'determined' : 'decided against'} by ${latest.by} at ${latest.at}` : undefined;
      },
    );
  },

  recordScope: (state: CaseState, policy: Policy, { actor, affected, jurisdictions, reason }: Actor & { affected?: number; jurisdictions?: string[]; reason: string }): Refusal =>
    first(
      () => responder(state, policy, actor, 'record the scope'),
      () => open(state),
      () => (!reason?.trim() ? 'scope: a reason is required' : undefined),
      () => (affected === undefined && !jurisdictions?.length ? 'scope: give the individuals affected, jurisdictions, or both' : undefined),
      () => (affected !== undefined && (!Number.isInteger(affected) || affected < 0) ? 'scope: affected must be a whole number, 0 or more' : undefined),
      () => (jurisdictions ?? []).map((j) => (!/^[A-Z]{2}(-[A-Z0-9]{1,6})*$/.test(j) ? `scope: "${j}" is not a jurisdiction code such as EU, US-CA or EU-DE` : undefined)).find(Boolean),
    ),

  confirmTriage: (state: CaseState, policy: Policy, { actor }: Actor): Refusal =>
    first(
      () => allowed(policy, actor, 'override'),
      () => (!state.proposal ? `nothing to confirm: Warden decided the triage of ${state.caseId} alone (${state.trust?.why ?? 'no proposal was made'})` : undefined),
      () => {
        const d = state.proposal!.decided;
        return d ? `the triage was already ${d.how} by ${d.by} at ${d.at}` : undefined;
      },
    ),

  override: (state: CaseState, policy: Policy, { actor, reason, category, severity }: Actor & { reason: string; category?: string; severity?: Severity }): Refusal =>
    first(
      () => allowed(policy, actor, 'override'),
      () => {
        // A proposal waiting in triage is there to be confirmed or overridden.
        const waiting = state.stage === 'triage' && state.proposal && !state.proposal.decided;
        return waiting ? undefined : requireStage(state, 'override', HUMAN_ACTION_STAGES.filter((s) => s !== 'triage'));
      },
      () => (!category && !severity ? 'override: give a category, a severity, or both' : undefined),
      () => (category && !policy.taxonomy.some((c) => c.id === category) ? `unknown category "${category}" (taxonomy: ${policy.taxonomy.map((c) => c.id).join(', ')})` : undefined),
      () => (severity && !(SEVERITIES as readonly string[]).includes(severity) ? `unknown severity "${severity}" (SEV1 to SEV4)` : undefined),
      () => (!reason?.trim() ? 'override: a reason is required' : undefined),
    ),
};

/** The inputs of every human action on a case, by the name of the update that carries it. */
export interface ActionInputs {
  acknowledge: Actor;
  assign: Actor & { assignee: string };
  escalate: Actor & { reason: string };
  deescalate: Actor & { reason: string };
  signOff: Actor & { criterion: string; note?: string };
  close: Actor & { reason: string; resolution?: 'resolved' | 'false-alarm' | 'duplicate' | 'accepted-risk'; review?: Review };
  acknowledgeParty: Actor & { party: string; reason?: string };
  releaseParty: Actor & { party: string; reason?: string };
  addParty: Actor & { party: string; reason?: string };
  recordEvidence: Actor & { description: string; collectedFrom: string; sha256: string; storageRef: string; collectedAt?: string; step?: number };
  transferCustody: Actor & { item: string; to: string; reason: string };
  recordFiling: Actor & { clock: string; reference: string };
  determine: Actor & { determination: string; decision: boolean; reason: string; at?: string };
  recordScope: Actor & { reason: string; affected?: number; jurisdictions?: string[] };
  confirmTriage: Actor & { note?: string };
  override: Actor & { reason: string; category?: string; severity?: Severity };
}
export type ActionName = keyof ActionInputs;
/** One human action: its name and input. */
export type HumanAction = { [A in ActionName]: { name: A; input: ActionInputs[A] } }[ActionName];
export const ACTION_NAMES: readonly ActionName[] = [
  'acknowledge', 'assign', 'escalate', 'deescalate', 'signOff', 'close', 'acknowledgeParty', 'releaseParty', 'addParty',
  'recordEvidence', 'transferCustody', 'recordFiling', 'determine', 'recordScope', 'confirmTriage', 'override',
];

/** Why this action is refused on this case now, or undefined when it may go ahead. */
export function refusalOf(state: CaseState, policy: Policy, action: HumanAction, now: number): Refusal {
  switch (action.name) {
    case 'acknowledge': return refusals.acknowledge(state, policy, action.input);
    case 'assign': return refusals.assign(state, policy, action.input);
    case 'escalate': return refusals.escalate(state, policy, action.input);
    case 'deescalate': return refusals.deescalate(state, policy, action.input);
    case 'signOff': return refusals.signOff(state, policy, action.input);
    case 'close': return refusals.close(state, policy, action.input);
    case 'acknowledgeParty': return refusals.partyAction(state, policy, 'acknowledge', action.input);
    case 'releaseParty': return refusals.partyAction(state, policy, 'release', action.input);
    case 'addParty': return refusals.addParty(state, policy, action.input);
    case 'recordEvidence': return refusals.recordEvidence(state, policy, action.input);
    case 'transferCustody': return refusals.transferCustody(state, policy, action.input);
    case 'recordFiling': return refusals.recordFiling(state, policy, action.input);
    case 'determine': return refusals.determine(state, policy, action.input, now);
    case 'recordScope': return refusals.recordScope(state, policy, action.input);
    case 'confirmTriage': return refusals.confirmTriage(state, policy, action.input);
    case 'override': return refusals.override(state, policy, action.input);
  }
}
