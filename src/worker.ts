/**
 * The Warden worker: connection, policy check, activities, worker options, shutdown.
 * Run it with `node dist/src/worker.js` (or `npm start`, which starts everything).
 *
 * Observability: JSON logs through the Temporal Runtime logger (secrets redacted); the SDK's own
 * metrics on WARDEN_WORKER_METRICS (Prometheus, default 127.0.0.1:9464); Warden's metrics with
 * /healthz and /readyz on WARDEN_WORKER_HEALTH (default 127.0.0.1:8081).
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from './activities';
import { connectorsFromEnv } from './activities/connectors';
import { agreementFromVisibility } from './activities/trust';
import { loadConfig, loadPolicyFile, type WardenConfig } from './config';
import { evidenceStoreFromConfig } from './evidence/store';
import {
  collectProcessMetrics,
  createJsonLogger,
  errorFields,
  instrumentActivities,
  instrumentPorts,
  type JsonLogger,
  parseBindAddress,
  startCaseGauges,
  startHealthServer,
  workerRegistry,
} from './observability';
import { temporalLogger } from './observability/runtime-log';
import { connectWorker, temporalTarget, wardenDataConverter } from './temporal';
import { TASK_QUEUE } from './workflows/definitions';
import { partyLinksFromEnv } from './party-links';
import { caseWorkflowCode, caseWorkflowOptions, caseWorkflowOptionsForCode } from './workflow-bundle';
import { caseWorkerDeploymentOptions, promoteOnStart, renderPromotion } from './versioning';

/** The activities with Warden's metrics: vendor call outcomes per port, escalations, SLA breaches, operator alerts. */
export function observedActivities(deps: ActivityDeps) {
  return instrumentActivities(createActivities(instrumentPorts(deps)));
}

/**
 * The case worker. With Worker Versioning on (config.versioning, src/versioning.ts) the workflows
 * are bundled first (or the prebuilt bundle read; `workflowCode` when the caller has it already),
 * since the bundle's hash is the worker's build id.
 */
export async function createWorker(connection: NativeConnection, config: WardenConfig, taskQueue = TASK_QUEUE, logger?: JsonLogger, workflowCode?: string): Promise<Worker> {
  const connectors = connectorsFromEnv(config.outboxPath);
  const modes = Object.entries(connectors.modes).map(([k, v]) => `${k}=${v}`).join(' ');
  if (logger) logger.info(`warden worker: connectors ${modes}`, { connectors: connectors.modes });
  else console.log(`warden worker: connectors ${modes}`);
  const code = config.versioning.enabled ? (workflowCode ?? (await caseWorkflowCode(process.env.WARDEN_WORKFLOW_BUNDLE, Runtime.instance().logger))) : undefined;
  const deployment = code === undefined ? undefined : caseWorkerDeploymentOptions(config.versioning, code);
  return Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue,
    maxCachedWorkflows: config.maxCachedWorkflows,
    // A production build ships the workflows pre-bundled (npm run build:prod); otherwise bundle at start.
    ...(code === undefined ? caseWorkflowOptions(process.env.WARDEN_WORKFLOW_BUNDLE) : caseWorkflowOptionsForCode(code)),
    ...(deployment ? { workerDeploymentOptions: deployment } : {}),
    dataConverter: wardenDataConverter(),
    activities: observedActivities({
      ...connectors.deps,
      uiBaseUrl: config.uiBaseUrl,
      namespace: config.namespace,
      partyLinks: partyLinksFromEnv(),
      // storeEvidence: payloads the case keeps by SHA-256 (src/activities/evidence.ts).
      evidence: evidenceStoreFromConfig(config),
      agreement: agreementFromVisibility(new Client({ connection, namespace: config.namespace }), { taskQueue }),
    }),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const policy = loadPolicyFile(config.policyPath); // refuse to start on an invalid policy
  const logger = createJsonLogger({ level: process.env.WARDEN_LOG_LEVEL, fields: { component: 'worker' } });
  // Before any connection: the Runtime's logger (JSON, redacted; core logs forwarded) and the SDK's Prometheus endpoint.
  const sdkMetrics = process.env.WARDEN_WORKER_METRICS ?? '127.0.0.1:9464';
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      logging: { forward: {} },
      metrics: { prometheus: { bindAddress: sdkMetrics } },
    },
  });
  const target = temporalTarget();
  const connection = await connectWorker(target);
  const worker = await createWorker(connection, config, TASK_QUEUE, logger);

  // Warden's worker-side metrics, liveness and readiness; open cases by stage and severity every 30 s.
  collectProcessMetrics(workerRegistry);
  const bind = parseBindAddress(process.env.WARDEN_WORKER_HEALTH ?? '127.0.0.1:8081');
  const health = await startHealthServer({
    ...bind,
    registry: workerRegistry,
    ready: () => worker.getState() === 'RUNNING' || `worker ${worker.getState()}`,
  });
  const client = new Client({ connection, namespace: target.namespace, dataConverter: wardenDataConverter() });
  const gauges = startCaseGauges(client, { filter: `TaskQueue = '${TASK_QUEUE}'`, logger });
  logger.info(`warden worker: task queue ${TASK_QUEUE} on ${target.address}/${target.namespace}, policy ${policy.version}, outbox ${config.outboxPath}`, {
    taskQueue: TASK_QUEUE,
    temporal: target.address,
    namespace: target.namespace,
    policyVersion: policy.version,
    health: health.url,
    sdkMetrics: `http://${sdkMetrics}/metrics`,
  });
  // Worker Versioning: the version this worker reports; it receives tasks once that is the deployment's
  // current (or ramping) version, which WARDEN_PROMOTE_ON_START may make it once it polls (docs/versioning.md).
  const version = worker.options.workerDeploymentOptions?.version;
  if (version) {
    const { promoteOnStart: onStart } = config.versioning;
    logger.info(`warden worker: deployment ${version.deploymentName} build ${version.buildId}, cases AUTO_UPGRADE, promote on start: ${onStart}`, { ...version, promoteOnStart: onStart });
    promoteOnStart(client, config.versioning, version.buildId).then(
      (result) => result && logger.info(`warden worker: ${renderPromotion(result)}`, { ...result }),
      (err) => logger.error(`warden worker: could not make build ${version.buildId} current; it receives no tasks until it is (warden release promote)`, errorFields(err)),
    );
  } else logger.info('warden worker: unversioned (WARDEN_WORKER_VERSIONING=off)');
  // Worker.run() drains in-flight tasks and returns on SIGINT/SIGTERM (the SDK's default shutdown signals).
  try {
    await worker.run();
  } finally {
    gauges.stop();
    await health.close();
    await connection.close();
    logger.info('warden worker: stopped');
  }
}

if (require.main === module) {
  main().catch((err) => {
    createJsonLogger({ fields: { component: 'worker' } }).error('warden worker: could not start', errorFields(err));
    process.exit(1);
  });
}
