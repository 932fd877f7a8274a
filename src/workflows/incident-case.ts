/**
 * IncidentCase: one security case, from the first report to closure, as the runbook reads.
 *
 *   received → validating → (closed: false alarm | triage) → categorized → responding
 *     → (escalated) → recovery gate → recovering → closed
 *
 * Humans act through updates whose validators refuse what the policy does not allow (a refused
 * update leaves no trace in history); every accepted action and every automated decision is on
 * the timeline with its reason. Side effects happen only in activities.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  startChild,
  patched,
  proxyActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  addCampaignAnchors,
  addReport,
  assessSeverity,
  atOrAbove,
  type Classification,
  classifyByRules,
  type CaseState,
  type CaseView,
  durationToMs,
  type EscalationTrigger,
  escalationTriggers,
  categoryOf,
  formatDuration,
  humanSeverity,
  isOpen,
  matchFalseAlarm,
  missingFields,
  nextClockEvent,
  startClocks,
  clockAnchors,
  clocksWithdrawnBy,
  regimesNeeding,
  isOpenClock,
  pendingDeterminations,
  regimeFacts,
  regulatoryFlags,
  reporterRoute,
  refusals,
  ACTIVE_STAGES,
  routeToQueue,
  trustFor,
  withTrust,
  partyOpen,
  type MeasuredAgreement,
  type PendingDetermination,
  newCase,
  type Policy,
  type Report,
  record,
  type Review,
  type Stage,
  triage as triageFacts,
  upgradePolicySnapshot,
  viewOf,
} from '../domain';
import { incompleteIndicators } from '../domain/indicators';
import type { CaseSummary, ReporterNotice, WardenActivities } from '../activities';
import { activitySummary, currentDetails, nextDeadline } from './summaries';
import { partyAcknowledgedSignal, partyReleasedSignal, thirdPartyCoordination } from './third-party';
import {
  acknowledgeUpdate,
  assignUpdate,
  confirmTriageUpdate,
  type CaseInput,
  caseViewQuery,
  closeUpdate,
  deescalateUpdate,
  escalateUpdate,
  acknowledgePartyUpdate,
  addPartyUpdate,
  overrideUpdate,
  partyStatusSignal,
  recordEvidenceUpdate,
  releasePartyUpdate,
  recordFilingUpdate,
  determineUpdate,
  recordScopeUpdate,
  transferCustodyUpdate,
  reportSignal,
  reportsSignal,
  signOffUpdate,
  WardenAutoCategory,
  WardenCampaign,
  WardenCategory,
  WardenQueue,
  WardenVerdict,
  WardenAcknowledged,
  WardenNextDeadline,
  WardenSeverity,
  WardenStatus,
  partyWorkflowId,
  workflowIdFor,
  type CaseMetricsSinks,
} from './definitions';

const { classifyReport, measureAgreement, runRecoveryCheck } = proxyActivities<WardenActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});

/** Vendor notifications: retried with backoff, but a case never waits forever on a vendor. */
const vendors = proxyActivities<WardenActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});
/** The same activities, each call with the one-line summary the Web UI shows for it. */
const notify = new Proxy(vendors, {
  get: (target, name: string) => {
    const activity = target[name as keyof WardenActivities] as unknown as { executeWithOptions(o: { summary: string }, args: unknown[]): Promise<unknown> };
    return (...args: unknown[]) => activity.executeWithOptions({ summary: activitySummary(name, args[0] as Record<string, unknown>) }, args);
  },
}) as typeof vendors;

const WARDEN = 'warden';
/** Patch: reporter and commander notices became one activity per recipient. */
const ONE_NOTICE_PER_ACTIVITY = 'one-notice-per-activity';
const NOTICE_CONCURRENCY = 20;
/** Patch: a report missing required fields opens its case and the reporter is asked for them. */
const ASK_FOR_MISSING_FIELDS = 'ask-for-missing-fields';
/** Patch: declaring an incident brings in the response plan's third parties. */
const THIRD_PARTIES = 'third-party-coordination';
/** Patch: flagged regimes start durable regulatory notification clocks. */
const REGULATORY_CLOCKS = 'regulatory-clocks';
/**
 * Patch: regimes are judged on every fact (jurisdiction, entity type, people affected, human
 * determinations), clocks count from their own anchors, and determinations are asked for.
 */
const REGULATORY_TRIGGERS = 'regulatory-triggers';
/** Patch: a case that pages does so before its card is posted. */
const PAGE_BEFORE_CARD = 'page-before-card';
/** Patch: passing the recovery gate moves the declared incident's incident.io status on. */
const INCIDENT_RECOVERY_STATUS = 'incident-recovery-status';
/** How many recent report ids a case remembers to ignore a report filed twice. */
const RECENT_REPORT_IDS = 1_000;
/** Patch: closing a case also resolves the incident commander's pages. */
const RESOLVE_COMMANDER_PAGES = 'resolve-commander-pages';
const ACTIVE = ACTIVE_STAGES;
const { caseMetrics } = proxySinks<CaseMetricsSinks>();

export async function incidentCase(input: CaseInput): Promise<CaseView> {
  const policy = upgradePolicySnapshot(input.policy);
  const now = () => new Date().toISOString();
  const state: CaseState = input.state ?? newCase(input.caseId, input.fingerprint, policy, now());
  if (input.state) {
    state.generation += 1;
    // carried from a version that did not keep these yet
    state.reporterThreads ??= {};
    state.overrides ??= [];
    state.forensics ??= [];
    state.regulatoryFlags ??= [];
    state.recentReportIds ??= [];
    state.clocks ??= [];
    state.evidenceItems ??= [];
    state.parties ??= [];
    state.determinations ??= [];
    state.determinationsNeeded ??= [];
    state.jurisdictions ??= [];
  }

  /** Work the main loop does on behalf of handlers and timers, in order. */
  let factsChanged = false;
  let reportsThisRun = 0;
  const pendingEscalations: { actor: string; triggers: EscalationTrigger[]; number: number }[] = [];
  const pendingDeescalations: { actor: string; reason: string; escalation: number }[] = [];
  let cardDirty = false;
  /** A human acknowledged a paged case: the page is acknowledged too. */
  let pageAcknowledgement = false;
  /** Determinations newly needed, to ask of their deciders. */
  const determinationPrompts: PendingDetermination[] = [];

  const at = () => now();
  const note = (actor: string, action: string, reason?: string) => record(state, at(), actor, action, reason);

  function moveTo(stage: Stage, actor: string, reason?: string): void {
    // Closed is final: a step still under way when a human closed the case does not reopen it.
    if (state.stage === stage || state.stage === 'closed') return;
    note(actor, `stage ${state.stage} → ${stage}`, reason);
    state.stage = stage;
    setCurrentDetails(currentDetails(state));
    cardDirty = true;
    syncSearchAttributes();
  }

  /** The search attributes people filter on, upserted only where they changed (one command, or none). */
  function syncSearchAttributes(): void {
    const deadline = nextDeadline(state);
    const wanted: SearchAttributeUpdatePair[] = [
      { key: WardenStatus, value: state.stage },
      ...(state.severity ? [{ key: WardenSeverity, value: state.severity }] : []),
      ...(categoryOf(state) ? [{ key: WardenCategory, value: categoryOf(state)! }] : []),
      ...(state.queue ? [{ key: WardenQueue, value: state.queue }] : []),
      // A copy: the upserted value is kept by reference, and the case's own list grows in place.
      ...(state.campaign?.length ? [{ key: WardenCampaign, value: [...state.campaign] }] : []),
      ...(state.classification ? [{ key: WardenAutoCategory, value: state.classification.category }] : []),
      ...(state.closure && verdict() ? [{ key: WardenVerdict, value: verdict()! }] : []),
      { key: WardenAcknowledged, value: !!state.acknowledgedBy },
      ...(deadline ? [{ key: WardenNextDeadline, value: new Date(deadline) }] : []),
    ] as SearchAttributeUpdatePair[];
    const current = workflowInfo().typedSearchAttributes;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const changed = wanted.filter((pair) => !same(current.get(pair.key as never), pair.value));
    if (changed.length) upsertSearchAttributes(changed);
  }

  /**
   * Whether a human judged Warden's category, for the trust loop: "overridden" when a human
   * changed it, "agreed" when a human confirmed it or worked the case with it standing; none when
   * no human looked (an automatic close).
   */
  function verdict(): 'agreed' | 'overridden' | undefined {
    if (!state.classification) return undefined;
    if (categoryOf(state) !== state.classification.category) return 'overridden';
    const humans = state.proposal?.decided || state.acknowledgedBy || (state.closure && state.closure.by !== WARDEN);
    return humans ? 'agreed' : undefined;
  }

  // ── Handlers ────────────────────────────────────────────────────────────────────────────────

  setHandler(caseViewQuery, () => viewOf(state));

  /** Fold a report in; one already folded in (same reportId, e.g. re-filed after a crash) is ignored. */
  function receive(report: Report): void {
    if (state.recentReportIds.includes(report.reportId)) return;
    state.recentReportIds.push(report.reportId);
    if (state.recentReportIds.length > RECENT_REPORT_IDS) state.recentReportIds.shift();
    const first = state.reportCount === 0;
    addReport(state, report);
    // New campaign anchors are made searchable at once: the intake files the campaign's next reports here.
    if (addCampaignAnchors(state, report.campaign)) syncSearchAttributes();
    reportsThisRun += 1;
    if (first) note(report.reporter, 'report received', `${report.source}: ${report.title}`);
    else {
      if (state.reportCount <= 20 || state.reportCount % 100 === 0)
        note(report.reporter, `duplicate report folded in (${state.reportCount} reports)`, `${report.source}: ${report.reportId}`);
      if (state.stage === 'closed') note(WARDEN, 'report arrived after closure', 'kept as evidence on the closed case');
    }
    // A folded report's indicators are merged into the case's: say when some were not kept, so a human knows they were not checked.
    const incomplete = incompleteIndicators(report.indicatorCounts);
    if (incomplete && state.reportCount <= 20) note(WARDEN, 'report has indicators Warden did not keep', `${report.reportId}: ${incomplete}`);
    factsChanged = true;
  }
  setHandler(reportSignal, receive);
  setHandler(reportsSignal, (reports) => reports.forEach(receive));

  /** Validators are the pure refusals of src/domain/case-actions.ts: a refused update leaves no trace in history. */
  const refuse = (reason: string | undefined) => {
    if (reason) throw new Error(reason);
  };

  setHandler(
    acknowledgeUpdate,
    ({ actor }) => {
      state.acknowledgedBy = actor;
      state.acknowledgedAt = at();
      note(actor, 'acknowledged');
      syncSearchAttributes();
      if (state.paged) pageAcknowledgement = true;
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.acknowledge(state, policy, input)),
    },
  );

  setHandler(
    assignUpdate,
    ({ actor, assignee }) => {
      state.assignees.push(assignee);
      note(actor, `assigned ${assignee}`);
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.assign(state, policy, input)),
    },
  );

  setHandler(
    escalateUpdate,
    ({ actor, reason }) => {
      escalate(actor, [{ criterion: 'manual', source: 'human', detail: reason }]);
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.escalate(state, policy, input)),
    },
  );

  setHandler(
    deescalateUpdate,
    ({ actor, reason }) => {
      state.escalated = false;
      // Triggers that fired so far are set aside: only a new criterion escalates again by itself.
      const fired = state.escalations.flatMap((e) => e.triggers.map((t) => t.criterion));
      state.setAsideTriggers = [...new Set([...state.setAsideTriggers, ...fired])];
      note(actor, 'de-escalated', reason);
      if (state.stage === 'escalated') moveTo('responding', actor, 'de-escalated');
      pendingDeescalations.push({ actor, reason, escalation: state.escalations.length });
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.deescalate(state, policy, input)),
    },
  );

  setHandler(
    signOffUpdate,
    ({ actor, criterion, note: comment }) => {
      const c = state.recovery.find((r) => r.id === criterion)!;
      c.passed = true;
      c.by = actor;
      c.at = at();
      c.detail = comment;
      note(actor, `signed off ${criterion}`, comment);
      if (state.stage !== 'recovery-gate') moveTo('recovery-gate', actor, `first sign-off: ${criterion}`);
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.signOff(state, policy, input)),
    },
  );

  setHandler(
    closeUpdate,
    ({ actor, reason, resolution, review }) => {
      closeCase(actor, resolution ?? 'resolved', reason, review);
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.close(state, policy, input)),
    },
  );

  // ── Third parties (RS.MA-01) ───────────────────────────────────────────────────────────────

  const involved = (party: Policy['parties'][number]) =>
    (!party.categories || party.categories.includes(categoryOf(state) ?? '')) && (!party.atOrAbove || (state.severity !== undefined && atOrAbove(state.severity, party.atOrAbove)));

  async function bringInParty(party: Policy['parties'][number], why: string): Promise<void> {
    if (state.parties.some((p) => p.id === party.id)) return;
    const caseWorkflowId = workflowIdFor(state.caseId);
    const workflowId = partyWorkflowId(state.caseId, party.id);
    state.parties.push({ id: party.id, name: party.name, status: 'notifying', detail: why, at: at(), workflowId });
    note(WARDEN, `third party brought in: ${party.name}`, why);
    await startChild(thirdPartyCoordination, {
      workflowId,
      args: [{ caseId: state.caseId, caseWorkflowId, party, summary: `${summary().severity ?? ''} ${state.caseId}: ${state.title}`.trim(), commanders: commanders() }],
      // The party's coordination outlives a continue-as-new of the case; the case releases it when it closes.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }

  setHandler(partyStatusSignal, ({ party, status, detail }) => {
    const line = state.parties.find((p) => p.id === party);
    if (!line) return;
    line.status = status;
    line.detail = detail;
    line.at = at();
    note(WARDEN, `${line.name}: ${status}`, detail);
  });

  const partyAction = (action: 'acknowledge' | 'release') => ({
    handler: async ({ actor, party, reason }: { actor: string; party: string; reason?: string }) => {
      const line = state.parties.find((p) => p.id === party)!;
      const child = getExternalWorkflowHandle(line.workflowId);
      if (action === 'acknowledge') await child.signal(partyAcknowledgedSignal, { by: actor, note: reason });
      else await child.signal(partyReleasedSignal, { by: actor, reason: reason ?? '' });
      return viewOf(state);
    },
    validator: (input: { actor: string; party: string; reason?: string }) => refuse(refusals.partyAction(state, policy, action, input)),
  });
  const acknowledgeParty = partyAction('acknowledge');
  setHandler(acknowledgePartyUpdate, acknowledgeParty.handler, { validator: acknowledgeParty.validator });
  const releaseParty = partyAction('release');
  setHandler(releasePartyUpdate, releaseParty.handler, { validator: releaseParty.validator });

  setHandler(
    addPartyUpdate,
    async ({ actor, party, reason }) => {
      await bringInParty(policy.parties.find((p) => p.id === party)!, `added by ${actor}${reason ? `: ${reason}` : ''}`);
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.addParty(state, policy, input)),
    },
  );

  setHandler(
    recordEvidenceUpdate,
    ({ actor, description, collectedFrom, sha256, storageRef, collectedAt, step }) => {
      const id = `E${state.evidenceItems.length + 1}`;
      state.evidenceItems.push({
        id,
        description,
        collectedFrom,
        collectedBy: actor,
        collectedAt: collectedAt ?? at(),
        sha256: sha256.toLowerCase(),
        storageRef,
        ...(step ? { step } : {}),
        holder: actor,
        custody: [],
      });
      note(actor, `evidence ${id} collected from ${collectedFrom}`, `${description}; sha256 ${sha256.toLowerCase()}; stored at ${storageRef}`);
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.recordEvidence(state, policy, input)),
    },
  );

  setHandler(
    transferCustodyUpdate,
    ({ actor, item, to, reason }) => {
      const evidence = state.evidenceItems.find((e) => e.id === item)!;
      evidence.custody.push({ at: at(), from: evidence.holder, to, by: actor, reason });
      note(actor, `custody of ${item}: ${evidence.holder} → ${to}`, reason);
      evidence.holder = to;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.transferCustody(state, policy, input)),
    },
  );

  setHandler(
    recordFilingUpdate,
    ({ actor, clock: key, reference }) => {
      const clock = state.clocks.find((c) => c.key === key)!;
      clock.filed = { at: at(), by: actor, reference };
      const late = clock.missedAt ? ` (after the deadline ${clock.dueAt})` : ` (${formatDuration(Date.parse(clock.dueAt) - Date.now())} before the deadline)`;
      note(actor, `filed: ${clock.name}`, `reference ${reference}${late}`);
      reviewRegimes(); // a later stage may count from this filing
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.recordFiling(state, policy, input)),
    },
  );

  setHandler(
    determineUpdate,
    ({ actor, determination, decision, reason, at: madeAt }) => {
      const def = policy.determinations.find((d) => d.id === determination)!;
      state.determinations.push({ id: determination, decision, at: madeAt ?? at(), by: actor, reason });
      note(actor, `determined: ${decision ? '' : 'not '}${determination}`, `${def.question} ${decision ? 'Yes' : 'No'}: ${reason}${madeAt ? ` (made at ${madeAt})` : ''}`);
      if (!decision) {
        // Reversed: the regimes that needed it no longer apply, and their open clocks stop.
        for (const clock of clocksWithdrawnBy(determination, state.clocks, policy)) {
          clock.withdrawn = { at: at(), by: actor, reason: `not ${determination}: ${reason}` };
          note(actor, `clock withdrawn: ${clock.name}`, `the ${determination} determination was reversed`);
        }
        const regimes = regimesNeeding(determination, policy);
        state.regulatoryFlags = state.regulatoryFlags.filter((f) => !regimes.includes(f.regime));
      }
      reviewRegimes();
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.determine(state, policy, input, Date.now())),
    },
  );

  setHandler(
    recordScopeUpdate,
    ({ actor, affected, jurisdictions, reason }) => {
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
      note(actor, `scope: ${changes.join('; ')}`, reason);
      reviewRegimes();
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.recordScope(state, policy, input)),
    },
  );

  setHandler(
    confirmTriageUpdate,
    ({ actor, note: comment }) => {
      const proposal = state.proposal!;
      proposal.decided = { by: actor, at: at(), how: 'confirmed', ...(comment ? { note: comment } : {}) };
      note(actor, proposal.autoClose ? `confirmed: close as false alarm (${proposal.autoClose.rule})` : `confirmed triage: ${proposal.category}, ${proposal.severity ?? 'unscored'}`, comment);
      cardDirty = true;
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.confirmTriage(state, policy, input)),
    },
  );

  setHandler(
    overrideUpdate,
    ({ actor, reason, category, severity }) => {
      const was = { category: categoryOf(state), severity: state.severity };
      state.overrides.push({ at: at(), by: actor, reason, ...(category ? { category } : {}), ...(severity ? { severity } : {}), was });
      const changes = [
        category ? `category ${was.category} → ${category}` : '',
        severity ? `severity ${was.severity} → ${severity}` : '',
      ].filter(Boolean);
      note(actor, `override: ${changes.join(', ')}`, reason);
      if (severity) state.severity = severity;
      if (state.proposal && !state.proposal.decided) state.proposal.decided = { by: actor, at: at(), how: 'overridden', note: reason };
      cardDirty = true;
      syncSearchAttributes();
      return viewOf(state);
    },
    {
      validator: (input) => refuse(refusals.override(state, policy, input)),
    },
  );

  // ── Transitions shared by handlers and the main loop ────────────────────────────────────────

  function escalate(actor: string, triggers: EscalationTrigger[]): void {
    state.escalated = true;
    const number = state.escalations.length + 1;
    state.escalations.push({ at: at(), actor, triggers });
    note(actor, `escalated (#${number})`, triggers.map((t) => `${t.criterion} [${t.source}]: ${t.detail}`).join('; '));
    // Before the response begins, the stage waits: categorization comes first, then 'escalated'.
    if (state.stage === 'responding') moveTo('escalated', actor);
    pendingEscalations.push({ actor, triggers, number });
    cardDirty = true;
  }

  function closeCase(actor: string, resolution: NonNullable<CaseState['closure']>['resolution'], reason: string, review?: Review): void {
    state.closure = { at: at(), by: actor, resolution, reason, ...(review ? { review } : {}) };
    moveTo('closed', actor, `${resolution}: ${reason}`);
  }

  const summary = (): CaseSummary => ({
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
    ...(state.clocks.length || state.determinationsNeeded.length ? { regulatory: regulatoryLines() } : {}),
    openedAt: state.openedAt,
  });
  /** Open determinations and running clocks, one line each, for the card. */
  const regulatoryLines = () => [
    ...state.determinationsNeeded.map((d) => `to determine: ${d.determination} (${d.regimes.join(', ')})`),
    ...state.clocks.filter(isOpenClock).map((c) => `${c.name}: ${c.missedAt ? 'DEADLINE PASSED' : 'due'} ${c.dueAt}`),
  ];
  const channelOf = (queue: string | undefined) => policy.queues.find((q) => q.id === queue)?.slackChannel;
  const channel = () => channelOf(state.queue) ?? policy.queues[0].slackChannel;
  const commanderPageKey = (escalation: number) => `warden-${state.caseId}-commander-${escalation}`;
  /** The members of these roles, with how to reach them. */
  const membersOf = (roles: string[]) =>
    [...new Set(roles.flatMap((role) => policy.roles[role]?.members ?? []))].map((id) => ({ id, ...policy.people[id] }));
  const commanders = () => membersOf([policy.incidentCommanderRole]);

  /**
   * Run a vendor side effect. Retries are the activity's; a final failure (a rejected call, or
   * retries exhausted) goes on the timeline, the operators are alerted, and the case carries on.
   */
  async function sideEffect(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
      log.warn('side effect failed', { caseId: state.caseId, what, cause });
      note(WARDEN, `${what} failed`, cause);
      try {
        await notify.alertOperators({ caseId: state.caseId, what, cause });
      } catch {
        // the alert is also in the worker's log; nothing more to do from here
      }
      return false;
    }
  }

  async function publishCard(): Promise<void> {
    setCurrentDetails(currentDetails(state));
    if (!state.queue) return;
    cardDirty = false;
    state.cardRevision += 1;
    await sideEffect('case card', async () => {
      const signOff = policy.recovery.criteria
        .filter((c) => c.verification === 'human' && !state.recovery.find((r) => r.id === c.id)?.passed)
        .map((c) => ({ id: c.id, description: c.description }));
      const card = { ...summary(), signOff };
      const { cardRef } = await notify.publishCaseCard({ card, channel: channel(), cardRef: state.cardRef, revision: state.cardRevision });
      state.cardRef = cardRef;
    });
  }

  /**
   * Notices go one recipient per activity, so a retry after one failed delivery never repeats
   * the ones that succeeded (mail has no idempotency key). Cases that started before this change
   * replay their one all-recipients activity.
   */
  async function eachRecipient<T>(recipients: T[], send: (batch: T[]) => Promise<boolean>): Promise<void> {
    if (!patched(ONE_NOTICE_PER_ACTIVITY)) {
      await send(recipients);
      return;
    }
    for (let i = 0; i < recipients.length; i += NOTICE_CONCURRENCY)
      await Promise.all(recipients.slice(i, i + NOTICE_CONCURRENCY).map((r) => send([r])));
  }

  async function tellReporters(notice: ReporterNotice, text: string): Promise<void> {
    // A false alarm closed at validation has no queue yet: its notices go where the case would have gone.
    const queue = state.queue ?? routeToQueue(policy, categoryOf(state) ?? state.proposal?.category ?? policy.defaultCategory, state.assets).queue;
    const queueChannel = channelOf(queue);
    const all = state.reporters.map((id) => ({ id, messageId: state.reporterThreads[id], route: reporterRoute(id, policy, queueChannel) }));
    for (const r of all) if (r.route.via !== 'mail' && r.route.via !== 'slack-dm') note(WARDEN, `reporter ${r.id}: ${r.route.via === 'none' ? 'not told' : `told in ${r.route.to}`} (${notice})`, r.route.because);
    const reporters = all.filter((r) => r.route.via !== 'none');
    await eachRecipient(reporters, (batch) =>
      sideEffect(`reporter notice (${notice})`, () => notify.notifyReporters({ caseId: state.caseId, title: state.title, reporters: batch, notice, text })),
    );
  }

  // ── Stages ──────────────────────────────────────────────────────────────────────────────────

  async function validate(): Promise<void> {
    moveTo('validating', WARDEN, 'checking the report against the policy');
    const report = state.firstReport!;
    const falseAlarm = matchFalseAlarm(report, policy);
    if (falseAlarm?.notApplied) note(WARDEN, `false-alarm rule ${falseAlarm.rule} matched but not applied`, `${falseAlarm.notApplied}: a human decides`);
    else if (falseAlarm) {
      // Closing without a human is trusted per category: below the bar, Warden proposes it instead.
      const category = policy.falseAlarms.find((r) => r.id === falseAlarm.rule)?.category ?? policy.defaultCategory;
      const trust = trustFor(category, await agreementOf(category), policy);
      state.trust = trust;
      if (trust.mode === 'act') {
        note(WARDEN, `false-alarm rule ${falseAlarm.rule} applies`, trust.why);
        closeCase(WARDEN, 'false-alarm', `false-alarm rule ${falseAlarm.rule}`);
        await tellReporters('false-alarm', falseAlarm.explanation);
        return;
      }
      state.proposal = { at: at(), because: trust.why, category, page: false, autoClose: { rule: falseAlarm.rule, explanation: falseAlarm.explanation } };
      note(WARDEN, `proposed: close as false alarm (${falseAlarm.rule})`, `${trust.why}; a human confirms (warden confirm ${state.caseId})`);
    }
    if (patched(ASK_FOR_MISSING_FIELDS)) {
      const missing = missingFields(report, policy);
      if (missing.length) {
        state.missingFields = missing;
        note(WARDEN, `report incomplete: asking the reporter for ${missing.join(', ')}`, 'the case goes on to triage meanwhile');
        await tellReporters(
          'needs-info',
          `Thank you for your report. To work case ${state.caseId} we need: ${missing.join(', ')}. Please reply with them, or file them again with the same report.`,
        );
      }
    }
    moveTo('triage', WARDEN, 'report is valid and not a known false alarm');
  }

  /** The measured agreement for a category; unmeasured when it cannot be read (the policy's untilMeasured applies). */
  async function agreementOf(category: string): Promise<MeasuredAgreement | undefined> {
    try {
      return await measureAgreement({ category });
    } catch (err) {
      note(WARDEN, 'agreement could not be measured', err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message);
      return undefined;
    }
  }

  async function triage(): Promise<void> {
    const first = state.firstReport!;
    if (state.proposal?.autoClose) return awaitConfirmation();
    const text = { title: first.title, description: first.description, categoryHint: first.categoryHint, source: first.source };
    let classification: Classification;
    try {
      classification = await classifyReport(text, { taxonomy: policy.taxonomy, defaultCategory: policy.defaultCategory, classification: policy.classification });
    } catch (err) {
      // The classifier is a door to the world and may fail; the rules engine is pure and cannot.
      note(WARDEN, 'classifier failed; using the rules engine', err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message);
      classification = classifyByRules(text, policy);
    }
    if (state.stage !== 'triage') return; // closed by a human while classifying
    const facts = { ...state, ...text, sourceType: first.sourceType, sourceTypes: first.sourceTypes, affected: state.affected ?? first.affected, reportCount: state.reportCount };
    // The category first (a structured source's own type decides it), then its measured agreement.
    const judged = triageFacts(facts, policy, { classification });
    const answer = withTrust(judged, await agreementOf(judged.classification.category), policy);
    if (state.stage !== 'triage') return;
    state.classification = answer.classification;
    state.trust = answer.trust;
    const c = answer.classification;
    note(WARDEN, `categorized as ${c.category}`, `${c.classifier} v${c.classifierVersion} (confidence ${Math.round(c.confidence * 100)}%): ${c.rationale}`);
    for (const a of answer.facts.assetsNamed)
      if (!state.assets.includes(a.asset)) {
        state.assets.push(a.asset);
        note(WARDEN, `asset involved: ${a.asset}`, `the report names it (${a.from})`);
      }
    const named = answer.facts.usersNamed.filter((u) => !state.users.includes(u.user));
    if (named.length) {
      state.users.push(...named.map((u) => u.user));
      note(WARDEN, `accounts involved: ${named.map((u) => u.user).join(', ')}`, named.map((u) => u.from).join('; '));
    }
    const newClasses = answer.dataClasses.filter((d) => !state.dataClasses.includes(d.dataClass));
    if (newClasses.length) {
      state.dataClasses.push(...newClasses.map((d) => d.dataClass));
      note(WARDEN, `data involved: ${newClasses.map((d) => d.dataClass).join(', ')}`, newClasses.map((d) => d.from).join('; '));
    }
    state.signals = answer.facts.signals;
    if (answer.facts.signals.length) note(WARDEN, `activity seen: ${answer.facts.signals.map((x) => x.signal).join(', ')}`, answer.facts.signals.map((x) => `${x.signal}: ${x.from}`).join('; '));
    if (answer.affected) {
      state.affectedFound = answer.affected;
      note(WARDEN, `${answer.affected.count.toLocaleString('en-US')} people or records affected`, answer.affected.from);
    }
    rescore();
    state.queue = answer.queue;
    note(WARDEN, `routed to queue ${answer.queue}`, answer.routedBecause);
    state.forensics = answer.forensics;
    reviewRegimes();
    syncSearchAttributes();
    if (answer.confirmBecause) {
      state.proposal = {
        at: at(),
        because: answer.confirmBecause,
        category: c.category,
        severity: state.severity,
        page: answer.page,
        ...(c.candidates?.length ? { candidates: c.candidates } : {}),
      };
      note(WARDEN, `proposed: ${c.category}, ${state.severity}${answer.page ? ', paged' : ''}`, `${answer.confirmBecause}; a human confirms or overrides (warden confirm ${state.caseId})`);
      // A page that is due goes out now: waiting silently for a confirmation at 3 a.m. helps no one.
      if (answer.page) await pageOnCall('the proposed severity is at or above the paging threshold; the page asks for the triage to be confirmed');
      return awaitConfirmation();
    }
    note(WARDEN, 'triage decided alone', answer.trust.why);
    moveTo('categorized', WARDEN);
  }

  /** A proposal waits for a human: confirmed or overridden it goes on; a proposed false alarm closes. */
  async function awaitConfirmation(): Promise<void> {
    await publishCard();
    await condition(() => !!state.proposal?.decided || state.stage !== 'triage');
    if (state.stage !== 'triage') return;
    const proposal = state.proposal!;
    if (proposal.autoClose && proposal.decided?.how === 'confirmed') {
      closeCase(proposal.decided.by, 'false-alarm', `false-alarm rule ${proposal.autoClose.rule}, confirmed`);
      await tellReporters('false-alarm', proposal.autoClose.explanation);
      return;
    }
    if (proposal.autoClose) {
      // Overridden: not the false alarm it looked like; triage it as any other report.
      state.proposal = { ...proposal, autoClose: undefined };
      return;
    }
    rescore();
    moveTo('categorized', proposal.decided!.by, `triage ${proposal.decided!.how}`);
  }

  /**
   * Judge the regimes again on the facts so far: a regime that now applies is recorded, every
   * clock whose anchor has happened (awareness, a determination, an earlier stage's filing)
   * starts, and a determination a regime waits on is asked of its deciders.
   */
  function reviewRegimes(): void {
    const facts = regimeFacts(policy, state);
    for (const flag of regulatoryFlags(facts, policy)) {
      if (state.regulatoryFlags.some((f) => f.regime === flag.regime)) continue;
      state.regulatoryFlags.push(flag);
      note(WARDEN, `regulatory regime applies: ${flag.name}`, `${flag.because}; the policy says: ${flag.deadline}`);
      cardDirty = true;
    }
    const anchors = clockAnchors(state.openedAt, state.determinations, state.clocks);
    for (const clock of startClocks(state.regulatoryFlags, policy, anchors, state.clocks)) {
      // A clock withdrawn earlier (its determination reversed, then made again) starts afresh.
      state.clocks = state.clocks.filter((c) => !(c.withdrawn && c.key === clock.key));
      state.clocks.push(clock);
      note(WARDEN, `clock started: ${clock.name}`, `due ${clock.dueAt} (${clock.dueBecause}); owners ${clock.owners.join(', ')}`);
      cardDirty = true;
    }
    const needed = pendingDeterminations(facts, policy);
    for (const d of needed)
      if (!state.determinationsNeeded.some((n) => n.determination === d.determination)) {
        note(WARDEN, `determination needed: ${d.question}`, `it decides whether ${d.regimes.join(', ')} applies; decided by ${d.deciders.join(' or ')}`);
        determinationPrompts.push(d);
        cardDirty = true;
      }
    state.determinationsNeeded = needed;
  }

  /** Re-assess severity from the facts so far; records a change with its factors. */
  function rescore(): void {
    const assessment = assessSeverity(
      { ...state, category: categoryOf(state), signals: state.signals, affected: state.affected !== undefined ? { count: state.affected, from: 'recorded by a responder' } : state.affectedFound },
      policy,
    );
    const previous = state.severity;
    state.assessment = assessment;
    // A severity a human set stands; the automated assessment is still kept for the audit.
    if (!humanSeverity(state) && previous !== assessment.severity) {
      state.severity = assessment.severity;
      note(
        WARDEN,
        previous ? `severity ${previous} → ${assessment.severity}` : `severity ${assessment.severity}`,
        `score ${assessment.score}: ${assessment.factors.map((f) => `${f.factor} ${f.points} (${f.why})`).join('; ')}`,
      );
      cardDirty = true;
      syncSearchAttributes();
    }
  }

  async function pageOnCall(why: string): Promise<void> {
    if (await sideEffect('page on-call', () => notify.pageOnCall({ summary: summary(), action: 'trigger' }))) {
      state.paged = true;
      note(WARDEN, 'paged on-call', why);
    }
  }

  async function beginResponse(): Promise<void> {
    // The page goes first: the on-call is woken before the card is posted, not after.
    const pageFirst = patched(PAGE_BEFORE_CARD);
    if (!pageFirst) await publishCard();
    if (state.severity && atOrAbove(state.severity, policy.paging.pageAtOrAbove) && !state.paged)
      await pageOnCall(`severity ${state.severity} is at or above the paging threshold ${policy.paging.pageAtOrAbove}`);
    if (pageFirst) await publishCard();
    await tellReporters('received', `Thank you for your report. Case ${state.caseId} is with the ${state.queue} queue.`);
    const sla = policy.slas[state.severity!];
    const start = Date.now();
    state.slaDeadlines = {
      acknowledgeBy: new Date(start + durationToMs(sla.acknowledgeBy)).toISOString(),
      respondBy: new Date(start + durationToMs(sla.respondBy)).toISOString(),
    };
    note(WARDEN, 'SLA clocks started', `acknowledge by ${state.slaDeadlines.acknowledgeBy} (${sla.acknowledgeBy}), respond by ${state.slaDeadlines.respondBy} (${sla.respondBy})`);
    moveTo(state.escalated ? 'escalated' : 'responding', WARDEN);
  }

  /** SLA clocks that have passed without the human action, each breached once. */
  function checkSlas(): void {
    const t = Date.now();
    const { acknowledgeBy, respondBy } = state.slaDeadlines;
    const breach = (name: string, deadline: string | undefined, met: boolean) => {
      if (!deadline || met || state.slaBreaches.includes(name) || t < Date.parse(deadline)) return;
      state.slaBreaches.push(name);
      const detail = `${name} deadline ${deadline} passed (${formatDuration(t - Date.parse(deadline))} ago)`;
      note(WARDEN, `SLA breached: ${name}`, `timer: ${detail}`);
      caseMetrics.slaBreached(name, state.severity ?? 'none');
      if (policy.escalation.responseTimeExceeded && !state.escalated)
        escalate(WARDEN, [{ criterion: 'response-time-exceeded', source: 'timer', detail }]);
    };
    breach('acknowledge', acknowledgeBy, !!state.acknowledgedBy);
    breach('respond', respondBy, state.stage === 'recovery-gate' || state.stage === 'recovering' || state.stage === 'closed');
  }

  function checkCriteria(): void {
    if (state.escalated) return;
    const fresh = escalationTriggers({ ...state, regulatedData: state.assessment?.regulatedData ?? [] }, policy).filter(
      (t) => !state.setAsideTriggers.includes(t.criterion),
    );
    if (fresh.length) escalate(WARDEN, fresh);
  }

  async function carryOutEscalation(e: { actor: string; triggers: EscalationTrigger[]; number: number }): Promise<void> {
    const triggers = e.triggers.map((t) => `${t.criterion}: ${t.detail}`);
    const escalation = state.escalations[e.number - 1];
    await sideEffect('declare incident', async () => {
      const { incidentRef } = await notify.declareIncident({ summary: summary(), escalation: e.number, triggers });
      escalation.incidentRef = incidentRef;
      note(WARDEN, 'incident declared', incidentRef);
    });
    await sideEffect('page incident commander', () =>
      notify.pageOnCall({ summary: summary(), action: 'trigger', dedupKey: commanderPageKey(e.number) }),
    );
    await sideEffect('escalation summary', () =>
      notify.postEscalationSummary({ summary: summary(), channel: channel(), escalation: e.number, triggers, timeline: state.timeline }),
    );
    if (e.number === 1 && patched(THIRD_PARTIES))
      for (const party of policy.parties.filter(involved)) await bringInParty(party, 'the response plan names it for this incident');
  }

  async function carryOutDeescalation(d: { actor: string; reason: string; escalation: number }): Promise<void> {
    const incidentRef = state.escalations[d.escalation - 1]?.incidentRef;
    if (incidentRef)
      await sideEffect('update incident', () =>
        notify.updateIncident({
          incidentRef,
          change: { status: 'de-escalated', summary: `De-escalated by ${d.actor}: ${d.reason}` },
          key: `warden-${state.caseId}-deescalation-${d.escalation}`,
        }),
      );
    await publishCard();
  }

  /** What handlers and timers asked for, done in order. */
  async function drainWork(): Promise<void> {
    if (factsChanged && ACTIVE.includes(state.stage)) {
      factsChanged = false;
      rescore();
      checkCriteria();
      if (patched(REGULATORY_TRIGGERS)) reviewRegimes();
    }
    factsChanged = false;
    let declared = false;
    while (pendingEscalations.length) {
      await carryOutEscalation(pendingEscalations.shift()!);
      declared = true;
    }
    // A declared incident can meet regimes that apply only to one (NIS2, SEC, DORA).
    if (declared && patched(REGULATORY_TRIGGERS)) reviewRegimes();
    await askForDeterminations();
    while (pendingDeescalations.length) await carryOutDeescalation(pendingDeescalations.shift()!);
    await acknowledgePage();
    if (cardDirty) await publishCard();
    syncSearchAttributes(); // clocks started or filed, deadlines moved: only what changed is upserted
  }

  async function askForDeterminations(): Promise<void> {
    while (determinationPrompts.length) {
      const d = determinationPrompts.shift()!;
      await eachRecipient(membersOf(d.deciders), (batch) =>
        sideEffect('ask for determination', () =>
          notify.notifyCommanders({
            caseId: state.caseId,
            commanders: batch,
            text: `Case ${state.caseId} needs a determination: ${d.question} It decides whether ${d.regimes.join(', ')} applies, and its clocks count from when it is made. Record it: warden determine ${state.caseId} ${d.determination} --yes|--no --reason <why>`,
            key: `determination:${d.determination}`,
          }),
        ),
      );
    }
  }

  async function acknowledgePage(): Promise<void> {
    if (!pageAcknowledgement) return;
    pageAcknowledgement = false;
    await sideEffect('acknowledge page', () => notify.pageOnCall({ summary: summary(), action: 'acknowledge' }));
  }

  /** Machine-verified criteria due for a run: when the case is at the gate. */
  async function runMachineChecks(): Promise<void> {
    for (const criterion of policy.recovery.criteria) {
      if (criterion.verification !== 'machine') continue;
      const s = state.recovery.find((r) => r.id === criterion.id)!;
      if (s.passed || (s.nextCheckAt && Date.now() < Date.parse(s.nextCheckAt))) continue;
      s.attempts += 1;
      const lastEvidenceAt = state.evidence[state.evidence.length - 1]?.receivedAt ?? state.openedAt;
      try {
        const result = await runRecoveryCheck({
          check: criterion.check!,
          params: criterion.params,
          facts: { caseId: state.caseId, lastEvidenceAt, indicators: state.indicators },
        });
        s.detail = result.detail;
        if (result.passed) {
          s.passed = true;
          s.by = `check:${criterion.check}`;
          s.at = at();
          note(WARDEN, `verified ${criterion.id}`, result.detail);
          cardDirty = true;
        } else {
          s.nextCheckAt = new Date(Date.now() + durationToMs(criterion.recheckEvery)).toISOString();
          if (s.attempts === 1) note(WARDEN, `${criterion.id} not yet verified`, `${result.detail}; re-checking every ${criterion.recheckEvery}`);
        }
      } catch (err) {
        s.nextCheckAt = new Date(Date.now() + durationToMs(criterion.recheckEvery)).toISOString();
        note(WARDEN, `${criterion.id} check failed`, err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message);
      }
    }
  }

  /** Warnings due and deadlines passed on the regulatory clocks: recorded, and the owners told. */
  async function checkClocks(): Promise<void> {
    const now = Date.now();
    for (const clock of state.clocks) {
      if (!isOpenClock(clock) || clock.missedAt) continue;
      const owners = membersOf(clock.owners);
      const left = Date.parse(clock.dueAt) - now;
      for (const [i, warning] of clock.warnings.entries()) {
        if (warning.sent || Date.parse(warning.at) > now || left <= 0) continue;
        warning.sent = true;
        note(WARDEN, `clock warning: ${clock.name}`, `${formatDuration(left)} left; due ${clock.dueAt}`);
        await eachRecipient(owners, (batch) =>
          sideEffect('clock warning', () =>
            notify.notifyCommanders({ caseId: state.caseId, commanders: batch, text: `${clock.name} is due at ${clock.dueAt} (${formatDuration(left)} left). Record the filing: warden file ${state.caseId} ${clock.key} --reference <ref>`, key: `clock:${clock.key}:warning-${i + 1}` }),
          ),
        );
      }
      if (left <= 0) {
        clock.missedAt = at();
        note(WARDEN, `clock deadline passed: ${clock.name}`, `due ${clock.dueAt}; no filing recorded`);
        caseMetrics.deadlineMissed(clock.regime);
        await eachRecipient(owners, (batch) =>
          sideEffect('clock deadline', () =>
            notify.notifyCommanders({ caseId: state.caseId, commanders: batch, text: `${clock.name} was due at ${clock.dueAt} and no filing is recorded.`, key: `clock:${clock.key}:missed` }),
          ),
        );
      }
    }
  }

  function nextWake(): number | undefined {
    const times: number[] = [];
    const clockEvent = nextClockEvent(state.clocks);
    if (clockEvent !== undefined) times.push(clockEvent);
    const { acknowledgeBy, respondBy } = state.slaDeadlines;
    if (acknowledgeBy && !state.acknowledgedBy && !state.slaBreaches.includes('acknowledge')) times.push(Date.parse(acknowledgeBy));
    if (respondBy && !state.slaBreaches.includes('respond') && state.stage !== 'recovery-gate') times.push(Date.parse(respondBy));
    if (state.stage === 'recovery-gate')
      for (const s of state.recovery) if (s.verification === 'machine' && !s.passed && s.nextCheckAt) times.push(Date.parse(s.nextCheckAt));
    return times.length ? Math.min(...times) : undefined;
  }

  const shouldContinueAsNew = () => reportsThisRun >= policy.intake.evidencePerRun || workflowInfo().continueAsNewSuggested;
  const hasWork = () => factsChanged || cardDirty || determinationPrompts.length > 0 || pageAcknowledgement || pendingEscalations.length > 0 || pendingDeescalations.length > 0;

  /** The active response: SLA timers, new evidence, escalations and the recovery gate. */
  async function respond(): Promise<void> {
    while (ACTIVE.includes(state.stage)) {
      checkSlas();
      await checkClocks();
      await drainWork();
      if (state.stage === 'recovery-gate') {
        await runMachineChecks();
        if (state.recovery.every((c) => c.passed)) {
          await passRecoveryGate();
          return;
        }
      }
      if (hasWork()) continue;
      if (shouldContinueAsNew()) return;
      const wake = nextWake();
      const stageNow = state.stage;
      const changed = () => hasWork() || state.stage !== stageNow;
      if (wake === undefined) await condition(changed);
      else await condition(changed, Math.max(1, wake - Date.now()));
    }
  }

  async function passRecoveryGate(): Promise<void> {
    const decidedAt = at();
    state.recoveryDecision = { at: decidedAt, by: WARDEN };
    const how = state.recovery.map((c) => `${c.id} by ${c.by}`).join('; ');
    note(WARDEN, 'recovery gate passed: recovery may begin', how);
    moveTo('recovering', WARDEN, 'all recovery criteria passed');
    await eachRecipient(commanders(), (batch) =>
      sideEffect('notify incident commander', () =>
        notify.notifyCommanders({
          caseId: state.caseId,
          commanders: batch,
          text: `All recovery criteria passed at ${decidedAt} (${how}). Recovery may begin: start the recovery checklist.`,
          key: 'recovery-may-begin',
        }),
      ),
    );
    if (patched(INCIDENT_RECOVERY_STATUS))
      for (const e of state.escalations)
        if (e.incidentRef)
          await sideEffect('update incident', () =>
            notify.updateIncident({
              incidentRef: e.incidentRef!,
              change: { status: 'recovering', summary: `Recovery gate passed at ${decidedAt} (${how}). Recovery may begin.` },
              key: `${e.incidentRef}-recovering`,
            }),
          );
    await publishCard();
  }

  async function finish(): Promise<CaseView> {
    // An escalation decided just before closing is still carried out (its incident is closed below).
    while (pendingEscalations.length) await carryOutEscalation(pendingEscalations.shift()!);
    const closure = state.closure!;
    await acknowledgePage(); // one still pending goes first: PagerDuty then sees acknowledge → resolve
    if (state.paged) await sideEffect('resolve page', () => notify.pageOnCall({ summary: summary(), action: 'resolve' }));
    if (patched(RESOLVE_COMMANDER_PAGES))
      for (let n = 1; n <= state.escalations.length; n++)
        await sideEffect('resolve commander page', () =>
          notify.pageOnCall({ summary: summary(), action: 'resolve', dedupKey: commanderPageKey(n) }),
        );
    for (const e of state.escalations)
      if (e.incidentRef)
        await sideEffect('close incident', () =>
          notify.updateIncident({ incidentRef: e.incidentRef!, change: { status: 'closed' }, key: `${e.incidentRef}-closed` }),
        );
    for (const line of state.parties.filter(partyOpen))
      await getExternalWorkflowHandle(line.workflowId)
        .signal(partyReleasedSignal, { by: WARDEN, reason: `case closed (${closure.resolution})` })
        .catch(() => undefined); // it may have ended on its own meanwhile
    // A false alarm found at validation has told its reporters already.
    if (closure.resolution === 'false-alarm' && closure.by !== WARDEN) await tellReporters('false-alarm', closure.reason);
    else if (closure.resolution !== 'false-alarm')
      await tellReporters('resolved', `Case ${state.caseId} is closed (${closure.resolution}). Thank you for reporting it.`);
    await drainWork();
    await condition(allHandlersFinished);
    return viewOf(state);
  }

  // ── The runbook ─────────────────────────────────────────────────────────────────────────────

  syncSearchAttributes();
  for (;;) {
    switch (state.stage) {
      case 'received':
        await condition(() => state.reportCount > 0 || state.stage !== 'received');
        if (state.stage === 'received') await validate();
        break;
      case 'validating':
        await validate();
        break;
      case 'triage':
        await triage();
        break;
      case 'categorized':
        await beginResponse();
        break;
      case 'responding':
      case 'escalated':
      case 'recovery-gate':
        await respond();
        break;
      case 'recovering': {
        const wake = nextClockEvent(state.clocks);
        const changed = () => state.stage !== 'recovering' || hasWork() || shouldContinueAsNew();
        if (wake === undefined) await condition(changed);
        else await condition(changed, Math.max(1, wake - Date.now()));
        await checkClocks();
        await drainWork();
        break;
      }
      case 'closed':
        return finish();
    }
    if (shouldContinueAsNew() && isOpen(state) && !hasWork()) {
      await condition(allHandlersFinished);
      note(WARDEN, 'continued as new', `${reportsThisRun} reports in this run`);
      await continueAsNew<typeof incidentCase>({ ...input, state });
    }
  }
}
