/**
 * The task guard's boundary, on the real server (the rule itself: test/task-guard.test.ts; the race
 * it refuses: test/query-race.test.ts). A workflow that cancels something before Core has heard
 * back from the server about it gets the cancellation from Core at once, in a further activation
 * under the same workflow task start time: an activity scheduled and cancelled in one activation
 * (its command never reaches the server), an activity cancelled with TRY_CANCEL in a later task, a
 * child cancelled before it started, a signal cancelled before it was sent. None of these comes from
 * a new history event, and the guard lets them through: each workflow completes, with no failed
 * workflow task, and its history replays under the guard. (Before the guard knew of them, each of
 * these workflows was stuck: every attempt at the task failed on the guard's error.) A cancellation
 * the server reports (WAIT_CANCELLATION_COMPLETED) comes with a task of its own, and passes too.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CASE_WORKFLOW_INTERCEPTORS } from '../src/workflow-bundle';
import {
  activityCancelledInALaterTask,
  activityCancelledInALaterTaskAndWaitedFor,
  activityCancelledInTheSameTask,
  childCancelledInTheSameTask,
  signalCancelledInTheSameTask,
} from './support/task-guard/workflows';

jest.setTimeout(60_000);
const { EventType } = temporal.api.enums.v1;
const workflowsPath = require.resolve('./support/task-guard/workflows');
const interceptors = { workflowModules: CASE_WORKFLOW_INTERCEPTORS };
const taskQueue = `task-guard-cancel-${Date.now()}`;

let client: Client;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const address = process.env.WARDEN_TEST_TEMPORAL_ADDRESS!;
  client = new Client({ connection: await Connection.connect({ address }) });
  worker = await Worker.create({ connection: await NativeConnection.connect({ address }), taskQueue, workflowsPath, interceptors });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
});

/** Runs a workflow to its end (or for 10 s): its result, its history's event types, its failed tasks' messages, and whether it replays. */
async function run(workflow: () => Promise<string>) {
  const handle: WorkflowHandle<typeof workflow> = await client.workflow.start(workflow, { taskQueue, workflowId: `${taskQueue}-${workflow.name}` });
  const result = await Promise.race([
    handle.result(),
    new Promise<string>((ok) => setTimeout(() => ok('still running after 10 s'), 10_000)),
  ]);
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const taskFailures = events.flatMap((e) => (e.workflowTaskFailedEventAttributes ? [e.workflowTaskFailedEventAttributes.failure?.message ?? ''] : []));
  await handle.terminate().catch(() => undefined);
  const replay = await Worker.runReplayHistory({ workflowsPath, interceptors }, history, handle.workflowId).then(
    () => 'replayed',
    (err: Error) => err.message,
  );
  return { result, taskFailures, replay, events: events.map((e) => EventType[e.eventType ?? 0]) };
}

test.each([
  ['an activity scheduled and cancelled in the same activation', activityCancelledInTheSameTask],
  ['an activity cancelled (TRY_CANCEL) in a later task', activityCancelledInALaterTask],
  ['an activity cancelled (WAIT_CANCELLATION_COMPLETED) in a later task, the server reporting it', activityCancelledInALaterTaskAndWaitedFor],
  ['a child cancelled before it started', childCancelledInTheSameTask],
  ['a signal cancelled before it was sent', signalCancelledInTheSameTask],
])('%s is resolved as cancelled, and the guard lets that through', async (_, workflow) => {
  const { result, taskFailures, replay, events } = await run(workflow);
  expect({ result, taskFailures }).toEqual({ result: 'cancelled', taskFailures: [] });
  expect(events.slice(-1)).toEqual(['EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED']);
  expect(replay).toBe('replayed');
});
