/**
 * warden: the responder's command line.
 *
 *   warden cases list [--all] [--stage S] [--severity SEV2] [--queue Q] [--json]
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
 *
 * <case> is a case id (WRD-…) or its workflow id (case-WRD-…).
 */
import { parseArgs } from 'node:util';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { loadConfig, loadPolicyFile } from './config';
import { connectClient } from './temporal';
import type { CaseView, Resolution } from './domain';
import { readFileSync } from 'node:fs';
import { auditClassifications, auditRow, type AuditReport, type AuditRow, describeIssues, ReportInput, type Severity, triage } from './domain';
import { renderAudit, renderCase, renderCaseList, renderTriage, type CaseListRow } from './render';
import {
  acknowledgeUpdate,
  assignUpdate,
  caseIdFrom,
  caseViewQuery,
  closeUpdate,
  deescalateUpdate,
  escalateUpdate,
  overrideUpdate,
  signOffUpdate,
  WardenCategory,
  WardenQueue,
  WardenSeverity,
  WardenStatus,
  WORKFLOW_TYPE,
  workflowIdFor,
} from './workflows/definitions';

const USAGE = `usage:
  warden cases list [--all] [--stage S] [--severity SEV1..4] [--queue Q] [--json]
  warden cases show <case> [--json]
  warden ack <case> --as <user>
  warden assign <case> <assignee> --as <user>
  warden escalate <case> --reason <text> --as <user>
  warden deescalate <case> --reason <text> --as <user>
  warden signoff <case> <criterion> --as <user> [--note <text>]
  warden close <case> --reason <text> [--resolution resolved|false-alarm|duplicate|accepted-risk] --as <user>
  warden override <case> [--category <id>] [--severity SEV1..4] --reason <text> --as <user>
  warden audit [--json]                 how often the automated category/severity held, over closed cases
  warden triage <file|-> [--json]       triage a report (generic JSON) without opening a case
  warden policy check [file]
environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), WARDEN_POLICY`;

class UsageError extends Error {}

async function connect(): Promise<Client> {
  return (await connectClient()).client;
}

/** The case view: queried from a running case, or the result of a closed one. */
export async function fetchCase(client: Client, caseRef: string): Promise<CaseView> {
  const handle = client.workflow.getHandle(workflowIdFor(caseRef));
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') return handle.query(caseViewQuery);
  if (description.status.name === 'COMPLETED') return handle.result();
  throw new Error(`case ${caseRef} is ${description.status.name.toLowerCase()}`);
}

export async function listCases(
  client: Client,
  filter: { all?: boolean; stage?: string; severity?: string; queue?: string },
): Promise<CaseListRow[]> {
  const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
  if (!filter.all) clauses.push(`ExecutionStatus = 'Running'`);
  const quote = (v: string) => `'${v.replace(/'/g, '')}'`;
  if (filter.stage) clauses.push(`WardenStatus = ${quote(filter.stage)}`);
  if (filter.severity) clauses.push(`WardenSeverity = ${quote(filter.severity)}`);
  if (filter.queue) clauses.push(`WardenQueue = ${quote(filter.queue)}`);
  const rows: CaseListRow[] = [];
  for await (const wf of client.workflow.list({ query: clauses.join(' AND ') })) {
    const sa = wf.typedSearchAttributes;
    rows.push({
      caseId: caseIdFrom(wf.workflowId),
      status: wf.status.name,
      stage: sa.get(WardenStatus) ?? '',
      severity: sa.get(WardenSeverity) ?? '',
      category: sa.get(WardenCategory) ?? '',
      queue: sa.get(WardenQueue) ?? '',
      openedAt: wf.startTime.toISOString(),
    });
  }
  return rows;
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

async function act(args: string[], values: Record<string, string | boolean | undefined>): Promise<CaseView> {
  const [verb, caseRef, extra] = args;
  if (!caseRef) throw new UsageError(`${verb}: which case?`);
  const actor = values.as as string | undefined;
  if (!actor) throw new UsageError(`${verb}: say who is acting with --as <user>`);
  const reason = values.reason as string | undefined;
  const client = await connect();
  const handle = client.workflow.getHandle(workflowIdFor(caseRef));
  switch (verb) {
    case 'ack':
      return handle.executeUpdate(acknowledgeUpdate, { args: [{ actor }] });
    case 'assign':
      if (!extra) throw new UsageError('assign: who is the assignee?');
      return handle.executeUpdate(assignUpdate, { args: [{ actor, assignee: extra }] });
    case 'escalate':
      return handle.executeUpdate(escalateUpdate, { args: [{ actor, reason: reason ?? '' }] });
    case 'deescalate':
      return handle.executeUpdate(deescalateUpdate, { args: [{ actor, reason: reason ?? '' }] });
    case 'signoff':
      if (!extra) throw new UsageError('signoff: which criterion?');
      return handle.executeUpdate(signOffUpdate, { args: [{ actor, criterion: extra, note: values.note as string | undefined }] });
    case 'override':
      return handle.executeUpdate(overrideUpdate, {
        args: [{ actor, reason: reason ?? '', category: values.category as string | undefined, severity: values.severity as Severity | undefined }],
      });
    case 'close':
      return handle.executeUpdate(closeUpdate, {
        args: [{ actor, reason: reason ?? '', resolution: values.resolution as Resolution | undefined }],
      });
    default:
      throw new UsageError(`unknown command ${verb}`);
  }
}

async function main(argv: string[]): Promise<number> {
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
      json: { type: 'boolean' },
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
    const rows = await listCases(await connect(), values);
    out(rows, () => renderCaseList(rows));
    return 0;
  }
  if (command === 'cases' && sub === 'show') {
    if (!positionals[2]) throw new UsageError('cases show: which case?');
    const view = await fetchCase(await connect(), positionals[2]);
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
    out(report, () => renderAudit(report));
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
  if (['ack', 'assign', 'escalate', 'deescalate', 'signoff', 'close', 'override'].includes(command)) {
    const view = await act(positionals, values);
    out(view, () => renderCase(view));
    return 0;
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err) => {
      if (err instanceof UsageError) console.error(`${err.message}\n${USAGE}`);
      else if (err instanceof WorkflowUpdateFailedError) console.error(`refused: ${err.cause?.message ?? err.message}`);
      else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(err instanceof UsageError ? 2 : 1);
    });
}
