/** Events in: reports, human actions, effects' results. */
import { addCampaignAnchors, addReport, type CaseState, categoryOf } from '../case';
import { type HumanAction } from '../case-actions';
import { activity, type Effect, type EffectResult, summaryOf } from '../case-effects';
import { type Classification } from '../categorize';
import { clocksWithdrawnBy, regimesNeeding } from '../clocks';
import { durationToMs, formatDuration } from '../duration';
import { incompleteIndicators } from '../indicators';
import type { Report } from '../report';
import { type MeasuredAgreement } from '../trust';
import { RECENT_REPORT_IDS, WARDEN, type MachineContext, iso, note, done, isActive } from './context';
import { moveTo, escalate, bringInParty, closeCase, tellReporters, factsChanged, reviewRegimes, acknowledgePage, page } from './transitions';
import { agreed, classified } from './triage';
import { checked } from './response';


export function receive(state: CaseState, reports: Report[], ctx: MachineContext): Effect[] {
  const effects: Effect[] = [];
  let fresh = 0;
  const reportersBefore = new Set(state.reporters);
  for (const report of reports) {
    if (state.recentReportIds.includes(report.reportId)) continue; // filed twice (e.g. re-filed after a crash)
    state.recentReportIds.push(report.reportId);
    if (state.recentReportIds.length > RECENT_REPORT_IDS) state.recentReportIds.shift();
    const first = state.reportCount === 0;
    addReport(state, report, ctx.policy.limits);
    addCampaignAnchors(state, report.campaign);
    fresh += 1;
    if (first) note(state, ctx, report.reporter, 'report received', `${report.source}: ${report.title}`);
    else {
      if (state.reportCount <= 20 || state.reportCount % 100 === 0)
        note(state, ctx, report.reporter, `duplicate report folded in (${state.reportCount} reports)`, `${report.source}: ${report.reportId}`);
      if (state.stage === 'closed') note(state, ctx, WARDEN, 'report arrived after closure', 'kept as evidence on the closed case');
    }
    const incomplete = incompleteIndicators(report.indicatorCounts);
    if (incomplete && state.reportCount <= 20) note(state, ctx, WARDEN, 'report has indicators Warden did not keep', `${report.reportId}: ${incomplete}`);
    // A report the intake did not store yet (signalled by hand) goes to the evidence store now.
    if (!report.evidence)
      effects.push(activity('storeEvidence', 'store report evidence', { caseId: state.caseId, kind: 'report', payload: report }, { result: { on: 'stored', reportId: report.reportId } }));
  }
  if (fresh && isActive(state.stage)) effects.push(...factsChanged(state, ctx));
  // A reporter who joins once the response runs hears what the first ones heard when it began.
  const joined = state.reporters.filter((r) => !reportersBefore.has(r));
  if (joined.length && (isActive(state.stage) || state.stage === 'recovering'))
    effects.push(...tellReporters(state, ctx, 'received', `Thank you for your report. Case ${state.caseId} is with the ${state.queue} queue.`, joined));
  return effects;
}

// ── Human actions ──────────────────────────────────────────────────────────────────────────────

export function act(state: CaseState, action: HumanAction, ctx: MachineContext): Effect[] {
  const { policy } = ctx;
  const at = iso(ctx);
  const effects: Effect[] = [];
  switch (action.name) {
    case 'acknowledge': {
      state.acknowledgedBy = action.input.actor;
      state.acknowledgedAt = at;
      note(state, ctx, action.input.actor, 'acknowledged');
      if (state.paged) effects.push(acknowledgePage(state, ctx));
      break;
    }
    case 'assign':
      state.assignees.push(action.input.assignee);
      note(state, ctx, action.input.actor, `assigned ${action.input.assignee}`);
      break;
    case 'escalate':
      effects.push(...escalate(state, ctx, action.input.actor, [{ criterion: 'manual', source: 'human', detail: action.input.reason }]));
      break;
    case 'deescalate': {
      const { actor, reason } = action.input;
      state.escalated = false;
      // Triggers that fired so far are set aside: only a new criterion escalates again by itself.
      const fired = state.escalations.flatMap((e) => e.triggers.map((t) => t.criterion));
      state.setAsideTriggers = [...new Set([...state.setAsideTriggers, ...fired])];
      note(state, ctx, actor, 'de-escalated', reason);
      if (state.stage === 'escalated') moveTo(state, ctx, 'responding', actor, 'de-escalated');
      const escalation = state.escalations.length;
      const incidentRef = state.escalations[escalation - 1]?.incidentRef;
      if (incidentRef)
        effects.push(
          activity('updateIncident', 'update incident', {
            incidentRef,
            change: { status: 'de-escalated', summary: `De-escalated by ${actor}: ${reason}` },
            key: `warden-${state.caseId}-deescalation-${escalation}`,
          }),
        );
      break;
    }
    case 'signOff': {
      const { actor, criterion, note: comment } = action.input;
      const c = state.recovery.find((r) => r.id === criterion)!;
      Object.assign(c, { passed: true, by: actor, at, detail: comment });
      note(state, ctx, actor, `signed off ${criterion}`, comment);
      if (state.stage !== 'recovery-gate') moveTo(state, ctx, 'recovery-gate', actor, `first sign-off: ${criterion}`);
      break;
    }
    case 'close': {
      const { actor, reason, resolution, review } = action.input;
      effects.push(...closeCase(state, ctx, actor, resolution ?? 'resolved', reason, review));
      break;
    }
    case 'acknowledgeParty':
    case 'releaseParty': {
      const { actor, party, reason } = action.input;
      const line = state.parties.find((p) => p.id === party)!;
      const acknowledged = action.name === 'acknowledgeParty';
      effects.push({
        kind: 'signal-party',
        workflowId: line.workflowId,
        signal: acknowledged ? 'acknowledged' : 'released',
        payload: acknowledged ? { by: actor, note: reason } : { by: actor, reason: reason ?? '' },
        what: `${acknowledged ? 'acknowledge' : 'release'} ${line.name}`,
      });
      return effects; // the party's coordination reports back, and that is what the case records
    }
    case 'addParty': {
      const { actor, party, reason } = action.input;
      effects.push(...bringInParty(state, ctx, policy.parties.find((p) => p.id === party)!, `added by ${actor}${reason ? `: ${reason}` : ''}`));
      return effects;
    }
    case 'recordEvidence': {
      const { actor, description, collectedFrom, sha256, storageRef, collectedAt, step } = action.input;
      const id = `E${state.evidenceItems.length + 1}`;
      state.evidenceItems.push({
        id,
        description,
        collectedFrom,
        collectedBy: actor,
        collectedAt: collectedAt ?? at,
        sha256: sha256.toLowerCase(),
        storageRef,
        ...(step ? { step } : {}),
        holder: actor,
        custody: [],
      });
      note(state, ctx, actor, `evidence ${id} collected from ${collectedFrom}`, `${description}; sha256 ${sha256.toLowerCase()}; stored at ${storageRef}`);
      return effects; // the card does not show forensic items
    }
    case 'transferCustody': {
      const { actor, item, to, reason } = action.input;
      const evidence = state.evidenceItems.find((e) => e.id === item)!;
      evidence.custody.push({ at, from: evidence.holder, to, by: actor, reason });
      note(state, ctx, actor, `custody of ${item}: ${evidence.holder} → ${to}`, reason);
      evidence.holder = to;
      return effects;
    }
    case 'recordFiling': {
      const { actor, clock: key, reference } = action.input;
      const clock = state.clocks.find((c) => c.key === key)!;
      clock.filed = { at, by: actor, reference };
      const late = clock.missedAt ? ` (after the deadline ${clock.dueAt})` : ` (${formatDuration(Date.parse(clock.dueAt) - ctx.now)} before the deadline)`;
      note(state, ctx, actor, `filed: ${clock.name}`, `reference ${reference}${late}`);
      effects.push(...reviewRegimes(state, ctx)); // a later stage may count from this filing
      break;
    }
    case 'determine': {
      const { actor, determination, decision, reason, at: madeAt } = action.input;
      const def = policy.determinations.find((d) => d.id === determination)!;
      state.determinations.push({ id: determination, decision, at: madeAt ?? at, by: actor, reason });
      note(state, ctx, actor, `determined: ${decision ? '' : 'not '}${determination}`, `${def.question} ${decision ? 'Yes' : 'No'}: ${reason}${madeAt ? ` (made at ${madeAt})` : ''}`);
      if (!decision) {
        // Reversed: the regimes that needed it no longer apply, and their open clocks stop.
        for (const clock of clocksWithdrawnBy(determination, state.clocks, policy)) {
          clock.withdrawn = { at, by: actor, reason: `not ${determination}: ${reason}` };
          note(state, ctx, actor, `clock withdrawn: ${clock.name}`, `the ${determination} determination was reversed`);
        }
        const regimes = regimesNeeding(determination, policy);
        state.regulatoryFlags = state.regulatoryFlags.filter((f) => !regimes.includes(f.regime));
      }
      effects.push(...reviewRegimes(state, ctx));
      break;
    }
    case 'recordScope': {
      const { actor, affected, jurisdictions, reason } = action.input;
      const changes: string[] = [];
      if (affected !== undefined) {
        changes.push(`${affected} individuals affected${state.affected !== undefined ? ` (was ${state.affected})` : ''}`);
        state.affected = affected;
      }
      const added = (jurisdictions ?? []).filter((j) => !state.jurisdictions.includes(j));
      if (added.length) {
        changes.push(`reaches ${added.join(', ')}`);
        state.jurisdictions.push(...added);
      }
      note(state, ctx, actor, `scope: ${changes.join('; ')}`, reason);
      effects.push(...reviewRegimes(state, ctx));
      break;
    }
    case 'confirmTriage': {
      const { actor, note: comment } = action.input;
      const proposal = state.proposal!;
      proposal.decided = { by: actor, at, how: 'confirmed', ...(comment ? { note: comment } : {}) };
      note(state, ctx, actor, proposal.autoClose ? `confirmed: close as false alarm (${proposal.autoClose.rule})` : `confirmed triage: ${proposal.category}, ${proposal.severity ?? 'unscored'}`, comment);
      break;
    }
    case 'override': {
      const { actor, reason, category, severity } = action.input;
      const was = { category: categoryOf(state), severity: state.severity };
      state.overrides.push({ at, by: actor, reason, ...(category ? { category } : {}), ...(severity ? { severity } : {}), was });
      const changes = [category ? `category ${was.category} → ${category}` : '', severity ? `severity ${was.severity} → ${severity}` : ''].filter(Boolean);
      note(state, ctx, actor, `override: ${changes.join(', ')}`, reason);
      if (severity) state.severity = severity;
      if (state.proposal && !state.proposal.decided) state.proposal.decided = { by: actor, at, how: 'overridden', note: reason };
      break;
    }
  }
  state.cardDue = true;
  return effects;
}

// ── Effects' results ───────────────────────────────────────────────────────────────────────────

export function resultOf(state: CaseState, effect: Effect, result: EffectResult, ctx: MachineContext): Effect[] {
  const handler = effect.kind === 'activity' ? effect.result : undefined;
  if (effect.kind === 'metric') return [];
  if (!result.ok) {
    if (handler?.on === 'classified') return classified(state, ctx, undefined, result.cause);
    if (handler?.on === 'agreement') {
      note(state, ctx, WARDEN, 'agreement could not be measured', result.cause);
      return agreed(state, ctx, handler.purpose, undefined);
    }
    if (handler?.on === 'checked') {
      done(state, `check:${handler.criterion}`);
      const criterion = ctx.policy.recovery.criteria.find((c) => c.id === handler.criterion)!;
      const s = state.recovery.find((r) => r.id === handler.criterion)!;
      s.nextCheckAt = new Date(ctx.now + durationToMs(criterion.recheckEvery)).toISOString();
      note(state, ctx, WARDEN, `${criterion.id} check failed`, result.cause);
      return [];
    }
    if (handler?.on === 'card') done(state, 'card');
    if (handler?.on === 'declared') done(state, `declare:${handler.escalation}`);
    if (handler?.on === 'archived') done(state, 'archive');
    if (handler?.on === 'paged') done(state, 'page');
    if (handler?.on === 'page-acknowledged') done(state, 'page-ack');
    if (handler?.on === 'operators-alerted' || (effect.kind === 'signal-party' && effect.quiet)) return [];
    // A vendor's final failure (a rejected call, or retries exhausted): on the timeline, the operators alerted, the case carries on.
    note(state, ctx, WARDEN, `${effect.what} failed`, result.cause);
    return [activity('alertOperators', 'alert operators', { caseId: state.caseId, what: effect.what, cause: result.cause }, { result: { on: 'operators-alerted' } })];
  }
  if (!handler) return [];
  const value = result.value as Record<string, unknown> | undefined;
  switch (handler.on) {
    case 'classified':
      return classified(state, ctx, result.value as Classification);
    case 'agreement':
      return agreed(state, ctx, handler.purpose, result.value as MeasuredAgreement | undefined);
    case 'paged':
      done(state, 'page');
      state.paged = true;
      note(state, ctx, WARDEN, 'paged on-call', handler.why);
      // Acknowledged or closed while the page was on its way: PagerDuty hears it too, in order.
      if (state.stage === 'closed') return [activity('pageOnCall', 'resolve page', { summary: summaryOf(state, ctx.policy), action: 'resolve' })];
      if (state.acknowledgedBy) return [acknowledgePage(state, ctx)];
      return [];
    case 'page-acknowledged':
      done(state, 'page-ack');
      // Closed while the acknowledgement was on its way: PagerDuty sees acknowledge, then resolve.
      return state.stage === 'closed' ? [activity('pageOnCall', 'resolve page', { summary: summaryOf(state, ctx.policy), action: 'resolve' })] : [];
    case 'card':
      done(state, 'card');
      state.cardRef = String(value?.cardRef ?? state.cardRef ?? '');
      return [];
    case 'declared': {
      done(state, `declare:${handler.escalation}`);
      const escalation = state.escalations[handler.escalation - 1];
      escalation.incidentRef = String(value?.incidentRef);
      note(state, ctx, WARDEN, 'incident declared', escalation.incidentRef);
      // Closed while the incident was being declared: it closes too.
      if (state.stage === 'closed')
        return [activity('updateIncident', 'close incident', { incidentRef: escalation.incidentRef, change: { status: 'closed' }, key: `${escalation.incidentRef}-closed` })];
      return [];
    }
    case 'checked':
      return checked(state, ctx, handler.criterion, result.value as { passed: boolean; detail: string });
    case 'stored': {
      const entry = state.evidence.find((e) => e.reportId === handler.reportId);
      if (entry) entry.evidence = result.value as NonNullable<typeof entry.evidence>;
      return [];
    }
    case 'archived': {
      done(state, 'archive');
      const ref = result.value as { sha256: string };
      state.timelineArchive = { ...state.timelineArchive!, head: ref.sha256, pending: 0 };
      return [];
    }
    case 'operators-alerted':
      return [];
  }
}

