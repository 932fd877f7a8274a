/**
 * The task guard's rule (src/workflows/task-guard.ts) on activations as the SDK builds them; the
 * whole sequence on the real server is test/query-race.test.ts, and its boundary (cancellations Core
 * resolves at once) on the real server is test/task-guard-cancel.test.ts.
 */
import Long from 'long';
import { interceptors, LEAKED_ACTIVATION, noteCommands, noteResolutions, ownOperations, runsAheadOfHistory, taskStartOf } from '../src/workflows/task-guard';

const at = (seconds: number, nanos = 0) => ({ seconds: Long.fromNumber(seconds), nanos });
const task4 = taskStartOf({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 1 } }] });

test('an activation of queries alone has no task start of its own', () => {
  expect(taskStartOf({ timestamp: at(1_800_000_009), jobs: [{ queryWorkflow: { queryId: 'q' } }] })).toBeUndefined();
  expect(task4).toBe('1800000004.5');
});

test('a live result under the previous task’s start time runs ahead of history', () => {
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 2 } }] }, task4)).toBe(true);
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), jobs: [{ signalWorkflow: { signalName: 'reports' } }] }, task4)).toBe(true);
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), jobs: [{ fireTimer: { seq: 1 } }] }, task4)).toBe(true);
});

test('a result with a task of its own, a replay, a local activity or an update alone does not', () => {
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 6), jobs: [{ resolveActivity: { seq: 2 } }] }, task4)).toBe(false);
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), isReplaying: true, jobs: [{ resolveActivity: { seq: 2 } }] }, task4)).toBe(false);
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 2, isLocal: true } }] }, task4)).toBe(false);
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), jobs: [{ doUpdate: { id: 'u', name: 'acknowledge' } }] }, task4)).toBe(false);
  expect(runsAheadOfHistory({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 1 } }] }, undefined)).toBe(false);
});

describe('a cancellation Core resolves at once, in a further activation of the task that cancelled it', () => {
  const cancelled = { failure: { message: 'Activity cancelled', canceledFailureInfo: {} } };
  const task5 = taskStartOf({ timestamp: at(1_800_000_005), jobs: [{ fireTimer: { seq: 1 } }] });
  const TRY_CANCEL = 0;
  const WAIT_CANCELLATION_COMPLETED = 1;
  const ABANDON = 2;
  const resolveCancelled = (seq: number) => ({ timestamp: at(1_800_000_005), jobs: [{ resolveActivity: { seq, result: { cancelled } } }] });

  test('an activity scheduled and cancelled in the same task is let through, once', () => {
    const own = ownOperations();
    noteCommands(own, [{ scheduleActivity: { seq: 3, cancellationType: WAIT_CANCELLATION_COMPLETED } }], task5);
    noteCommands(own, [{ requestCancelActivity: { seq: 3 } }], task5);
    expect(runsAheadOfHistory(resolveCancelled(3), task5, own)).toBe(false);
    noteResolutions(own, resolveCancelled(3));
    expect(runsAheadOfHistory(resolveCancelled(3), task5, own)).toBe(true);
  });

  test('an activity scheduled earlier is let through when its cancellation type does not wait (TRY_CANCEL, ABANDON)', () => {
    const own = ownOperations();
    noteCommands(own, [{ scheduleActivity: { seq: 1, cancellationType: TRY_CANCEL } }, { scheduleActivity: { seq: 2, cancellationType: ABANDON } }, { scheduleActivity: { seq: 3 } }], task4);
    noteCommands(own, [{ requestCancelActivity: { seq: 1 } }, { requestCancelActivity: { seq: 2 } }, { requestCancelActivity: { seq: 3 } }], task5);
    for (const seq of [1, 2, 3]) expect(runsAheadOfHistory(resolveCancelled(seq), task5, own)).toBe(false);
  });

  test('but a cancellation the server reports (WAIT_CANCELLATION_COMPLETED) under the same task start is still refused', () => {
    const own = ownOperations();
    noteCommands(own, [{ scheduleActivity: { seq: 3, cancellationType: WAIT_CANCELLATION_COMPLETED } }], task4);
    noteCommands(own, [{ requestCancelActivity: { seq: 3 } }], task5);
    expect(runsAheadOfHistory(resolveCancelled(3), task5, own)).toBe(true);
  });

  test('only a cancelled result, only for the seq cancelled, only within the task that cancelled it', () => {
    const own = ownOperations();
    noteCommands(own, [{ scheduleActivity: { seq: 3 } }, { scheduleActivity: { seq: 4 } }], task5);
    noteCommands(own, [{ requestCancelActivity: { seq: 3 } }], task5);
    expect(runsAheadOfHistory({ timestamp: at(1_800_000_005), jobs: [{ resolveActivity: { seq: 3, result: { completed: {} } } }] }, task5, own)).toBe(true);
    expect(runsAheadOfHistory(resolveCancelled(4), task5, own)).toBe(true);
    expect(runsAheadOfHistory({ timestamp: at(1_800_000_005), jobs: [...resolveCancelled(3).jobs, { resolveActivity: { seq: 4, result: { completed: {} } } }] }, task5, own)).toBe(true);
    // once the next task has concluded, the cancellation is no longer pending: a leak under that task's start is refused
    const task6 = taskStartOf({ timestamp: at(1_800_000_006), jobs: [{ fireTimer: { seq: 2 } }] });
    noteCommands(own, [], task6);
    expect(runsAheadOfHistory({ timestamp: at(1_800_000_006), jobs: resolveCancelled(3).jobs }, task6, own)).toBe(true);
  });

  test('a child cancelled before it started, or after with TRY_CANCEL or ABANDON, is let through; one that waits is not', () => {
    const own = ownOperations();
    noteCommands(own, [{ startChildWorkflowExecution: { seq: 1, cancellationType: 2 /* WAIT_CANCELLATION_COMPLETED */ } }, { startChildWorkflowExecution: { seq: 2, cancellationType: 1 /* TRY_CANCEL */ } }], task4);
    noteCommands(own, [{ startChildWorkflowExecution: { seq: 3, cancellationType: 2 } }], task5);
    noteCommands(own, [1, 2, 3].map((childWorkflowSeq) => ({ cancelChildWorkflowExecution: { childWorkflowSeq } })), task5);
    const childCancelled = (seq: number) => ({ timestamp: at(1_800_000_005), jobs: [{ resolveChildWorkflowExecution: { seq, result: { cancelled } } }] });
    expect(runsAheadOfHistory(childCancelled(1), task5, own)).toBe(true);
    expect(runsAheadOfHistory(childCancelled(2), task5, own)).toBe(false);
    expect(runsAheadOfHistory({ timestamp: at(1_800_000_005), jobs: [{ resolveChildWorkflowExecutionStart: { seq: 3, cancelled } }] }, task5, own)).toBe(false);
  });

  test('a signal cancelled before it was sent, and a Nexus operation cancelled before it was scheduled, are let through', () => {
    const own = ownOperations();
    noteCommands(own, [{ signalExternalWorkflowExecution: { seq: 1 } }, { scheduleNexusOperation: { seq: 1 } }, { signalExternalWorkflowExecution: { seq: 2 } }], task5);
    noteCommands(own, [{ cancelSignalWorkflow: { seq: 1 } }, { requestCancelNexusOperation: { seq: 1 } }], task5);
    const signalCancelled = (seq: number) => ({ timestamp: at(1_800_000_005), jobs: [{ resolveSignalExternalWorkflow: { seq, failure: cancelled.failure } }] });
    expect(runsAheadOfHistory(signalCancelled(1), task5, own)).toBe(false);
    expect(runsAheadOfHistory(signalCancelled(2), task5, own)).toBe(true);
    expect(runsAheadOfHistory({ timestamp: at(1_800_000_005), jobs: [{ resolveNexusOperationStart: { seq: 1, failed: cancelled.failure } }] }, task5, own)).toBe(false);
  });

  test('a signal cancelled after it was sent is not resolved at once, and is not let through', () => {
    const own = ownOperations();
    noteCommands(own, [{ signalExternalWorkflowExecution: { seq: 1 } }], task4);
    noteCommands(own, [{ cancelSignalWorkflow: { seq: 1 } }], task5);
    expect(runsAheadOfHistory({ timestamp: at(1_800_000_005), jobs: [{ resolveSignalExternalWorkflow: { seq: 1, failure: cancelled.failure } }] }, task5, own)).toBe(true);
  });
});

test('the interceptor notes the commands each activation concludes with, and judges an activation by its first batch', () => {
  const guard = interceptors().internals![0]!;
  const activate = (activation: Parameters<typeof runsAheadOfHistory>[0], batchIndex = 0) => guard.activate!({ activation, batchIndex }, () => undefined);
  const cancelled = { failure: { message: 'Activity cancelled', canceledFailureInfo: {} } };
  activate({ timestamp: at(1_800_000_004, 5), jobs: [{ initializeWorkflow: {} }] });
  guard.concludeActivation!({ commands: [{ scheduleActivity: { seq: 1 } }, { requestCancelActivity: { seq: 1 } }, { scheduleActivity: { seq: 2 } }] }, (i) => i);
  expect(() => activate({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 1, result: { cancelled } } }] })).not.toThrow();
  expect(() => activate({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 2, result: { completed: {} } } }] }, 1)).not.toThrow();
  expect(() => activate({ timestamp: at(1_800_000_004, 5), jobs: [{ resolveActivity: { seq: 2, result: { completed: {} } } }] })).toThrow(LEAKED_ACTIVATION);
});
