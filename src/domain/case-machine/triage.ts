/** Validation and triage: false-alarm rules under trust, the classifier and the measured agreement, the proposal a human confirms. */
import { type CaseState } from '../case';
import { activity, type Effect } from '../case-effects';
import { type Classification, classifyByRules } from '../categorize';
import { triage as triageFacts, withTrust } from '../triage';
import { type MeasuredAgreement, trustFor } from '../trust';
import { matchFalseAlarm, missingFields } from '../validation';
import { WARDEN, type MachineContext, iso, note, awaiting, wait, done } from './context';
import { moveTo, involved, closeCase, tellReporters, rescore, reviewRegimes, page } from './transitions';


export function validate(state: CaseState, ctx: MachineContext): Effect[] {
  const { policy } = ctx;
  moveTo(state, ctx, 'validating', WARDEN, 'checking the report against the policy');
  const falseAlarm = matchFalseAlarm(state.firstReport!, policy);
  if (falseAlarm?.notApplied) note(state, ctx, WARDEN, `false-alarm rule ${falseAlarm.rule} matched but not applied`, `${falseAlarm.notApplied}: a human decides`);
  else if (falseAlarm) {
    // Closing without a human is trusted per category: its measured agreement decides.
    const category = policy.falseAlarms.find((r) => r.id === falseAlarm.rule)?.category ?? policy.defaultCategory;
    state.validation = { rule: falseAlarm.rule, explanation: falseAlarm.explanation, category };
    wait(state, 'agreement');
    return [activity('measureAgreement', 'measure agreement', { category }, { local: true, result: { on: 'agreement', purpose: 'false-alarm' } })];
  }
  return validated(state, ctx);
}

/** The rest of validation once any false-alarm rule is decided: ask for missing fields, on to triage. */
export function validated(state: CaseState, ctx: MachineContext): Effect[] {
  const effects: Effect[] = [];
  const missing = missingFields(state.firstReport!, ctx.policy);
  if (missing.length) {
    state.missingFields = missing;
    note(state, ctx, WARDEN, `report incomplete: asking the reporter for ${missing.join(', ')}`, 'the case goes on to triage meanwhile');
    effects.push(
      ...tellReporters(state, ctx, 'needs-info', `Thank you for your report. To work case ${state.caseId} we need: ${missing.join(', ')}. Please reply with them, or file them again with the same report.`),
    );
  }
  moveTo(state, ctx, 'triage', WARDEN, 'report is valid and not a known false alarm');
  return effects;
}

export function agreed(state: CaseState, ctx: MachineContext, purpose: 'false-alarm' | 'triage', agreement: MeasuredAgreement | undefined): Effect[] {
  done(state, 'agreement');
  if (purpose === 'triage') return triaged(state, ctx, agreement);
  if (state.stage !== 'validating' || !state.validation) return [];
  const { rule, explanation, category } = state.validation;
  state.validation = undefined;
  const trust = trustFor(category, agreement, ctx.policy);
  state.trust = trust;
  if (trust.mode === 'act') {
    note(state, ctx, WARDEN, `false-alarm rule ${rule} applies`, trust.why);
    const effects = closeCase(state, ctx, WARDEN, 'false-alarm', `false-alarm rule ${rule}`);
    return [...effects, ...tellReporters(state, ctx, 'false-alarm', explanation)];
  }
  state.proposal = { at: iso(ctx), because: trust.why, category, page: false, autoClose: { rule, explanation } };
  note(state, ctx, WARDEN, `proposed: close as false alarm (${rule})`, `${trust.why}; a human confirms (warden confirm ${state.caseId})`);
  return validated(state, ctx);
}

export const classifiable = (state: CaseState) => {
  const first = state.firstReport!;
  return { title: first.title, description: first.description, categoryHint: first.categoryHint, source: first.source };
};

export function triageStep(state: CaseState, ctx: MachineContext): Effect[] {
  const { policy } = ctx;
  if (awaiting(state, 'classify') || awaiting(state, 'agreement')) return [];
  const proposal = state.proposal;
  if (proposal && !proposal.decided) return []; // a human confirms or overrides
  if (proposal?.decided && (proposal.autoClose || state.classification)) {
    if (proposal.autoClose && proposal.decided.how === 'confirmed') {
      const effects = closeCase(state, ctx, proposal.decided.by, 'false-alarm', `false-alarm rule ${proposal.autoClose.rule}, confirmed`);
      return [...effects, ...tellReporters(state, ctx, 'false-alarm', proposal.autoClose.explanation)];
    }
    if (!proposal.autoClose) {
      rescore(state, ctx);
      moveTo(state, ctx, 'categorized', proposal.decided.by, `triage ${proposal.decided.how}`);
      return [];
    }
    // A proposed false alarm overridden: not what it looked like; triage it as any other report.
    state.proposal = { ...proposal, autoClose: undefined };
  }
  if (state.classification) return [];
  wait(state, 'classify');
  return [
    activity(
      'classifyReport',
      'classify the report',
      { caseId: state.caseId },
      { local: true, result: { on: 'classified' }, args: [classifiable(state), { taxonomy: policy.taxonomy, defaultCategory: policy.defaultCategory, classification: policy.classification }] },
    ),
  ];
}

export function classified(state: CaseState, ctx: MachineContext, classification: Classification | undefined, failure?: string): Effect[] {
  done(state, 'classify');
  if (state.stage !== 'triage') return []; // closed by a human while classifying
  const text = classifiable(state);
  if (!classification) {
    // The classifier is a door to the world and may fail; the rules engine is pure and cannot.
    note(state, ctx, WARDEN, 'classifier failed; using the rules engine', failure);
    classification = classifyByRules(text, ctx.policy);
  }
  const first = state.firstReport!;
  const facts = { ...state, ...text, sourceType: first.sourceType, sourceTypes: first.sourceTypes, affected: state.affected ?? first.affected, reportCount: state.reportCount };
  // The category first (a structured source's own type decides it), then its measured agreement.
  const judged = triageFacts(facts, ctx.policy, { classification });
  state.triageDraft = judged;
  wait(state, 'agreement');
  return [activity('measureAgreement', 'measure agreement', { category: judged.classification.category }, { local: true, result: { on: 'agreement', purpose: 'triage' } })];
}

export function triaged(state: CaseState, ctx: MachineContext, agreement: MeasuredAgreement | undefined): Effect[] {
  const judged = state.triageDraft;
  state.triageDraft = undefined;
  if (state.stage !== 'triage' || !judged) return [];
  const answer = withTrust(judged, agreement, ctx.policy);
  state.classification = answer.classification;
  state.trust = answer.trust;
  const c = answer.classification;
  const say = (action: string, reason?: string) => note(state, ctx, WARDEN, action, reason);
  say(`categorized as ${c.category}`, `${c.classifier} v${c.classifierVersion} (confidence ${Math.round(c.confidence * 100)}%): ${c.rationale}`);
  for (const a of answer.facts.assetsNamed)
    if (!state.assets.includes(a.asset)) {
      state.assets.push(a.asset);
      say(`asset involved: ${a.asset}`, `the report names it (${a.from})`);
    }
  const named = answer.facts.usersNamed.filter((u) => !state.users.includes(u.user));
  if (named.length) {
    state.users.push(...named.map((u) => u.user));
    say(`accounts involved: ${named.map((u) => u.user).join(', ')}`, named.map((u) => u.from).join('; '));
  }
  const newClasses = answer.dataClasses.filter((d) => !state.dataClasses.includes(d.dataClass));
  if (newClasses.length) {
    state.dataClasses.push(...newClasses.map((d) => d.dataClass));
    say(`data involved: ${newClasses.map((d) => d.dataClass).join(', ')}`, newClasses.map((d) => d.from).join('; '));
  }
  state.signals = answer.facts.signals;
  if (answer.facts.signals.length) say(`activity seen: ${answer.facts.signals.map((x) => x.signal).join(', ')}`, answer.facts.signals.map((x) => `${x.signal}: ${x.from}`).join('; '));
  if (answer.affected) {
    state.affectedFound = answer.affected;
    say(`${answer.affected.count.toLocaleString('en-US')} people or records affected`, answer.affected.from);
  }
  rescore(state, ctx);
  state.queue = answer.queue;
  say(`routed to queue ${answer.queue}`, answer.routedBecause);
  state.forensics = answer.forensics;
  const effects = reviewRegimes(state, ctx);
  state.cardDue = true;
  if (answer.confirmBecause) {
    state.proposal = { at: iso(ctx), because: answer.confirmBecause, category: c.category, severity: state.severity, page: answer.page, ...(c.candidates?.length ? { candidates: c.candidates } : {}) };
    say(`proposed: ${c.category}, ${state.severity}${answer.page ? ', paged' : ''}`, `${answer.confirmBecause}; a human confirms or overrides (warden confirm ${state.caseId})`);
    // A page that is due goes out now: waiting silently for a confirmation at 3 a.m. helps no one.
    if (answer.page) effects.push(...page(state, ctx, 'the proposed severity is at or above the paging threshold; the page asks for the triage to be confirmed'));
    return effects;
  }
  say('triage decided alone', answer.trust.why);
  moveTo(state, ctx, 'categorized', WARDEN);
  return effects;
}

