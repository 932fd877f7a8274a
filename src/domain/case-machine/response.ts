/** The response: the page and the SLA clocks, regulatory clocks, the recovery gate and its checks, the bounded timeline. */
import { type CaseState } from '../case';
import { activity, type Effect } from '../case-effects';
import { isOpenClock, nextClockEvent } from '../clocks';
import { durationToMs, formatDuration } from '../duration';
import { atOrAbove } from '../policy';
import { WARDEN, type MachineContext, iso, note, awaiting, wait, done, isActive } from './context';
import { moveTo, escalate, tellReporters, tellOwners, factsChanged, page } from './transitions';


export function beginResponse(state: CaseState, ctx: MachineContext): Effect[] {
  const { policy } = ctx;
  const effects: Effect[] = [];
  if (state.severity && atOrAbove(state.severity, policy.paging.pageAtOrAbove))
    effects.push(...page(state, ctx, `severity ${state.severity} is at or above the paging threshold ${policy.paging.pageAtOrAbove}`));
  effects.push(...tellReporters(state, ctx, 'received', `Thank you for your report. Case ${state.caseId} is with the ${state.queue} queue.`));
  const sla = policy.slas[state.severity!];
  state.slaDeadlines = {
    acknowledgeBy: new Date(ctx.now + durationToMs(sla.acknowledgeBy)).toISOString(),
    respondBy: new Date(ctx.now + durationToMs(sla.respondBy)).toISOString(),
  };
  note(state, ctx, WARDEN, 'SLA clocks started', `acknowledge by ${state.slaDeadlines.acknowledgeBy} (${sla.acknowledgeBy}), respond by ${state.slaDeadlines.respondBy} (${sla.respondBy})`);
  moveTo(state, ctx, state.escalated ? 'escalated' : 'responding', WARDEN);
  // The facts so far are judged for escalation once the response runs.
  effects.push(...factsChanged(state, ctx));
  return effects;
}

/** The active response: SLA timers, regulatory clocks and the recovery gate. */
export function respond(state: CaseState, ctx: MachineContext): Effect[] {
  const effects = [...checkSlas(state, ctx), ...checkClocks(state, ctx)];
  if (state.stage !== 'recovery-gate') return effects;
  effects.push(...runMachineChecks(state, ctx));
  if (state.recovery.every((c) => c.passed)) effects.push(...passRecoveryGate(state, ctx));
  return effects;
}

/** SLA clocks that have passed without the human action, each breached once. */
export function checkSlas(state: CaseState, ctx: MachineContext): Effect[] {
  const effects: Effect[] = [];
  const { acknowledgeBy, respondBy } = state.slaDeadlines;
  const breach = (name: string, deadline: string | undefined, met: boolean) => {
    if (!deadline || met || state.slaBreaches.includes(name) || ctx.now < Date.parse(deadline)) return;
    state.slaBreaches.push(name);
    const detail = `${name} deadline ${deadline} passed (${formatDuration(ctx.now - Date.parse(deadline))} ago)`;
    note(state, ctx, WARDEN, `SLA breached: ${name}`, `timer: ${detail}`);
    effects.push({ kind: 'metric', metric: 'slaBreached', labels: [name, state.severity ?? 'none'] });
    if (ctx.policy.escalation.responseTimeExceeded && !state.escalated) effects.push(...escalate(state, ctx, WARDEN, [{ criterion: 'response-time-exceeded', source: 'timer', detail }]));
  };
  breach('acknowledge', acknowledgeBy, !!state.acknowledgedBy);
  breach('respond', respondBy, state.stage === 'recovery-gate' || state.stage === 'recovering' || state.stage === 'closed');
  return effects;
}

/** Warnings due and deadlines passed on the regulatory clocks: recorded, and the owners told. */
export function checkClocks(state: CaseState, ctx: MachineContext): Effect[] {
  const effects: Effect[] = [];
  for (const clock of state.clocks) {
    if (!isOpenClock(clock) || clock.missedAt) continue;
    const left = Date.parse(clock.dueAt) - ctx.now;
    for (const [i, warning] of clock.warnings.entries()) {
      if (warning.sent || Date.parse(warning.at) > ctx.now || left <= 0) continue;
      warning.sent = true;
      note(state, ctx, WARDEN, `clock warning: ${clock.name}`, `${formatDuration(left)} left; due ${clock.dueAt}`);
      effects.push(
        ...tellOwners(state, ctx, clock.owners, 'clock warning', `${clock.name} is due at ${clock.dueAt} (${formatDuration(left)} left). Record the filing: warden file ${state.caseId} ${clock.key} --reference <ref>`, `clock:${clock.key}:warning-${i + 1}`),
      );
    }
    if (left <= 0) {
      clock.missedAt = iso(ctx);
      note(state, ctx, WARDEN, `clock deadline passed: ${clock.name}`, `due ${clock.dueAt}; no filing recorded`);
      effects.push({ kind: 'metric', metric: 'deadlineMissed', labels: [clock.regime] });
      effects.push(...tellOwners(state, ctx, clock.owners, 'clock deadline', `${clock.name} was due at ${clock.dueAt} and no filing is recorded.`, `clock:${clock.key}:missed`));
    }
  }
  return effects;
}

/** Machine-verified criteria due for a run while the case is at the gate. */
export function runMachineChecks(state: CaseState, ctx: MachineContext): Effect[] {
  const effects: Effect[] = [];
  for (const criterion of ctx.policy.recovery.criteria) {
    if (criterion.verification !== 'machine') continue;
    const s = state.recovery.find((r) => r.id === criterion.id)!;
    if (s.passed || awaiting(state, `check:${criterion.id}`) || (s.nextCheckAt && ctx.now < Date.parse(s.nextCheckAt))) continue;
    s.attempts += 1;
    wait(state, `check:${criterion.id}`);
    const lastEvidenceAt = state.evidence[state.evidence.length - 1]?.receivedAt ?? state.openedAt;
    effects.push(
      activity(
        'runRecoveryCheck',
        `check ${criterion.id}`,
        { check: criterion.check!, params: criterion.params, facts: { caseId: state.caseId, lastEvidenceAt, indicators: state.indicators } },
        { result: { on: 'checked', criterion: criterion.id } },
      ),
    );
  }
  return effects;
}

export function checked(state: CaseState, ctx: MachineContext, id: string, result: { passed: boolean; detail: string }): Effect[] {
  done(state, `check:${id}`);
  const criterion = ctx.policy.recovery.criteria.find((c) => c.id === id)!;
  const s = state.recovery.find((r) => r.id === id)!;
  s.detail = result.detail;
  if (result.passed) {
    Object.assign(s, { passed: true, by: `check:${criterion.check}`, at: iso(ctx) });
    note(state, ctx, WARDEN, `verified ${id}`, result.detail);
    state.cardDue = true;
  } else {
    s.nextCheckAt = new Date(ctx.now + durationToMs(criterion.recheckEvery)).toISOString();
    if (s.attempts === 1) note(state, ctx, WARDEN, `${id} not yet verified`, `${result.detail}; re-checking every ${criterion.recheckEvery}`);
  }
  return [];
}

export function passRecoveryGate(state: CaseState, ctx: MachineContext): Effect[] {
  const decidedAt = iso(ctx);
  state.recoveryDecision = { at: decidedAt, by: WARDEN };
  const how = state.recovery.map((c) => `${c.id} by ${c.by}`).join('; ');
  note(state, ctx, WARDEN, 'recovery gate passed: recovery may begin', how);
  moveTo(state, ctx, 'recovering', WARDEN, 'all recovery criteria passed');
  const effects = tellOwners(state, ctx, [ctx.policy.incidentCommanderRole], 'notify incident commander', `All recovery criteria passed at ${decidedAt} (${how}). Recovery may begin: start the recovery checklist.`, 'recovery-may-begin');
  for (const e of state.escalations)
    if (e.incidentRef)
      effects.push(
        activity('updateIncident', 'update incident', {
          incidentRef: e.incidentRef,
          change: { status: 'recovering', summary: `Recovery gate passed at ${decidedAt} (${how}). Recovery may begin.` },
          key: `${e.incidentRef}-recovering`,
        }),
      );
  return effects;
}

/**
 * Timeline entries beyond the policy's bound leave the case for the evidence store, oldest first
 * (after the opening entries), chained by digest: the case keeps how many left and the latest
 * archive's SHA-256, which names the one before it.
 */
export function archiveTimeline(state: CaseState, ctx: MachineContext): Effect[] {
  const limit = ctx.policy.limits.timeline;
  const keepFirst = Math.min(10, Math.floor(limit / 4));
  if (state.timeline.length <= limit || awaiting(state, 'archive')) return [];
  const excess = state.timeline.length - Math.floor(limit * 0.8);
  const entries = state.timeline.splice(keepFirst, excess);
  const previous = state.timelineArchive?.head;
  state.timelineArchive = { count: (state.timelineArchive?.count ?? 0) + entries.length, head: previous, pending: entries.length };
  wait(state, 'archive');
  return [activity('storeEvidence', 'archive timeline', { caseId: state.caseId, kind: 'timeline', payload: { caseId: state.caseId, previous: previous ?? null, entries } }, { result: { on: 'archived' } })];
}


/** When the case next needs to wake by itself (an SLA, a clock's warning or deadline, a re-check), if ever. */
export function nextWake(state: CaseState): number | undefined {
  const times: number[] = [];
  if (isActive(state.stage) || state.stage === 'recovering') {
    const clockEvent = nextClockEvent(state.clocks);
    if (clockEvent !== undefined) times.push(clockEvent);
  }
  if (isActive(state.stage)) {
    const { acknowledgeBy, respondBy } = state.slaDeadlines;
    if (acknowledgeBy && !state.acknowledgedBy && !state.slaBreaches.includes('acknowledge')) times.push(Date.parse(acknowledgeBy));
    if (respondBy && !state.slaBreaches.includes('respond') && state.stage !== 'recovery-gate') times.push(Date.parse(respondBy));
  }
  if (state.stage === 'recovery-gate')
    for (const s of state.recovery) if (s.verification === 'machine' && !s.passed && s.nextCheckAt && !state.awaiting.includes(`check:${s.id}`)) times.push(Date.parse(s.nextCheckAt));
  return times.length ? Math.min(...times) : undefined;
}

