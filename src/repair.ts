/**
 * Repairing a case its worker can no longer replay. Should a case's history hold a workflow task
 * that the current code does not reproduce (an unversioned change that shipped, or a history the
 * SDK wrote in an order it does not replay), every later task fails with a nondeterminism error
 * and the case stops: the server marks it in visibility (TemporalReportedProblems).
 *
 * `planRepair` finds the first workflow task the current code does not replay, by replaying
 * prefixes of the history; `repairCase` resets the case to that task, so the worker runs it again
 * with the current code. Everything before it stays; signals and updates after it are reapplied
 * by the server, and their validators judge them again (a human action refused there is listed, to
 * be taken again). Vendor side effects are idempotent by key, so re-running the task repeats none.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import Long from 'long';
import { DeterminismViolationError } from '@temporalio/workflow';
import { caseMetricsSinks } from './observability/metrics';
import { caseIdFrom, workflowIdFor } from './workflows/definitions';
import { bundleCaseWorkflowCode } from './workflow-bundle';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { EventType } = temporal.api.enums.v1;

export interface HumanAction {
  update: string;
  actor?: string;
  eventId: number;
}

export interface RepairPlan {
  caseId: string;
  workflowId: string;
  runId: string;
  /** Whether the current code replays the whole history (then there is nothing to reset). */
  replays: boolean;
  /** The workflow task to run again: its WorkflowTaskCompleted event id. */
  resetToEventId?: number;
  /** Human actions (accepted updates) recorded after that point: reapplied, to be checked. */
  actionsAfter: HumanAction[];
  detail: string;
}

/** The workflows as one bundle, built once for all the replays a plan needs. */
export async function bundleCaseWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleCaseWorkflowCode(new DefaultLogger('WARN'));
}

const id = (e: HistoryEvent) => Number(e.eventId);

function actorOf(event: HistoryEvent): string | undefined {
  const payload = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0];
  try {
    const input = payload ? (defaultPayloadConverter.fromPayload(payload as never) as { actor?: unknown }) : undefined;
    return typeof input?.actor === 'string' ? input.actor : undefined;
  } catch {
    return undefined; // an encrypted payload: the name is still known
  }
}

export async function planRepair(client: Client, caseRef: string, bundle: WorkflowBundleWithSourceMap): Promise<RepairPlan> {
  const workflowId = workflowIdFor(caseRef);
  const handle = client.workflow.getHandle(workflowId);
  const { runId } = await handle.describe();
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  // Everything a workflow task wrote: its events up to the next task's scheduling.
  const through = (k: number) => {
    const next = events.findIndex((e, i) => i > events.indexOf(completed[k]) && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    return { events: next < 0 ? events : events.slice(0, next) };
  };
  const replays = async (k: number): Promise<boolean> => {
    try {
      // The sink is registered as on a worker (replay never calls it, but an unknown one is logged as an error).
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: `repair-${workflowId}`, sinks: caseMetricsSinks }, through(k), workflowId);
      return true;
    } catch (err) {
      if (err instanceof DeterminismViolationError) return false;
      throw err;
    }
  };
  const base = { caseId: caseIdFrom(workflowId), workflowId, runId };
  if (!completed.length || (await replays(completed.length - 1)))
    return { ...base, replays: true, actionsAfter: [], detail: 'the current code replays this case’s whole history: no workflow task to run again' };
  // The first task that does not replay: every later prefix fails too, so search for the boundary.
  let lo = 0;
  let hi = completed.length - 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await replays(mid)) lo = mid + 1;
    else hi = mid;
  }
  const resetTo = completed[lo];
  const startedId = Number(resetTo.workflowTaskCompletedEventAttributes?.startedEventId ?? id(resetTo) - 1);
  const actionsAfter = events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED && id(e) > startedId)
    .map((e) => ({ update: e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? '?', actor: actorOf(e), eventId: id(e) }));
  return {
    ...base,
    replays: false,
    resetToEventId: id(resetTo),
    actionsAfter,
    detail: `workflow task ${id(resetTo)} (of ${completed.length}) does not replay with the current code; the case resumes from the task before it`,
  };
}

/** Reset the case to the plan's workflow task; resolves to the new run's id. */
export async function repairCase(client: Client, plan: RepairPlan, reason: string): Promise<string> {
  if (plan.resetToEventId === undefined) throw new Error(`${plan.caseId}: nothing to repair (${plan.detail})`);
  const response = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId: plan.workflowId, runId: plan.runId },
    reason,
    workflowTaskFinishEventId: Long.fromNumber(plan.resetToEventId),
    requestId: randomUUID(),
  });
  return response.runId ?? '';
}

/** Quiet the Runtime's own logs for a command-line run (replays log each worker's start and stop). */
export function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by the caller
  }
}
