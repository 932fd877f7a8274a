/**
 * A query can leave a worker's cached workflow ahead of its history (src/workflows/task-guard.ts
 * tells the whole story). The sequence, on the real server:
 *
 *   1. a worker runs the workflow's first task, which schedules an activity, and dies running it;
 *   2. a query arrives while no workflow task is pending: the server sends it to the task queue,
 *      where it waits, since no worker polls;
 *   3. the activity's retry finishes on another worker, which schedules a workflow task that waits
 *      on the dead worker's sticky queue;
 *   4. a fresh worker takes the query, with a history that ends in the activity's result;
 *   5. an update arrives, and rides on the workflow task of step 3.
 *
 * Without the guard, the SDK writes a history it cannot replay. With it, the query is refused once,
 * the update is taken with the activity's result as replay will take them, and the history replays.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CASE_WORKFLOW_INTERCEPTORS } from '../src/workflow-bundle';
import { LEAKED_ACTIVATION } from '../src/workflows/task-guard';
import { noteUpdate, queryRace, stepsQuery } from './support/query-race/workflows';
import { eventually } from './support/warden';

jest.setTimeout(120_000);
const { EventType } = temporal.api.enums.v1;
const workflowsPath = require.resolve('./support/query-race/workflows');

function startDoomedWorker(address: string, taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', resolve(__dirname, 'support/query-race/worker.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ok(child));
    child.once('exit', (code) => fail(new Error(`the worker exited (${code}) before it was ready`)));
  });
}

async function race(guarded: boolean) {
  const address = process.env.WARDEN_TEST_TEMPORAL_ADDRESS!;
  const taskQueue = `query-race-${guarded ? 'guarded' : 'bare'}-${Date.now()}`;
  const client = new Client({ connection: await Connection.connect({ address }) });
  const native = await NativeConnection.connect({ address });
  const interceptors = guarded ? { workflowModules: CASE_WORKFLOW_INTERCEPTORS } : undefined;

  // 1.
  const doomed = await startDoomedWorker(address, taskQueue);
  const handle = await client.workflow.start(queryRace, { taskQueue, workflowId: taskQueue });
  const eventTypes = async () => ((await handle.fetchHistory()).events ?? []).map((e) => EventType[e.eventType ?? 0]);
  await eventually(async () => ((await eventTypes()).includes('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED') ? true : undefined), 'the activity to be scheduled');
  await new Promise((r) => setTimeout(r, 500));
  const dead = new Promise((r) => doomed.once('exit', r));
  doomed.kill('SIGKILL');
  await dead;
  // 2.
  const query = handle.query(stepsQuery).then(
    (steps) => ({ steps }),
    (err: Error) => ({ refused: err.message }),
  );
  // 3.
  const activities = await Worker.create({ connection: native, taskQueue, activities: { step: async (n: number) => `step ${n}` } });
  const activitiesRun = activities.run();
  await eventually(async () => ((await eventTypes()).includes('EVENT_TYPE_ACTIVITY_TASK_COMPLETED') ? true : undefined), 'the activity to finish');
  expect((await eventTypes()).slice(-1)).toEqual(['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED']);
  // 4.
  const workflows = await Worker.create({ connection: native, taskQueue, workflowsPath, interceptors });
  const workflowsRun = workflows.run();
  try {
    const queried = await query;
    // 5.
    expect(await handle.executeUpdate(noteUpdate, { args: ['bob'] })).toBe('noted');
    const steps = await eventually(async () => {
      const s = await handle.query(stepsQuery);
      return s.includes('step 2') ? s : undefined;
    }, 'the second step');
    const history = await handle.fetchHistory();
    const replay = await Worker.runReplayHistory({ workflowsPath, interceptors }, history, taskQueue).then(
      () => 'replayed',
      (err: Error) => err.message,
    );
    return { queried, steps, replay, events: (history.events ?? []).map((e) => EventType[e.eventType ?? 0]) };
  } finally {
    activities.shutdown();
    workflows.shutdown();
    await Promise.all([activitiesRun, workflowsRun]);
    await handle.terminate().catch(() => undefined);
  }
}

test('without the guard: the query sees a result no task has taken, and the SDK writes a history it cannot replay', async () => {
  const { queried, replay, events } = await race(false);
  expect(queried).toEqual({ steps: ['step 1'] });
  // The second activity, scheduled on the first one's result, is recorded before the update's acceptance ...
  const scheduled = events.lastIndexOf('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
  expect(events.indexOf('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toBe(scheduled + 1);
  // ... and replay, which delivers the update first, does not accept that.
  expect(replay).toMatch(/Nondeterminism error: Update machine does not handle this event: HistoryEvent\(id: \d+, ActivityTaskScheduled\)/);
});

test('with the guard: the query is refused once, and the history replays', async () => {
  const { queried, steps, replay, events } = await race(true);
  expect(queried).toEqual({ refused: expect.stringContaining(LEAKED_ACTIVATION) });
  expect(steps).toEqual(['note by bob', 'step 1', 'step 2']);
  expect(events.indexOf('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toBeLessThan(events.lastIndexOf('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED'));
  expect(replay).toBe('replayed');
});
