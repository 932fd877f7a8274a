/**
 * What every worker, bundle and replay of the case workflows is built from: the workflows, the
 * workflow interceptors that go with them (src/workflows/task-guard.ts), and the sinks they call
 * (the case metrics). A worker, a replay or a prebuilt bundle without the interceptors would run
 * the cases without their guard; one without the sinks would drop their metrics with an error.
 */
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { bundleWorkflowCode, type Logger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { caseMetricsSinks } from './observability/metrics';

export const CASE_WORKFLOWS_PATH = require.resolve('./workflows');
export const CASE_WORKFLOW_INTERCEPTORS = [require.resolve('./workflows/task-guard')];
const PROJECT_ROOT = resolve(__dirname, __dirname.split(sep).includes('dist') ? '../..' : '..');

/** Worker (or replay) options for the case workflows: a prebuilt bundle when given one, else the sources with their interceptors; and their sinks. */
export function caseWorkflowOptions(prebuiltBundle?: string) {
  const workflows = prebuiltBundle
    ? { workflowBundle: { codePath: prebuiltBundle } }
    : { workflowsPath: CASE_WORKFLOWS_PATH, interceptors: { workflowModules: CASE_WORKFLOW_INTERCEPTORS } };
  return { ...workflows, sinks: caseMetricsSinks };
}

/**
 * The case workflows' bundle code as a worker runs it: the prebuilt bundle's file when given one,
 * else bundled now (once). A versioned worker's build id is a hash of it (src/versioning.ts).
 */
export async function caseWorkflowCode(prebuiltBundle?: string, logger?: Logger): Promise<string> {
  return prebuiltBundle ? readFileSync(prebuiltBundle, 'utf8') : (await bundleCaseWorkflowCode(logger)).code;
}

/** Worker options for case workflow code already bundled (its interceptors are in the bundle), with their sinks. */
export function caseWorkflowOptionsForCode(code: string) {
  return { workflowBundle: { code }, sinks: caseMetricsSinks };
}

/** The case workflows bundled with their interceptors (a production build, a bench's workers, a repair's replays). */
export function bundleCaseWorkflowCode(logger?: Logger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: CASE_WORKFLOWS_PATH,
    workflowInterceptorModules: CASE_WORKFLOW_INTERCEPTORS,
    // Module ids relative to the project root, not the process's working directory: the same code
    // then bundles to the same bytes (and build id) wherever the process was started from.
    webpackConfigHook: (config) => ({ ...config, context: PROJECT_ROOT }),
    ...(logger ? { logger } : {}),
  });
}
