/**
 * What every worker, bundle and replay of the case workflows is built from: the workflows, and the
 * workflow interceptors that go with them (src/workflows/task-guard.ts). A worker, a replay or a
 * prebuilt bundle without the interceptors would run the cases without their guard.
 */
import { bundleWorkflowCode, type Logger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const CASE_WORKFLOWS_PATH = require.resolve('./workflows');
export const CASE_WORKFLOW_INTERCEPTORS = [require.resolve('./workflows/task-guard')];

/** Worker (or replay) options for the case workflows: a prebuilt bundle when given one, else the sources with their interceptors. */
export function caseWorkflowsSource(prebuiltBundle?: string) {
  return prebuiltBundle
    ? { workflowBundle: { codePath: prebuiltBundle } }
    : { workflowsPath: CASE_WORKFLOWS_PATH, interceptors: { workflowModules: CASE_WORKFLOW_INTERCEPTORS } };
}

/** The case workflows bundled with their interceptors (a production build, a bench's workers, a repair's replays). */
export function bundleCaseWorkflowCode(logger?: Logger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: CASE_WORKFLOWS_PATH, workflowInterceptorModules: CASE_WORKFLOW_INTERCEPTORS, ...(logger ? { logger } : {}) });
}
