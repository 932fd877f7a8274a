/** The production build's pre-bundled workflows run a case, as a worker started with WARDEN_WORKFLOW_BUNDLE does. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, dryRunConnectors } from '../src/activities';
import type { CaseView } from '../src/domain';
import { fileReport, toReport } from '../src/intake/filing';
import { caseViewQuery, workflowIdFor } from '../src/workflows/definitions';
import { eventually, sampleReport, testPolicy } from './support/warden';
import { bundleCaseWorkflowCode } from '../src/workflow-bundle';
import { LEAKED_ACTIVATION } from '../src/workflows/task-guard';

test('a worker on the pre-built workflow bundle works a case', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bundle-'));
  const codePath = join(dir, 'workflow-bundle.js');
  const { code } = await bundleCaseWorkflowCode();
  expect(code).toContain(LEAKED_ACTIVATION); // the task guard is in the bundle
  writeFileSync(codePath, code);
  const address = process.env.WARDEN_TEST_TEMPORAL_ADDRESS!;
  const native = await NativeConnection.connect({ address });
  const taskQueue = `warden-bundle-${Date.now()}`;
  const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: { codePath }, activities: createActivities(dryRunConnectors(join(dir, 'outbox.jsonl'))) });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    await worker.runUntil(async () => {
      const filed = await fileReport(client, testPolicy(), toReport(sampleReport()), taskQueue);
      const view = await eventually(async () => {
        const v = (await client.workflow.getHandle(workflowIdFor(filed.caseId)).query(caseViewQuery)) as CaseView;
        return v.stage === 'responding' ? v : undefined;
      }, 'the case to be worked');
      expect(view.classification?.classifier).toBe('rules');
    });
  } finally {
    await connection.close();
    await native.close();
  }
});
