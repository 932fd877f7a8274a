/**
 * The case workflow with one unversioned change (a timer before the runbook starts): what a
 * careless edit looks like. Replay must refuse it; see test/replay.test.ts.
 */
import { sleep } from '@temporalio/workflow';
import type { CaseInput } from '../../../src/workflows/definitions';
import { incidentCase as current } from '../../../src/workflows/incident-case';

export async function incidentCase(input: CaseInput) {
  await sleep('1s');
  return current(input);
}
