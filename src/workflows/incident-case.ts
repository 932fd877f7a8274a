/**
 * IncidentCase: one security case, from the first report to closure. A thin shell over the case
 * machine (src/domain/case-machine.ts), which makes every decision: the shell takes in reports,
 * human actions, third parties' news, timers and effects' results, and carries out the effects the
 * machine returns, concurrently, as activities (src/workflows/effects.ts).
 *
 * Humans act through updates. Their validators are the pure refusals of src/domain/case-actions.ts
 * (a refused update leaves no trace in history); an accepted action answers a small receipt, and
 * the case view is the query. The Web UI reads the case from its current details and search
 * attributes, kept up to date after every step.
 */
import type { UpdateDefinition } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  ACTION_NAMES,
  actOn,
  apply,
  type CaseEvent,
  type CaseReceipt,
  type CaseView,
  type Effect,
  isOpen,
  type MachineContext,
  newCase,
  nextWake,
  record,
  refusalOf,
  runPolicy,
  settle,
  viewOf,
} from '../domain';
import { carryOut } from './effects';
import { currentDetails, searchAttributesOf } from './summaries';
import { ACTION_UPDATES, type CaseInput, caseViewQuery, partyStatusSignal, reportSignal, reportsSignal, workflowIdFor } from './definitions';

export async function incidentCase(input: CaseInput): Promise<CaseView> {
  const { policy } = input;
  const state = input.state ?? newCase(input.caseId, input.fingerprint, policy, new Date().toISOString());
  if (input.state) state.generation += 1;
  const ctx = (): MachineContext => ({ policy, now: Date.now() });
  const caseWorkflowId = workflowIdFor(state.caseId);

  /** Events taken in by handlers and finished effects, applied in order by the loop below. */
  const inbox: CaseEvent[] = [];
  /** Bumped whenever something arrives: the loop wakes on it. */
  let arrivals = 0;
  let inFlight = 0;
  let reportsThisRun = 0;

  /** Start every effect at once (they are independent); each result comes back as an event. */
  function start(effects: Effect[]): void {
    for (const effect of effects) {
      inFlight += 1;
      void carryOut(effect, caseWorkflowId).then((result) => {
        inFlight -= 1;
        if (effect.kind !== 'metric') inbox.push({ type: 'result', effect, result });
        arrivals += 1;
      });
    }
  }
  const take = (event: CaseEvent) => {
    inbox.push(event);
    arrivals += 1;
  };

  // ── Handlers: events in ─────────────────────────────────────────────────────────────────────
  setHandler(caseViewQuery, () => viewOf(state));
  setHandler(reportSignal, (report) => {
    reportsThisRun += 1;
    take({ type: 'reports', reports: [report] });
  });
  setHandler(reportsSignal, (reports) => {
    reportsThisRun += reports.length;
    take({ type: 'reports', reports });
  });
  setHandler(partyStatusSignal, ({ party, status, detail }) => take({ type: 'party-status', party, status, detail }));
  for (const name of ACTION_NAMES) {
    setHandler(
      ACTION_UPDATES[name] as UpdateDefinition<CaseReceipt, [never]>,
      (actionInput: never) => {
        const { effects, receipt } = actOn(state, { name, input: actionInput } as never, ctx());
        start(effects);
        arrivals += 1;
        return receipt;
      },
      {
        validator: (actionInput: never) => {
          const reason = refusalOf(state, policy, { name, input: actionInput } as never, Date.now());
          if (reason) throw new Error(reason);
        },
      },
    );
  }

  // ── What the Web UI and visibility show ─────────────────────────────────────────────────────
  let details = '';
  function publish(): void {
    const now = currentDetails(state);
    if (now !== details) setCurrentDetails((details = now));
    // Only what changed is upserted: one command, or none.
    const current = workflowInfo().typedSearchAttributes;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const changed = searchAttributesOf(state).filter((pair) => !same(current.get(pair.key as never), pair.value));
    if (changed.length) upsertSearchAttributes(changed);
  }

  const shouldContinueAsNew = () => reportsThisRun >= policy.intake.evidencePerRun || workflowInfo().continueAsNewSuggested;

  // ── The loop: take in what arrived, let the machine move the case on, carry out its effects ─
  // Reports the previous run took in but left for this one (they arrived while it drained).
  if (input.pending?.length) inbox.push({ type: 'reports', reports: input.pending });
  /** Reports held back while this run drains before continuing as new: the next run takes them in. */
  const held: CaseEvent[] = [];
  for (;;) {
    const draining = isOpen(state) && shouldContinueAsNew();
    while (inbox.length) {
      const event = inbox.shift()!;
      if (draining && event.type === 'reports') held.push(event);
      else start(apply(state, event, ctx()));
    }
    start(settle(state, ctx()));
    publish();
    if (inFlight === 0 && !isOpen(state)) {
      await condition(allHandlersFinished);
      if (inbox.length === 0 && inFlight === 0) return viewOf(state);
      continue;
    }
    if (draining && inFlight === 0 && inbox.length === 0) {
      await condition(allHandlersFinished);
      if (inbox.length === 0 && inFlight === 0) {
        const pending = held.flatMap((e) => (e.type === 'reports' ? e.reports : []));
        record(state, new Date().toISOString(), 'warden', 'continued as new', `${reportsThisRun} reports in this run${pending.length ? `; ${pending.length} carried to the next` : ''}`);
        await continueAsNew<typeof incidentCase>({ caseId: input.caseId, fingerprint: input.fingerprint, policy: runPolicy(policy, state), state, pending });
      }
      continue;
    }
    const seen = arrivals;
    const wake = nextWake(state);
    if (wake === undefined) await condition(() => arrivals !== seen);
    else await condition(() => arrivals !== seen, Math.max(1, wake - Date.now()));
  }
}
