/**
 * The task guard's rule (src/workflows/task-guard.ts) on activations as the SDK builds them; the
 * whole sequence on the real server is test/query-race.test.ts.
 */
import Long from 'long';
import { runsAheadOfHistory, taskStartOf } from '../src/workflows/task-guard';

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
