/**
 * Workflows on the task guard's boundary (test/task-guard-cancel.test.ts): each one cancels
 * something in a way that Core resolves as cancelled at once, in a further activation under the same
 * workflow task start time: before its command reached the server, or with TRY_CANCEL. None of these
 * results comes from a new history event, and the guard must let them through. One more waits for
 * the server's cancellation (WAIT_CANCELLATION_COMPLETED), which comes with a task of its own.
 *
 * Nothing polls the activities' task queue: an activity here is only ever scheduled, never run.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';

const { neverRuns } = proxyActivities<{ neverRuns(): Promise<string> }>({
  taskQueue: 'task-guard-nobody-polls',
  scheduleToCloseTimeout: '1m',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
});

/** How a cancelled operation ended: 'cancelled', or what went wrong instead. */
async function cancelled(run: () => Promise<unknown>): Promise<string> {
  try {
    await CancellationScope.cancellable(run);
    return 'not cancelled';
  } catch (err) {
    return isCancellation(err) ? 'cancelled' : `failed: ${(err as Error).message}`;
  }
}

/** Schedules an activity and cancels it in the same activation: its command never reaches the server. */
export async function activityCancelledInTheSameTask(): Promise<string> {
  return cancelled(async () => {
    const result = neverRuns();
    CancellationScope.current().cancel();
    return result;
  });
}

/** Schedules an activity in the first task and cancels it (TRY_CANCEL) in the next one, when a timer fires. */
export async function activityCancelledInALaterTask(): Promise<string> {
  return cancelled(async () => {
    const result = neverRuns();
    await sleep('100ms');
    CancellationScope.current().cancel();
    return result;
  });
}

const { neverRunsWaited } = proxyActivities<{ neverRunsWaited(): Promise<string> }>({
  taskQueue: 'task-guard-nobody-polls',
  scheduleToCloseTimeout: '1m',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** The same with WAIT_CANCELLATION_COMPLETED: Core waits for the server's ActivityTaskCanceled, which comes with a task of its own. */
export async function activityCancelledInALaterTaskAndWaitedFor(): Promise<string> {
  return cancelled(async () => {
    const result = neverRunsWaited();
    await sleep('100ms');
    CancellationScope.current().cancel();
    return result;
  });
}

/** A child that only waits; it is never started. */
export async function idleChild(): Promise<void> {
  await sleep('1h');
}

/** Starts a child and cancels it in the same activation, before the server has started it. */
export async function childCancelledInTheSameTask(): Promise<string> {
  return cancelled(async () => {
    const child = startChild(idleChild, { workflowId: `${workflowInfo().workflowId}-child` });
    CancellationScope.current().cancel();
    return child;
  });
}

/** Signals another workflow and cancels the signal in the same activation, before it is sent. */
export async function signalCancelledInTheSameTask(): Promise<string> {
  return cancelled(async () => {
    const signalled = getExternalWorkflowHandle(`${workflowInfo().workflowId}-nobody`).signal('hello');
    CancellationScope.current().cancel();
    return signalled;
  });
}
