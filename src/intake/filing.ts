/**
 * Filing a report: the one place where a normalized report becomes a case or evidence on one.
 * The case id is derived from the report's fingerprint, and the workflow id from the case id, so
 * `signalWithStart` makes dedupe atomic: Temporal lets only one open workflow have an id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { fingerprintText, type Policy, type Report, ReportInput } from '../domain';
import { type CaseInput, reportSignal, TASK_QUEUE, WardenStatus, WORKFLOW_TYPE, workflowIdFor } from '../workflows/definitions';

export interface FilingResult {
  caseId: string;
  workflowId: string;
  reportId: string;
  /** True when the report joined a case that was already open. */
  deduplicated: boolean;
}

/** The case id for a fingerprint: short, stable, readable ("WRD-" and 12 hex digits). */
export function caseIdFor(fingerprint: string): string {
  return `WRD-${fingerprint.slice(0, 12).toUpperCase()}`;
}

export function fingerprintOf(report: Report, policy: Policy): string {
  return createHash('sha256').update(fingerprintText(report, policy)).digest('hex');
}

export function toReport(input: ReportInput): Report {
  return { ...ReportInput.parse(input), reportId: randomUUID(), receivedAt: new Date().toISOString() };
}

export async function fileReport(client: Client, policy: Policy, report: Report, taskQueue = TASK_QUEUE): Promise<FilingResult> {
  const fingerprint = fingerprintOf(report, policy);
  const caseId = caseIdFor(fingerprint);
  const workflowId = workflowIdFor(caseId);
  const input: CaseInput = { caseId, fingerprint, policy };
  const handle = await client.workflow.signalWithStart(WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [input],
    signal: reportSignal,
    signalArgs: [report],
    // A closed case is history: the same fingerprint later opens a new run of the case id.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    memo: { openedBy: report.reportId, policyVersion: policy.version },
    typedSearchAttributes: [{ key: WardenStatus, value: 'received' }],
  });
  // Only the run this report started carries its id in the memo: that is how we know it opened the case.
  const description = await handle.describe();
  const deduplicated = description.memo?.openedBy !== report.reportId;
  return { caseId, workflowId, reportId: report.reportId, deduplicated };
}
