/**
 * Carrying out a case's effects (src/domain/case-effects.ts): each as the activity, child workflow,
 * signal or metric it names, with the Web UI's one-line summary ("Page on-call for WRD-…"). An
 * effect never throws: its outcome comes back as a result for the case machine to take in.
 */
import {
  ActivityFailure,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  startChild,
} from '@temporalio/workflow';
import type { WardenActivities } from '../activities';
import type { ActivityEffect, Effect, EffectResult } from '../domain';
import { type CaseMetricsSinks, partyAcknowledgedSignal, partyReleasedSignal } from './definitions';
import { activitySummary } from './summaries';
import { thirdPartyCoordination } from './third-party';

/** Vendor calls: retried with backoff, but a case never waits forever on a vendor. */
const vendors = proxyActivities<WardenActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});
/** Warden's own work outside the sandbox (checks, the evidence store). */
const internal = proxyActivities<WardenActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});
/** Short in-process work (classification, a visibility count): local activities, in the workflow task. */
const local = proxyLocalActivities<WardenActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
});
const { caseMetrics } = proxySinks<CaseMetricsSinks>();

type Callable = { executeWithOptions(options: { summary: string }, args: unknown[]): Promise<unknown> } & ((...args: unknown[]) => Promise<unknown>);

const causeOf = (err: unknown) => (err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message);

function callActivity(effect: ActivityEffect): Promise<unknown> {
  const args = effect.args ?? [effect.input];
  if (effect.local) return (local[effect.activity] as unknown as Callable)(...args);
  const proxy = effect.activity === 'runRecoveryCheck' || effect.activity === 'storeEvidence' ? internal : vendors;
  return (proxy[effect.activity] as unknown as Callable).executeWithOptions({ summary: activitySummary(effect.activity, effect.input) }, args);
}

/** Carry out one effect; its result (or failure) is what the case machine takes in next. */
export async function carryOut(effect: Effect, caseWorkflowId: string): Promise<EffectResult> {
  try {
    switch (effect.kind) {
      case 'activity':
        return { ok: true, value: await callActivity(effect) };
      case 'start-party':
        await startChild(thirdPartyCoordination, {
          workflowId: effect.workflowId,
          args: [{ ...(effect.input as never as Parameters<typeof thirdPartyCoordination>[0]), caseWorkflowId }],
          // The party's coordination outlives a continue-as-new of the case; the case releases it when it closes.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        return { ok: true, value: undefined };
      case 'signal-party': {
        const party = getExternalWorkflowHandle(effect.workflowId);
        if (effect.signal === 'acknowledged') await party.signal(partyAcknowledgedSignal, { by: effect.payload.by, note: effect.payload.note });
        else await party.signal(partyReleasedSignal, { by: effect.payload.by, reason: effect.payload.reason ?? '' });
        return { ok: true, value: undefined };
      }
      case 'metric':
        if (effect.metric === 'slaBreached') caseMetrics.slaBreached(effect.labels[0], effect.labels[1]);
        else caseMetrics.deadlineMissed(effect.labels[0]);
        return { ok: true, value: undefined };
    }
  } catch (err) {
    return { ok: false, cause: causeOf(err) };
  }
}
