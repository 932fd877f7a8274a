/**
 * Replay of recorded case histories (test/histories, made by `npm run record-histories`) against
 * the current workflow code. A change that alters the commands a recorded case produced fails
 * here: such a change needs `patched()` (or a new workflow type) before it ships.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { caseWorkflowOptions } from '../src/workflow-bundle';

const DIR = join(__dirname, 'histories');
const histories = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(DIR, f), 'utf8')) }));

test('recorded histories are present', () => {
  expect(histories.map((h) => h.name).sort()).toEqual(['campaign', 'continued-as-new', 'false-alarm', 'incomplete-report', 'lifecycle', 'override', 'paged-escalation', 'paged-recovery', 'proposal-confirmed', 'regulatory-clock', 'regulatory-determination', 'sla-escalation', 'third-parties']);
});

test.each(histories.map((h) => [h.name, h.history]))('%s replays deterministically', async (name, history) => {
  await Worker.runReplayHistory(caseWorkflowOptions(), history, `replay-${name}`);
});

test('an unversioned change to the workflow fails replay', async () => {
  const lifecycle = histories.find((h) => h.name === 'lifecycle')!.history;
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('./support/changed-workflow') }, lifecycle, 'replay-changed'),
  ).rejects.toThrow(DeterminismViolationError);
});
