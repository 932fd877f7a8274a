/**
 * The task guard: a workflow interceptor that refuses to run a case ahead of its history.
 *
 * Why it exists. The TypeScript SDK (1.24.0, its Core) can hand a workflow events that no workflow
 * task has taken yet. A query sent while no workflow task is pending goes straight to the task
 * queue. If it waits there (no worker polling: a worker was just restarted) while an activity
 * finishes, the worker that takes it gets a history that ends with the activity's result and the
 * workflow task that result scheduled, not yet started. The worker runs the workflow on that result
 * to answer the query. It keeps the commands this produces, and sends them with its next workflow
 * task. When that task also carries an update, the history records the commands first and the
 * update's acceptance after them. Replay delivers the update first, in the same activation as the
 * activity's result, and the case stops on a nondeterminism error (test/query-race.test.ts
 * reproduces it on the real server).
 *
 * How it is recognised. Every activation that carries new events (an activity's result, a timer, a
 * signal, a child's outcome, a cancellation) comes with a new workflow task, and so with a new
 * workflow task start time, the activation's timestamp. The leaked activation carries a result
 * while its timestamp is still the previous task's, and it is not a replay.
 *
 * What it does. It fails that activation before the workflow sees the result. The worker then
 * answers the query with an error and drops the case from its cache. The next workflow task starts
 * from the server's history, with the result and any update in the same activation, as replay has
 * them. The query can be asked again; the case never runs ahead of its history.
 */
import type { WorkflowInterceptorsFactory, WorkflowInternalsInterceptor } from '@temporalio/workflow';

/** Activation jobs that only a new history event produces (local activities resolve within a task, and are not among them). */
const FROM_NEW_EVENTS = [
  'fireTimer',
  'resolveActivity',
  'resolveChildWorkflowExecutionStart',
  'resolveChildWorkflowExecution',
  'resolveSignalExternalWorkflow',
  'resolveRequestCancelExternalWorkflow',
  'signalWorkflow',
  'cancelWorkflow',
  'resolveNexusOperationStart',
  'resolveNexusOperation',
] as const;

export const LEAKED_ACTIVATION = 'task guard: the worker was handed events no workflow task has taken yet (a query raced an activity result); refusing them, so that the next workflow task takes them as replay will';

interface Timestamp {
  seconds?: { toString(): string } | number | null;
  nanos?: number | null;
}

const key = (t: Timestamp | null | undefined): string | undefined => (t ? `${String(t.seconds ?? 0)}.${t.nanos ?? 0}` : undefined);

type Activation = Parameters<NonNullable<WorkflowInternalsInterceptor['activate']>>[0]['activation'];

/**
 * Whether an activation hands the workflow events that no workflow task has taken yet: a live
 * activation with a result from history, under the same task start time as the task before it.
 * Activations of queries alone neither count nor move the last task start.
 */
export function runsAheadOfHistory(activation: Activation, lastTaskStart: string | undefined): boolean {
  const jobs = activation.jobs ?? [];
  const taskStart = key(activation.timestamp as Timestamp | null | undefined);
  const fromNewEvents = jobs.some((j) => FROM_NEW_EVENTS.some((v) => j[v] != null && !(v === 'resolveActivity' && j.resolveActivity?.isLocal)));
  return !activation.isReplaying && fromNewEvents && taskStart !== undefined && taskStart === lastTaskStart;
}

/** The start of the workflow task an activation belongs to, or undefined for an activation of queries alone. */
export function taskStartOf(activation: Activation): string | undefined {
  return (activation.jobs ?? []).every((j) => j.queryWorkflow) ? undefined : key(activation.timestamp as Timestamp | null | undefined);
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  /** The timestamp of the last activation that was not only queries: the start of its workflow task. */
  let lastTaskStart: string | undefined;
  return {
    internals: [
      {
        activate(input, next) {
          const taskStart = taskStartOf(input.activation);
          if (taskStart === undefined) return next(input);
          if (runsAheadOfHistory(input.activation, lastTaskStart)) throw new Error(LEAKED_ACTIVATION);
          lastTaskStart = taskStart;
          return next(input);
        },
      },
    ],
  };
};
