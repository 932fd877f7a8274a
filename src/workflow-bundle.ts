/**
 * What every worker, bundle and replay of the case workflows is built from: the workflows, the
 * workflow interceptors that go with them (src/workflows/task-guard.ts), and the sinks they call
 * (the case metrics). A worker, a replay or a prebuilt bundle without the interceptors would run
 * the cases without their guard; one without the sinks would drop their metrics with an error.
 */
import { bundleWorkflowCode, type Logger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { caseMetricsSinks } from './observability/metrics';

export const CASE_WORKFLOWS_PATH = require.resolve('./workflows');
export const CASE_WORKFLOW_INTERCEPTORS = [require.resolve('./workflows/task-guard')];

/** Worker (or replay) options for the case workflows: a prebuilt bundle when given one, else the sources with their interceptors; and their sinks. */
export function caseWorkflowOptions(prebuiltBundle?: string) {
  const workflows = prebuiltBundle
    ? { workflowBundle: { codePath: prebuiltBundle } }
    : { workflowsPath: CASE_WORKFLOWS_PATH, interceptors: { workflowModules: CASE_WORKFLOW_INTERCEPTORS } };
  return { ...workflows, sinks: caseMetricsSinks };
}

/** The case workflows bundled with their interceptors (a production build, a bench's workers, a repair's replays). */
export function bundleCaseWorkflowCode(logger?: Logger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: CASE_WORKFLOWS_PATH, workflowInterceptorModules: CASE_WORKFLOW_INTERCEPTORS, ...(logger ? { logger } : {}) });
}
