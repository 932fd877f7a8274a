/**
 * A case whose history its worker can no longer replay: it stops on a nondeterminism error, the
 * server reports it, `warden cases list --problems` shows it, and `warden repair` runs it again
 * from the first workflow task the current code does not replay, the human actions after that
 * point reapplied and judged again. The unreplayable history is made the way it happens in practice: by a worker
 * running different code (here, an unversioned change) before the current one takes over.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, dryRunConnectors } from '../src/activities';
import { listCases } from '../src/api/cases';
import type { CaseView } from '../src/domain';
import { fileReport, toReport } from '../src/intake/filing';
import { bundleCaseWorkflows, planRepair, repairCase } from '../src/repair';
import { acknowledgeUpdate, caseViewQuery, reportSignal, workflowIdFor } from '../src/workflows/definitions';
import { eventually, sampleReport, startWarden, testPolicy } from './support/warden';

const run = promisify(execFile);

test('a case stuck on a nondeterminism error is found, and repaired from the first task that does not replay', async () => {
  const address = process.env.WARDEN_TEST_TEMPORAL_ADDRESS!;
  const policy = testPolicy();
  const taskQueue = `warden-repair-${Date.now()}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address });
  const outbox = join(mkdtempSync(join(tmpdir(), 'warden-repair-')), 'outbox.jsonl');

  // 1. The case runs for a while under other code, and a responder acknowledges it.
  const other = await Worker.create({ connection: native, taskQueue, workflowsPath: require.resolve('./support/changed-workflow'), activities: createActivities(dryRunConnectors(outbox)) });
  const report = sampleReport();
  const { caseId } = await other.runUntil(async () => {
    const filed = await fileReport(client, policy, toReport(report), taskQueue);
    const handle = client.workflow.getHandle(workflowIdFor(filed.caseId));
    await eventually(async () => ((await handle.query(caseViewQuery)).stage === 'responding' ? true : undefined), 'responding');
    await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    return filed;
  });
  const w = await startWarden(policy, { taskQueue, outboxPath: outbox });
  try {
    // 2. The current code takes over: the next task fails on replay, and the server says so.
    const handle = client.workflow.getHandle(workflowIdFor(caseId));
    await handle.signal(reportSignal, toReport({ ...report, reporter: 'carol' }));
    const stuck = await eventually(async () => (await listCases(client, { problems: true })).find((r) => r.caseId === caseId), 'the case reported stuck', 60_000);
    expect(stuck.problems).toContain('cause=WorkflowTaskFailedCauseNonDeterministicError');

    const cli = await run(resolve(__dirname, '../bin/warden'), ['repair', caseId, '--dry-run'], { env: { ...process.env, TEMPORAL_ADDRESS: address } });
    expect(cli.stdout).toMatch(new RegExp(`${caseId}: workflow task \\d+ \\(of \\d+\\) does not replay with the current code`));
    expect(cli.stdout).toContain('acknowledge by bob');

    // 3. The plan: the very first task (the other code started with a timer); bob's acknowledgement after it.
    const bundle = await bundleCaseWorkflows();
    const plan = await planRepair(client, caseId, bundle);
    expect(plan.replays).toBe(false);
    const events = (await handle.fetchHistory()).events ?? [];
    const firstCompleted = events.find((e) => e.workflowTaskCompletedEventAttributes);
    expect(plan.resetToEventId).toBe(Number(firstCompleted!.eventId));
    expect(plan.actionsAfter).toEqual([expect.objectContaining({ update: 'acknowledge', actor: 'bob' })]);

    // 4. Repaired: the case runs again under the current code, with both reports. Bob's
    //    acknowledgement was reapplied at the start of the new run, where the case refuses it (not
    //    yet triaged): the repair listed it, and he takes it again.
    const newRun = await repairCase(client, plan, 'test: repair after an unversioned change');
    expect(newRun).not.toBe(plan.runId);
    const view = await eventually(async () => {
      const v = (await handle.query(caseViewQuery)) as CaseView;
      return v.stage === 'responding' && v.reportCount === 2 ? v : undefined;
    }, 'the repaired case responding with both reports', 60_000);
    expect(view.reporters.sort()).toEqual(['carol', 'soc-oncall']);
    expect(view.acknowledgedBy).toBeUndefined();
    expect((await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] })).recorded[0]).toMatchObject({ actor: 'bob', action: 'acknowledged' });
    const replayed = await client.workflow.getHandle(workflowIdFor(caseId), newRun).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: bundle }, replayed, workflowIdFor(caseId));
    expect((await planRepair(client, caseId, bundle)).replays).toBe(true);
  } finally {
    await w.stop();
    await connection.close();
    await native.close();
  }
});
