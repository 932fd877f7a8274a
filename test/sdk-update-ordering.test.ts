/**
 * A history the TypeScript SDK 1.24.0 wrote but does not replay, recorded by the chaos benchmark
 * (bench/chaos.ts, 1,000 cases): a worker just restarted after SIGKILL took a workflow task that
 * carried both an activity's result and an `acknowledge` update, and recorded the update's
 * acceptance after the commands the case issued in that task; replaying the same history, the SDK
 * delivers the update first and fails with a nondeterminism error. The case code is the same in
 * both runs. Such a case stops until repaired (`warden repair`, test/repair.test.ts).
 *
 * This test pins the behaviour of the SDK version in use: when an upgrade replays this history,
 * it fails, and the README's note on the issue (Operating Warden) can go.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';

test('SDK 1.24.0 does not replay a history it wrote with an update accepted after the same task’s commands', async () => {
  const history = JSON.parse(readFileSync(join(__dirname, 'histories/sdk-update-ordering/chaos-cold-start-update.json'), 'utf8'));
  const events = history.events as { eventId: string; eventType: string; workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest: { input: { name: string } } } }[];
  // The task's commands (search attributes, a patch marker, the card activity), then the acceptance.
  const accepted = events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)!;
  expect(accepted.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest.input.name).toBe('acknowledge');
  expect(events.slice(16, 23).map((e) => e.eventType)).toEqual([
    'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    'EVENT_TYPE_MARKER_RECORDED',
    'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED',
  ]);
  await expect(Worker.runReplayHistory({ workflowsPath: require.resolve('../src/workflows') }, history, 'chaos-cold-start-update')).rejects.toThrow(
    /Update machine does not handle this event: HistoryEvent\(id: 17, UpsertWorkflowSearchAttributes\)/,
  );
});
