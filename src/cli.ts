/**
 * warden: the responder's command line.
 *
 *   warden cases list [--all] [--stage S] [--severity SEV2] [--category C] [--queue Q] [--json]
 *   warden cases show <case> [--json]
 *   warden ack <case> --as <user>
 *   warden assign <case> <assignee> --as <user>
 *   warden escalate <case> --reason "..." --as <user>
 *   warden deescalate <case> --reason "..." --as <user>
 *   warden signoff <case> <criterion> --as <user> [--note "..."]
 *   warden close <case> --reason "..." [--resolution resolved|false-alarm|duplicate|accepted-risk] --as <user>
 *   warden override <case> [--category C] [--severity SEV2] --reason "..." --as <user>
 *   warden audit [--json]
 *   warden triage <file|-> [--json]
 *   warden policy check [file]
 *   warden release status|promote …   (src/cli-release.ts, docs/versioning.md)
 *   warden evidence <sha256> | --case <case>   (src/cli-evidence.ts, the evidence store)
 *
 * <case> is a case id (WRD-…) or its workflow id (case-WRD-…).
 *
 * With --api <url> --token <token> (or WARDEN_API_URL and WARDEN_API_TOKEN), cases list/show and
 * the actions go through Warden's HTTP API as the token's identity (no --as); without them, the
 * CLI talks to Temporal directly.
 */
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { loadConfig, loadPolicyFile } from './config';
import { IncidentUsageError, runIncidentCommand } from './cli-incident';
import { connectClient } from './temporal';
import type { CaseView, Resolution } from './domain';
import { readFileSync } from 'node:fs';
import { auditClassifications, auditRow, type AuditReport, type AuditRow, describeIssues, ReportInput, type Severity, triage, trustFor } from './domain';
import { renderAudit, renderCase, renderCaseList, renderTriage } from './render';
import { ActionRefusedError, type ActionInputs, type ActionName, type CaseFilter, type CaseListRow, fetchCase, listCases, performAction } from './api/cases';
import { ApiClient } from './api/client';
import { WORKFLOW_TYPE } from './workflows/definitions';
import { bundleCaseWorkflows, planRepair, quietRuntime, repairCase } from './repair';
import { ClassifierUsageError, runClassifierCommand } from './cli-classifier';
import { ReleaseUsageError, runReleaseCommand } from './cli-release';
import { EvidenceUsageError, runStoredEvidenceCommand } from './cli-evidence';
import { linesOf, renderWhatIf, triageBatch, whatIf } from './cli-triage';
import { classifierFromEnv, type Classifier } from './activities/classifier';

/** The classifier a worker uses: the ensemble, which reads each policy's `classification` section as it classifies. */
const workerClassifier = (): Classifier => classifierFromEnv();

export { fetchCase, listCases };

const USAGE = `usage:
  warden cases list [--all] [--stage S] [--severity SEV1..4] [--category C] [--queue Q] [--problems] [--json]
  warden cases show <case> [--json]
  warden ack <case> --as <user>
  warden assign <case> <assignee> --as <user>
  warden escalate <case> --reason <text> --as <user>
  warden deescalate <case> --reason <text> --as <user>
  warden signoff <case> <criterion> --as <user> [--note <text>]
  warden close <case> --reason <text> [--resolution resolved|false-alarm|duplicate|accepted-risk] [--review review.json] --as <user>
  warden override <case> [--category <id>] [--severity SEV1..4] --reason <text> --as <user>
  warden audit [--json]                 how often the automated category/severity held, over closed cases
  warden triage <file|-> [--json]       triage a report (generic JSON) without opening a case
  warden triage --batch <file|->        one report JSON a line in, one triage answer (JSON) a line out
  warden confirm <case> [--note <text>] --as <user>                   confirm the triage Warden proposed
  warden policy what-if <candidate.yaml> [--since 30d] [--task-queue Q] [--json]
                                        past cases re-triaged under a candidate policy
  warden regulatory <case> [--json]                                   regimes, determinations, clocks and time left
  warden determine <case> <determination> --yes|--no --reason <text> [--at <ISO time>] --as <user>
  warden scope <case> [--affected N] [--jurisdiction US-TX ...] --reason <text> --as <user>
  warden file <case> <regime/clock> --reference <ref> --as <user>     record a regulatory filing
  warden party ack|release|add <case> <party> [--reason <text>] --as <user>
  warden evidence add <case> --file <path> --from <source> --description <text> [--step N] --as <user>
  warden evidence transfer <case> <item> --to <person> --reason <text> --as <user>
  warden evidence export|verify <case> [--json]
  warden evidence <sha256> [--json]     a report's stored payload from the evidence store, its SHA-256 verified
  warden evidence --case <case> [--json]   the case's reports and their evidence refs (SHA-256, bytes)
  warden forensics <category> [--target <asset>]                      the collection plan
  warden review <case> [--json]                                       the post-incident review (Markdown)
  warden policy check [file]
  warden classifier train [--dataset <jsonl>|none] [--cases] [--out <file>]   train the text model the policy names
  warden repair <case> [--dry-run] [--reason <text>]   run a case again from the first workflow task this code cannot replay
  warden release status [--build-id X] [--json]       the worker deployment's versions: current, ramping, draining, drained
  warden release promote [--build-id X] [--ramp N%]   make a build current (or ramping at N%); rollback = promote the old build
  --api <url> --token <token>           read and act through Warden's HTTP API as the token's identity
                                        (instead of --as; also WARDEN_API_URL, WARDEN_API_TOKEN)
environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), WARDEN_POLICY, WARDEN_DEPLOYMENT_NAME (warden),
  WARDEN_EVIDENCE_STORE (file|s3), WARDEN_EVIDENCE_DIR, WARDEN_EVIDENCE_S3_BUCKET, WARDEN_EVIDENCE_S3_ENDPOINT, WARDEN_EVIDENCE_S3_REGION`;

class UsageError extends Error {}

async function connect(): Promise<Client> {
  return (await connectClient()).client;
}

/** The audit over every closed case that was classified. */
export async function auditClosedCases(client: Client): Promise<AuditReport> {
  const rows: AuditRow[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'` })) {
    const view = (await client.workflow.getHandle(wf.workflowId, wf.runId).result()) as CaseView;
    const row = auditRow(view);
    if (row) rows.push(row);
  }
  return auditClassifications(rows);
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** The action a verb names and what it takes, from the command line. */
function actionFrom(args: string[], values: Values): { caseRef: string; action: ActionName; input: ActionInputs[ActionName] } {
  const [verb, caseRef, extra] = args;
  if (!caseRef) throw new UsageError(`${verb}: which case?`);
  const reason = (values.reason as string | undefined) ?? '';
  switch (verb) {
    case 'ack':
      return { caseRef, action: 'acknowledge', input: {} };
    case 'confirm':
      return { caseRef, action: 'confirm', input: { note: values.note as string | undefined } };
    case 'assign':
      if (!extra) throw new UsageError('assign: who is the assignee?');
      return { caseRef, action: 'assign', input: { assignee: extra } };
    case 'escalate':
    case 'deescalate':
      return { caseRef, action: verb, input: { reason } };
    case 'signoff':
      if (!extra) throw new UsageError('signoff: which criterion?');
      return { caseRef, action: 'signoff', input: { criterion: extra, note: values.note as string | undefined } };
    case 'override':
      return {
        caseRef,
        action: 'override',
        input: { reason, category: values.category as string | undefined, severity: values.severity as Severity | undefined },
      };
    case 'close':
      return {
        caseRef,
        action: 'close',
        input: {
          reason,
          resolution: values.resolution as Resolution | undefined,
          // The post-incident review, as JSON: {summary, rootCause, impact, lessons, followUps: [{action, owner, due}]}
          ...(values.review ? { review: JSON.parse(readFileSync(values.review as string, 'utf8')) } : {}),
        },
      };
    default:
      throw new UsageError(`unknown command ${verb}`);
  }
}

/** Where cases are read and acted on: Warden's HTTP API when given one, else Temporal directly. */
interface Cases {
  list(filter: CaseFilter): Promise<CaseListRow[]>;
  show(caseRef: string): Promise<CaseView>;
  perform<A extends ActionName>(caseRef: string, action: A, input: ActionInputs[A]): Promise<CaseView>;
}

function casesFrom(values: Values): Cases {
  const apiUrl = (values.api as string | undefined) ?? process.env.WARDEN_API_URL;
  if (apiUrl) {
    const token = (values.token as string | undefined) ?? process.env.WARDEN_API_TOKEN;
    if (!token) throw new UsageError('--api needs --token <token> (or WARDEN_API_TOKEN)');
    const api = new ApiClient(apiUrl, token);
    return {
      list: (filter) => api.listCases(filter),
      show: (caseRef) => api.fetchCase(caseRef),
      perform: (caseRef, action, input) => {
        if (values.as) throw new UsageError('with --api, the token says who is acting: drop --as');
        return api.act(caseRef, action, input);
      },
    };
  }
  return {
    list: async (filter) => listCases(await connect(), filter),
    show: async (caseRef) => fetchCase(await connect(), caseRef),
    perform: async (caseRef, action, input) => {
      const actor = values.as as string | undefined;
      if (!actor) throw new UsageError('say who is acting with --as <user>');
      return performAction(await connect(), caseRef, action, actor, input);
    },
  };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'classifier') return runClassifierCommand(argv.slice(1)).catch((err) => Promise.reject(err instanceof ClassifierUsageError ? new UsageError(err.message) : err));
  if (argv[0] === 'release') return runReleaseCommand(argv.slice(1)).catch((err) => Promise.reject(err instanceof ReleaseUsageError ? new UsageError(err.message) : err));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      as: { type: 'string' },
      reason: { type: 'string' },
      note: { type: 'string' },
      resolution: { type: 'string' },
      stage: { type: 'string' },
      severity: { type: 'string' },
      queue: { type: 'string' },
      category: { type: 'string' },
      all: { type: 'boolean' },
      reference: { type: 'string' },
      review: { type: 'string' },
      target: { type: 'string' },
      file: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      description: { type: 'string' },
      step: { type: 'string' },
      yes: { type: 'boolean' },
      no: { type: 'boolean' },
      at: { type: 'string' },
      affected: { type: 'string' },
      jurisdiction: { type: 'string', multiple: true },
      api: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      problems: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      batch: { type: 'string' },
      'task-queue': { type: 'string' },
      since: { type: 'string' },
      case: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const out = (data: unknown, text: () => string) => console.log(values.json ? JSON.stringify(data, null, 2) : text());
  const [command, sub] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'cases' && sub === 'list') {
    const { all, stage, severity, category, queue, problems } = values;
    const rows = await casesFrom(values).list({ all, stage, severity, category, queue, problems });
    out(rows, () => renderCaseList(rows));
    return 0;
  }
  if (command === 'cases' && sub === 'show') {
    if (!positionals[2]) throw new UsageError('cases show: which case?');
    const view = await casesFrom(values).show(positionals[2]);
    out(view, () => renderCase(view));
    return 0;
  }
  if (command === 'policy' && sub === 'check') {
    const path = positionals[2] ?? loadConfig().policyPath;
    const policy = loadPolicyFile(path);
    out({ ok: true, path, version: policy.version }, () => `${path}: valid (version ${policy.version})`);
    return 0;
  }
  if (command === 'audit') {
    const report = await auditClosedCases(await connect());
    const policy = loadPolicyFile(loadConfig().policyPath);
    const trust = Object.fromEntries(Object.entries(report.judgedByCategory).map(([category, m]) => [category, trustFor(category, m, policy)]));
    out({ ...report, trust }, () => renderAudit(report, trust));
    return 0;
  }
  if (command === 'triage' && values.batch !== undefined) {
    const policy = loadPolicyFile(loadConfig().policyPath);
    const { answered, errors } = await triageBatch(linesOf(values.batch as string), policy, (line) => process.stdout.write(`${line}\n`), workerClassifier());
    console.error(`warden triage --batch: ${answered} answered, ${errors} refused`);
    return 0;
  }
  if (command === 'policy' && sub === 'what-if') {
    const path = positionals[2];
    if (!path) throw new UsageError('policy what-if: which candidate policy file?');
    const current = loadPolicyFile(loadConfig().policyPath);
    const candidate = loadPolicyFile(path);
    const report = await whatIf(await connect(), current, candidate, {
      since: values.since as string | undefined,
      taskQueue: values['task-queue'] as string | undefined,
      classifier: workerClassifier(),
      onProgress: (n) => n % 50 === 0 && process.stderr.write(`what-if: ${n} case(s) re-triaged\n`),
    });
    out(report, () => renderWhatIf(report, path));
    return 0;
  }
  if (command === 'triage') {
    const source = sub;
    if (!source) throw new UsageError('triage: give a report file, or - for standard input');
    const text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
    const parsed = ReportInput.safeParse(JSON.parse(text));
    if (!parsed.success) throw new UsageError(`triage: invalid report:\n  ${describeIssues(parsed.error).join('\n  ')}`);
    const answer = triage(parsed.data, loadPolicyFile(loadConfig().policyPath));
    out(answer, () => renderTriage(answer));
    return 0;
  }
  if (command === 'repair') {
    const caseRef = positionals[1];
    if (!caseRef) throw new UsageError('repair: which case? (warden cases list --problems)');
    quietRuntime();
    const client = await connect();
    const plan = await planRepair(client, caseRef, await bundleCaseWorkflows());
    const actions = plan.actionsAfter.map((a) => `  ${a.update}${a.actor ? ` by ${a.actor}` : ''} (event ${a.eventId})`);
    if (plan.resetToEventId === undefined || values['dry-run']) {
      out(plan, () => [`${plan.caseId}: ${plan.detail}`, ...(actions.length ? ['human actions after that point (reapplied by the server, judged again):', ...actions] : [])].join('\n'));
      return plan.resetToEventId === undefined ? 1 : 0;
    }
    const runId = await repairCase(client, plan, (values.reason as string | undefined) ?? `warden repair: ${plan.detail}`);
    out({ ...plan, newRunId: runId }, () =>
      [
        `${plan.caseId}: reset to workflow task ${plan.resetToEventId}; the case runs again from there (run ${runId})`,
        ...(actions.length ? ['check these human actions on the timeline; take again any the case refused now:', ...actions] : []),
      ].join('\n'),
    );
    return 0;
  }
  const stored = await runStoredEvidenceCommand(positionals, values, () => casesFrom(values), out).catch((err) =>
    Promise.reject(err instanceof EvidenceUsageError ? new UsageError(err.message) : err),
  );
  if (stored !== undefined) return stored;
  const incident = await runIncidentCommand(positionals, values, casesFrom(values), () => loadPolicyFile(loadConfig().policyPath), out);
  if (incident !== undefined) return incident;
  if (['ack', 'assign', 'escalate', 'deescalate', 'signoff', 'close', 'override', 'confirm'].includes(command)) {
    const { caseRef, action, input } = actionFrom(positionals, values);
    const view = await casesFrom(values).perform(caseRef, action, input);
    out(view, () => renderCase(view));
    return 0;
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err) => {
      if (err instanceof UsageError || err instanceof IncidentUsageError) console.error(`${err.message}\n${USAGE}`);
      else if (err instanceof ActionRefusedError) console.error(`refused: ${err.message}`);
      else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(err instanceof UsageError || err instanceof IncidentUsageError ? 2 : 1);
    });
}
