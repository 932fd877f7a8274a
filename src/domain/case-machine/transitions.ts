/** The case machine's transitions shared by events and the runbook: stages, escalation, closing, notices, severity, regimes. */
import { type CaseState, categoryOf, humanSeverity, type Resolution, type Stage } from '../case';
import type { Review } from '../review';
import { partyOpen } from '../case-actions';
import { activity, channelFor, channelOf, commanderPageKey, commandersOf, type Effect, membersOf, recentTimeline, summaryOf } from '../case-effects';
import { routeToQueue } from '../categorize';
import { clockAnchors, startClocks } from '../clocks';
import { type EscalationTrigger, escalationTriggers } from '../escalation';
import { atOrAbove, type Policy } from '../policy';
import { pendingDeterminations, regimeFacts, regulatoryFlags } from '../regimes';
import { reporterRoute } from '../reporters';
import { assessSeverity } from '../scoring';
import { WARDEN, type MachineContext, iso, note, awaiting, wait, type Notice } from './context';


// ── Transitions ────────────────────────────────────────────────────────────────────────────────

export function moveTo(state: CaseState, ctx: MachineContext, stage: Stage, actor: string, reason?: string): void {
  // Closed is final: a step still under way when a human closed the case does not reopen it.
  if (state.stage === stage || state.stage === 'closed') return;
  note(state, ctx, actor, `stage ${state.stage} → ${stage}`, reason);
  state.stage = stage;
  state.cardDue = true;
}

export function escalate(state: CaseState, ctx: MachineContext, actor: string, triggers: EscalationTrigger[]): Effect[] {
  const { policy } = ctx;
  state.escalated = true;
  const number = state.escalations.length + 1;
  state.escalations.push({ at: iso(ctx), actor, triggers });
  note(state, ctx, actor, `escalated (#${number})`, triggers.map((t) => `${t.criterion} [${t.source}]: ${t.detail}`).join('; '));
  // Before the response begins, the stage waits: categorization comes first, then 'escalated'.
  if (state.stage === 'responding') moveTo(state, ctx, 'escalated', actor);
  state.cardDue = true;
  const lines = triggers.map((t) => `${t.criterion}: ${t.detail}`);
  const summary = summaryOf(state, policy);
  wait(state, `declare:${number}`);
  const effects: Effect[] = [
    activity('declareIncident', 'declare incident', { summary, escalation: number, triggers: lines }, { result: { on: 'declared', escalation: number } }),
    activity('pageOnCall', 'page incident commander', { summary, action: 'trigger', dedupKey: commanderPageKey(state.caseId, number) }),
    activity('postEscalationSummary', 'escalation summary', { summary, channel: channelFor(state, policy), escalation: number, triggers: lines, timeline: recentTimeline(state) }),
  ];
  if (number === 1) for (const party of policy.parties.filter((p) => involved(state, p))) effects.push(...bringInParty(state, ctx, party, 'the response plan names it for this incident'));
  // A declared incident can meet regimes that apply only to one (NIS2, SEC, DORA).
  effects.push(...reviewRegimes(state, ctx));
  return effects;
}

export const involved = (state: CaseState, party: Policy['parties'][number]) =>
  (!party.categories || party.categories.includes(categoryOf(state) ?? '')) && (!party.atOrAbove || (state.severity !== undefined && atOrAbove(state.severity, party.atOrAbove)));

/** The workflow id of a third party's coordination on a case. */
export const partyWorkflowIdOf = (caseId: string, party: string) => `${caseId.startsWith('case-') ? caseId : `case-${caseId}`}-party-${party}`;

export function bringInParty(state: CaseState, ctx: MachineContext, party: Policy['parties'][number], why: string): Effect[] {
  if (state.parties.some((p) => p.id === party.id)) return [];
  const workflowId = partyWorkflowIdOf(state.caseId, party.id);
  state.parties.push({ id: party.id, name: party.name, status: 'notifying', detail: why, at: iso(ctx), workflowId });
  note(state, ctx, WARDEN, `third party brought in: ${party.name}`, why);
  const summary = `${state.severity ?? ''} ${state.caseId}: ${state.title}`.trim();
  return [{ kind: 'start-party', workflowId, what: `bring in ${party.name}`, input: { caseId: state.caseId, party, summary, commanders: commandersOf(ctx.policy) } }];
}

export function closeCase(state: CaseState, ctx: MachineContext, actor: string, resolution: Resolution, reason: string, review?: Review): Effect[] {
  state.closure = { at: iso(ctx), by: actor, resolution, reason, ...(review ? { review } : {}) };
  moveTo(state, ctx, 'closed', actor, `${resolution}: ${reason}`);
  return finish(state, ctx);
}

/** What closing carries out: pages resolved, incidents closed, parties released, reporters told. */
export function finish(state: CaseState, ctx: MachineContext): Effect[] {
  const { policy } = ctx;
  const closure = state.closure!;
  const summary = summaryOf(state, policy);
  const effects: Effect[] = [];
  // A page still being acknowledged is resolved once PagerDuty has the acknowledgement.
  if (state.paged && !awaiting(state, 'page-ack')) effects.push(activity('pageOnCall', 'resolve page', { summary, action: 'resolve' }));
  for (let n = 1; n <= state.escalations.length; n++)
    effects.push(activity('pageOnCall', 'resolve commander page', { summary, action: 'resolve', dedupKey: commanderPageKey(state.caseId, n) }));
  for (const e of state.escalations)
    if (e.incidentRef) effects.push(activity('updateIncident', 'close incident', { incidentRef: e.incidentRef, change: { status: 'closed' }, key: `${e.incidentRef}-closed` }));
  for (const line of state.parties.filter(partyOpen))
    effects.push({ kind: 'signal-party', workflowId: line.workflowId, signal: 'released', payload: { by: WARDEN, reason: `case closed (${closure.resolution})` }, what: `release ${line.name}`, quiet: true });
  // A false alarm found at validation has told its reporters already.
  if (closure.resolution === 'false-alarm' && closure.by !== WARDEN) effects.push(...tellReporters(state, ctx, 'false-alarm', closure.reason));
  else if (closure.resolution !== 'false-alarm') effects.push(...tellReporters(state, ctx, 'resolved', `Case ${state.caseId} is closed (${closure.resolution}). Thank you for reporting it.`));
  return effects;
}

export function tellReporters(state: CaseState, ctx: MachineContext, notice: Notice, text: string, only?: string[]): Effect[] {
  const { policy } = ctx;
  // A false alarm closed at validation has no queue yet: its notices go where the case would have gone.
  const queue = state.queue ?? routeToQueue(policy, categoryOf(state) ?? state.proposal?.category ?? policy.defaultCategory, state.assets).queue;
  const queueChannel = channelOf(policy, queue);
  const all = (only ?? state.reporters).map((id) => ({ id, messageId: state.reporterThreads[id], route: reporterRoute(id, policy, queueChannel) }));
  for (const r of all)
    if (r.route.via !== 'mail' && r.route.via !== 'slack-dm') note(state, ctx, WARDEN, `reporter ${r.id}: ${r.route.via === 'none' ? 'not told' : `told in ${r.route.to}`} (${notice})`, r.route.because);
  return all
    .filter((r) => r.route.via !== 'none')
    .map((r) => activity('notifyReporters', `reporter notice (${notice})`, { caseId: state.caseId, title: state.title, reporters: [r], notice, text }));
}

export function tellOwners(state: CaseState, ctx: MachineContext, roles: string[], what: string, text: string, key: string): Effect[] {
  return membersOf(ctx.policy, roles).map((m) => activity('notifyCommanders', what, { caseId: state.caseId, commanders: [m], text, key }));
}

/** New facts in an active response: severity again, the escalation criteria, the regimes. */
export function factsChanged(state: CaseState, ctx: MachineContext): Effect[] {
  rescore(state, ctx);
  const effects = checkCriteria(state, ctx);
  return [...effects, ...reviewRegimes(state, ctx)];
}

export function checkCriteria(state: CaseState, ctx: MachineContext): Effect[] {
  if (state.escalated) return [];
  const fresh = escalationTriggers({ ...state, regulatedData: state.assessment?.regulatedData ?? [] }, ctx.policy).filter((t) => !state.setAsideTriggers.includes(t.criterion));
  return fresh.length ? escalate(state, ctx, WARDEN, fresh) : [];
}

/** Re-assess severity from the facts so far; records a change with its factors. */
export function rescore(state: CaseState, ctx: MachineContext): void {
  const assessment = assessSeverity(
    { ...state, category: categoryOf(state), signals: state.signals, affected: state.affected !== undefined ? { count: state.affected, from: 'recorded by a responder' } : state.affectedFound },
    ctx.policy,
  );
  const previous = state.severity;
  state.assessment = assessment;
  // A severity a human set stands; the automated assessment is still kept for the audit.
  if (!humanSeverity(state) && previous !== assessment.severity) {
    state.severity = assessment.severity;
    note(
      state,
      ctx,
      WARDEN,
      previous ? `severity ${previous} → ${assessment.severity}` : `severity ${assessment.severity}`,
      `score ${assessment.score}: ${assessment.factors.map((f) => `${f.factor} ${f.points} (${f.why})`).join('; ')}`,
    );
    state.cardDue = true;
  }
}

/**
 * Judge the regimes again on the facts so far: a regime that now applies is recorded, every clock
 * whose anchor has happened starts, and a determination a regime waits on is asked of its deciders.
 */
export function reviewRegimes(state: CaseState, ctx: MachineContext): Effect[] {
  const { policy } = ctx;
  const facts = regimeFacts(policy, state);
  for (const flag of regulatoryFlags(facts, policy)) {
    if (state.regulatoryFlags.some((f) => f.regime === flag.regime)) continue;
    state.regulatoryFlags.push(flag);
    note(state, ctx, WARDEN, `regulatory regime applies: ${flag.name}`, `${flag.because}; the policy says: ${flag.deadline}`);
    state.cardDue = true;
  }
  const anchors = clockAnchors(state.openedAt, state.determinations, state.clocks);
  for (const clock of startClocks(state.regulatoryFlags, policy, anchors, state.clocks)) {
    // A clock withdrawn earlier (its determination reversed, then made again) starts afresh.
    state.clocks = state.clocks.filter((c) => !(c.withdrawn && c.key === clock.key));
    state.clocks.push(clock);
    note(state, ctx, WARDEN, `clock started: ${clock.name}`, `due ${clock.dueAt} (${clock.dueBecause}); owners ${clock.owners.join(', ')}`);
    state.cardDue = true;
  }
  const effects: Effect[] = [];
  const needed = pendingDeterminations(facts, policy);
  for (const d of needed)
    if (!state.determinationsNeeded.some((n) => n.determination === d.determination)) {
      note(state, ctx, WARDEN, `determination needed: ${d.question}`, `it decides whether ${d.regimes.join(', ')} applies; decided by ${d.deciders.join(' or ')}`);
      state.cardDue = true;
      effects.push(
        ...tellOwners(
          state,
          ctx,
          d.deciders,
          'ask for determination',
          `Case ${state.caseId} needs a determination: ${d.question} It decides whether ${d.regimes.join(', ')} applies, and its clocks count from when it is made. Record it: warden determine ${state.caseId} ${d.determination} --yes|--no --reason <why>`,
          `determination:${d.determination}`,
        ),
      );
    }
  state.determinationsNeeded = needed;
  return effects;
}

export function acknowledgePage(state: CaseState, ctx: MachineContext): Effect {
  wait(state, 'page-ack');
  return activity('pageOnCall', 'acknowledge page', { summary: summaryOf(state, ctx.policy), action: 'acknowledge' }, { result: { on: 'page-acknowledged' } });
}

export function page(state: CaseState, ctx: MachineContext, why: string): Effect[] {
  if (state.paged || awaiting(state, 'page')) return [];
  wait(state, 'page');
  return [activity('pageOnCall', 'page on-call', { summary: summaryOf(state, ctx.policy), action: 'trigger' }, { result: { on: 'paged', why } })];
}

/** The response begins: the page (if due), the card and the reporters' notices together; the SLA clocks start. */
