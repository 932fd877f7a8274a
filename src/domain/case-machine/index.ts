/**
 * The case machine: every decision a case makes, as a deterministic function of its state, one
 * event and the time. The runbook, step by step:
 *
 *   received → validating → (closed: false alarm | triage) → categorized → responding
 *     → (escalated) → recovery gate → recovering → closed
 *
 * `apply(state, event, ctx)` takes in a report, a human action, a third party's status or an
 * effect's result; `settle(state, ctx)` then moves the case on as far as it can go by itself (the
 * next stage, a timer that has passed, a machine check that is due, the card once) and returns
 * the effects to carry out. Both change the state they are given (the workflow owns the only
 * instance) and touch nothing else: no clock, no I/O, no randomness. The same state and events
 * always give the same state and effects, which is what makes a case replayable, and testable
 * without a server (test/case-machine.test.ts).
 *
 * Human actions are checked first by `refusalOf` (src/domain/case-actions.ts); `apply` assumes an
 * action that was not refused.
 */
import { type CaseState, categoryOf, type Stage, type TimelineEntry } from '../case';
import { type HumanAction } from '../case-actions';
import { activity, cardInput, type Effect, type EffectResult } from '../case-effects';
import { type Policy } from '../policy';
import type { Report } from '../report';
import { WARDEN, type MachineContext, iso, note, awaiting, wait } from './context';
import { receive, act, resultOf } from './events';
import { validate, triageStep } from './triage';
import { beginResponse, respond, checkClocks, archiveTimeline } from './response';


export { WARDEN, RECENT_REPORT_IDS, type MachineContext } from './context';
export { nextWake } from './response';
export { partyWorkflowIdOf } from './transitions';

export type CaseEvent =
  | { type: 'reports'; reports: Report[] }
  | { type: 'action'; action: HumanAction }
  | { type: 'party-status'; party: string; status: string; detail: string }
  | { type: 'result'; effect: Effect; result: EffectResult };

// ── Events in ──────────────────────────────────────────────────────────────────────────────────

/** Take in one event; returns the effects it needs at once. Call `settle` after the events of a task. */
export function apply(state: CaseState, event: CaseEvent, ctx: MachineContext): Effect[] {
  switch (event.type) {
    case 'reports':
      return receive(state, event.reports, ctx);
    case 'action':
      return act(state, event.action, ctx);
    case 'party-status': {
      const line = state.parties.find((p) => p.id === event.party);
      if (!line) return [];
      Object.assign(line, { status: event.status, detail: event.detail, at: iso(ctx) });
      note(state, ctx, WARDEN, `${line.name}: ${event.status}`, event.detail);
      return [];
    }
    case 'result':
      return resultOf(state, event.effect, event.result, ctx);
  }
}

/** `apply`, then `settle`: one event, all it leads to. */
export function step(state: CaseState, event: CaseEvent, ctx: MachineContext): { state: CaseState; effects: Effect[] } {
  const effects = apply(state, event, ctx);
  return { state, effects: [...effects, ...settle(state, ctx)] };
}
// ── The runbook's own steps ────────────────────────────────────────────────────────────────────

/**
 * Move the case on as far as it goes by itself now: stages whose inputs are in, timers that have
 * passed, machine checks that are due; then the card, once, if anything it shows changed.
 */
export function settle(state: CaseState, ctx: MachineContext): Effect[] {
  const effects: Effect[] = [];
  for (let guard = 0; guard < 20; guard++) {
    const before = state.stage;
    effects.push(...advance(state, ctx));
    if (state.stage === before) break;
  }
  if (state.cardDue && state.queue && !awaiting(state, 'card')) {
    state.cardDue = false;
    state.cardRevision += 1;
    wait(state, 'card');
    effects.push(activity('publishCaseCard', 'case card', cardInput(state, ctx.policy), { result: { on: 'card' } }));
  }
  effects.push(...archiveTimeline(state, ctx));
  return effects;
}

function advance(state: CaseState, ctx: MachineContext): Effect[] {
  switch (state.stage) {
    case 'received':
      return state.reportCount > 0 ? validate(state, ctx) : [];
    case 'validating':
      return [];
    case 'triage':
      return triageStep(state, ctx);
    case 'categorized':
      return beginResponse(state, ctx);
    case 'responding':
    case 'escalated':
    case 'recovery-gate':
      return respond(state, ctx);
    case 'recovering':
      return checkClocks(state, ctx);
    case 'closed':
      return [];
  }
}

// ── ─────────────────────────────────────────────────────────────────────────────────────

/** When the case next needs to wake by itself (an SLA, a clock's warning or deadline, a re-check), if ever. */
export function verdictOf(state: CaseState): 'agreed' | 'overridden' | undefined {
  if (!state.classification) return undefined;
  if (categoryOf(state) !== state.classification.category) return 'overridden';
  const humans = state.proposal?.decided || state.acknowledgedBy || (state.closure && state.closure.by !== WARDEN);
  return humans ? 'agreed' : undefined;
}

/** What an accepted action answers: small, the case's id, stage and what was recorded (the case view is the query). */
export interface CaseReceipt {
  caseId: string;
  action: string;
  by: string;
  at: string;
  stage: Stage;
  /** The timeline entries the action recorded. */
  recorded: TimelineEntry[];
}

/** Apply a human action and say what it recorded. */
export function actOn(state: CaseState, action: HumanAction, ctx: MachineContext): { effects: Effect[]; receipt: CaseReceipt } {
  const before = state.timeline.length;
  const effects = apply(state, { type: 'action', action }, ctx);
  const recorded = state.timeline.slice(Math.min(before, state.timeline.length));
  return { effects, receipt: { caseId: state.caseId, action: action.name, by: action.input.actor, at: iso(ctx), stage: state.stage, recorded } };
}

/**
 * The policy a case's next run carries: after triage, what only intake and triage read (source
 * types, false-alarm rules, the taxonomy's keywords) stays behind. The case keeps the version and
 * digest of the full snapshot it was opened with.
 */
export function runPolicy(policy: Policy, state: CaseState): Policy {
  if (state.stage === 'received' || state.stage === 'validating' || state.stage === 'triage') return policy;
  return {
    ...policy,
    sourceTypes: {} as Policy['sourceTypes'],
    falseAlarms: [],
    taxonomy: policy.taxonomy.map((c) => ({ ...c, keywords: [], sources: [] })),
  };
}
