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
 *
 * Its boundary. Core itself resolves some operations as cancelled, at once, in a further activation
 * of the same workflow task, with no history event behind the result: one the workflow cancels
 * before its command reached the server (an activity or Nexus operation scheduled, a child started,
 * a signal sent, all in this task), and one whose cancellation type does not wait for the server
 * (an activity with TRY_CANCEL or ABANDON, a child or Nexus operation with TRY_CANCEL or ABANDON).
 * The guard reads the workflow's own commands as each activation concludes, and lets exactly those
 * cancellations through, once, within the task that cancelled them (test/task-guard-cancel.test.ts
 * shows them on the real server). A cancellation that Core takes from history (WAIT_CANCELLATION_*
 * after the server has the operation) comes with a new task, and a leaked one is still refused.
 * Timers and local activities need nothing: the SDK cancels a timer itself, and local activities
 * resolve within a task anyway.
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
type Job = NonNullable<Activation['jobs']>[number];
type Command = Parameters<NonNullable<WorkflowInternalsInterceptor['concludeActivation']>>[0]['commands'][number];

/**
 * The workflow's own operations, as far as the guard needs them: which are outstanding (by kind and
 * seq: 'activity:3', 'child:1', 'signal:2', 'nexus:1'), and which of them the workflow cancelled in
 * the current task in a way Core resolves at once.
 */
export interface OwnOperations {
  /** Outstanding operations: the start of the task whose command began each, and whether its cancellation type resolves at once even once the server has it. */
  readonly outstanding: Map<string, { readonly taskStart: string | undefined; readonly resolvesOnCancel: boolean }>;
  /** Operations cancelled in the task that started at `taskStart`, which Core resolves as cancelled in a further activation of that task. */
  readonly cancelledAtOnce: Set<string>;
  taskStart: string | undefined;
}

export function ownOperations(): OwnOperations {
  return { outstanding: new Map(), cancelledAtOnce: new Set(), taskStart: undefined };
}

/** Cancellation types that Core resolves at once, without waiting for the server (the proto enums' values). */
const ACTIVITY_RESOLVES_ON_CANCEL = new Set<unknown>([0, 2, 'TRY_CANCEL', 'ABANDON']); // ActivityCancellationType; unset is TRY_CANCEL
const CHILD_RESOLVES_ON_CANCEL = new Set<unknown>([0, 1, 'ABANDON', 'TRY_CANCEL']); // ChildWorkflowCancellationType; unset is ABANDON
const NEXUS_RESOLVES_ON_CANCEL = new Set<unknown>([1, 2, 'ABANDON', 'TRY_CANCEL']); // NexusOperationCancellationType; unset is WAIT_CANCELLATION_COMPLETED

/**
 * Note the commands an activation concluded with, issued in the workflow task that started at
 * `taskStart`: operations begun, and cancellations that Core resolves at once (the operation's command
 * is from this same task, so it never reached the server, or its cancellation type does not wait).
 */
export function noteCommands(own: OwnOperations, commands: readonly Command[], taskStart: string | undefined): void {
  if (taskStart !== own.taskStart) {
    own.cancelledAtOnce.clear();
    own.taskStart = taskStart;
  }
  const begin = (op: string, resolvesOnCancel: boolean) => own.outstanding.set(op, { taskStart, resolvesOnCancel });
  const cancel = (op: string) => {
    const begun = own.outstanding.get(op);
    if (begun && (begun.taskStart === taskStart || begun.resolvesOnCancel)) own.cancelledAtOnce.add(op);
  };
  for (const c of commands) {
    if (c.scheduleActivity) begin(`activity:${c.scheduleActivity.seq}`, ACTIVITY_RESOLVES_ON_CANCEL.has(c.scheduleActivity.cancellationType ?? 0));
    else if (c.startChildWorkflowExecution) begin(`child:${c.startChildWorkflowExecution.seq}`, CHILD_RESOLVES_ON_CANCEL.has(c.startChildWorkflowExecution.cancellationType ?? 0));
    else if (c.signalExternalWorkflowExecution) begin(`signal:${c.signalExternalWorkflowExecution.seq}`, false);
    else if (c.scheduleNexusOperation) begin(`nexus:${c.scheduleNexusOperation.seq}`, NEXUS_RESOLVES_ON_CANCEL.has(c.scheduleNexusOperation.cancellationType ?? 0));
    else if (c.requestCancelActivity) cancel(`activity:${c.requestCancelActivity.seq}`);
    else if (c.cancelChildWorkflowExecution) cancel(`child:${c.cancelChildWorkflowExecution.childWorkflowSeq}`);
    else if (c.cancelSignalWorkflow) cancel(`signal:${c.cancelSignalWorkflow.seq}`);
    else if (c.requestCancelNexusOperation) cancel(`nexus:${c.requestCancelNexusOperation.seq}`);
  }
}

/** The operation a job resolves, whether it ends it, and whether the job is a cancellation (the only result Core hands out at once). */
function resolution(j: Job): { op: string; ends: boolean; cancelled: boolean } | undefined {
  if (j.resolveActivity && !j.resolveActivity.isLocal) return { op: `activity:${j.resolveActivity.seq}`, ends: true, cancelled: j.resolveActivity.result?.cancelled != null };
  const start = j.resolveChildWorkflowExecutionStart;
  if (start) return { op: `child:${start.seq}`, ends: start.succeeded == null, cancelled: start.cancelled != null };
  if (j.resolveChildWorkflowExecution) return { op: `child:${j.resolveChildWorkflowExecution.seq}`, ends: true, cancelled: j.resolveChildWorkflowExecution.result?.cancelled != null };
  if (j.resolveSignalExternalWorkflow) return { op: `signal:${j.resolveSignalExternalWorkflow.seq}`, ends: true, cancelled: j.resolveSignalExternalWorkflow.failure?.canceledFailureInfo != null };
  const nexusStart = j.resolveNexusOperationStart;
  if (nexusStart) return { op: `nexus:${nexusStart.seq}`, ends: nexusStart.failed != null, cancelled: nexusStart.failed != null };
  if (j.resolveNexusOperation) return { op: `nexus:${j.resolveNexusOperation.seq}`, ends: true, cancelled: j.resolveNexusOperation.result?.cancelled != null };
  return undefined;
}

/** Whether a job is Core's own, at-once resolution of an operation the workflow cancelled in this task. */
function resolvedAtOnce(j: Job, own: OwnOperations | undefined, taskStart: string | undefined): boolean {
  const r = resolution(j);
  return r !== undefined && r.cancelled && own !== undefined && own.taskStart === taskStart && own.cancelledAtOnce.has(r.op);
}

/** Forget the operations an activation's jobs end (live or replayed), so that a seq is let through at most once. */
export function noteResolutions(own: OwnOperations, activation: Activation): void {
  for (const j of activation.jobs ?? []) {
    const r = resolution(j);
    if (!r) continue;
    own.cancelledAtOnce.delete(r.op);
    if (r.ends) own.outstanding.delete(r.op);
  }
}

/**
 * Whether an activation hands the workflow events that no workflow task has taken yet: a live
 * activation with a result from history, under the same task start time as the task before it.
 * Activations of queries alone neither count nor move the last task start. A cancellation that Core
 * resolves at once (see `noteCommands`) is not from history, and does not count.
 */
export function runsAheadOfHistory(activation: Activation, lastTaskStart: string | undefined, own?: OwnOperations): boolean {
  const jobs = activation.jobs ?? [];
  const taskStart = key(activation.timestamp as Timestamp | null | undefined);
  const fromNewEvents = jobs.some(
    (j) => FROM_NEW_EVENTS.some((v) => j[v] != null && !(v === 'resolveActivity' && j.resolveActivity?.isLocal)) && !resolvedAtOnce(j, own, taskStart),
  );
  return !activation.isReplaying && fromNewEvents && taskStart !== undefined && taskStart === lastTaskStart;
}

/** The start of the workflow task an activation belongs to, or undefined for an activation of queries alone. */
export function taskStartOf(activation: Activation): string | undefined {
  return (activation.jobs ?? []).every((j) => j.queryWorkflow) ? undefined : key(activation.timestamp as Timestamp | null | undefined);
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  /** The timestamp of the last activation that was not only queries: the start of its workflow task. */
  let lastTaskStart: string | undefined;
  const own = ownOperations();
  return {
    internals: [
      {
        activate(input, next) {
          const taskStart = taskStartOf(input.activation);
          if (taskStart === undefined) return next(input);
          // A later batch of an activation already judged by its first (histories from before the SDK ran an activation as one batch).
          if (input.batchIndex > 0) {
            noteResolutions(own, input.activation);
            return next(input);
          }
          if (runsAheadOfHistory(input.activation, lastTaskStart, own)) throw new Error(LEAKED_ACTIVATION);
          lastTaskStart = taskStart;
          noteResolutions(own, input.activation);
          return next(input);
        },
        concludeActivation(input, next) {
          const output = next(input);
          noteCommands(own, output.commands, lastTaskStart);
          return output;
        },
      },
    ],
  };
};
