/**
 * Cases through Temporal: list them by their search attributes, read one case's view, and take
 * a human action on one through its update. Shared by the CLI and the HTTP API; the workflow's
 * update validators decide what the policy allows, this module only reports their answer.
 */
import { type Client, type WorkflowHandle, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType, type UpdateDefinition } from '@temporalio/common';
import type { CaseReceipt, CaseView, Resolution, Review, Severity } from '../domain';
import type { CaseListRow } from '../render';
import {
  acknowledgeUpdate,
  confirmTriageUpdate,
  assignUpdate,
  caseIdFrom,
  caseViewQuery,
  closeUpdate,
  deescalateUpdate,
  escalateUpdate,
  acknowledgePartyUpdate,
  addPartyUpdate,
  determineUpdate,
  overrideUpdate,
  recordEvidenceUpdate,
  recordFilingUpdate,
  recordScopeUpdate,
  releasePartyUpdate,
  signOffUpdate,
  transferCustodyUpdate,
  WardenCategory,
  WardenQueue,
  WardenSeverity,
  WardenStatus,
  WORKFLOW_TYPE,
  workflowIdFor,
} from '../workflows/definitions';
import { LEAKED_ACTIVATION } from '../workflows/task-guard';

export type { CaseListRow };

export interface CaseFilter {
  /** Closed cases too (default: open ones only). */
  all?: boolean;
  stage?: string;
  severity?: string;
  category?: string;
  queue?: string;
  /** At most this many rows. */
  limit?: number;
  /** Only cases the server reports a problem with (e.g. a workflow task failing on nondeterminism). */
  problems?: boolean;
}

/** The server's own search attribute naming what keeps a workflow from progressing. */
export const REPORTED_PROBLEMS = defineSearchAttributeKey('TemporalReportedProblems', SearchAttributeType.KEYWORD_LIST);

/** No case has this id (no workflow, open or closed). */
export class CaseNotFoundError extends Error {
  constructor(readonly caseRef: string) {
    super(`no case ${caseIdFrom(caseRef)}`);
  }
}

/** The case exists but cannot answer: closed (for an action), or terminated/failed. */
export class CaseUnavailableError extends Error {}

/** The workflow's validator refused the action; the message is its reason. Nothing changed. */
export class ActionRefusedError extends Error {}

/** The visibility query for a filter: Warden's workflow type, and one clause per search attribute. */
export function caseListQuery(filter: CaseFilter): string {
  const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
  if (!filter.all) clauses.push(`ExecutionStatus = 'Running'`);
  const quote = (v: string) => `'${v.replace(/['"\\]/g, '')}'`;
  if (filter.stage) clauses.push(`${WardenStatus.name} = ${quote(filter.stage)}`);
  if (filter.severity) clauses.push(`${WardenSeverity.name} = ${quote(filter.severity)}`);
  if (filter.category) clauses.push(`${WardenCategory.name} = ${quote(filter.category)}`);
  if (filter.queue) clauses.push(`${WardenQueue.name} = ${quote(filter.queue)}`);
  if (filter.problems) clauses.push(`${REPORTED_PROBLEMS.name} IS NOT NULL`);
  return clauses.join(' AND ');
}

export async function listCases(client: Client, filter: CaseFilter = {}): Promise<CaseListRow[]> {
  const rows: CaseListRow[] = [];
  for await (const wf of client.workflow.list({ query: caseListQuery(filter) })) {
    if (filter.limit !== undefined && rows.length >= filter.limit) break;
    const sa = wf.typedSearchAttributes;
    rows.push({
      caseId: caseIdFrom(wf.workflowId),
      status: wf.status.name,
      stage: sa.get(WardenStatus) ?? '',
      severity: sa.get(WardenSeverity) ?? '',
      category: sa.get(WardenCategory) ?? '',
      queue: sa.get(WardenQueue) ?? '',
      openedAt: wf.startTime.toISOString(),
      ...(typeof wf.memo?.title === 'string' ? { title: wf.memo.title } : {}),
      ...(sa.get(REPORTED_PROBLEMS)?.length ? { problems: sa.get(REPORTED_PROBLEMS) } : {}),
    });
  }
  return rows;
}

/** The case view: queried from a running case, or the result of a closed one. */
export async function fetchCase(client: Client, caseRef: string): Promise<CaseView> {
  const handle = client.workflow.getHandle(workflowIdFor(caseRef));
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CaseNotFoundError(caseRef);
    throw err;
  }
  if (status === 'RUNNING') return queryView(handle);
  if (status === 'COMPLETED') return handle.result();
  throw new CaseUnavailableError(`case ${caseIdFrom(caseRef)} is ${status.toLowerCase()}`);
}

/**
 * A running case's view. A worker refuses a query that raced an activity result
 * (src/workflows/task-guard.ts) until the case's next workflow task has run: at most the sticky
 * queue's schedule-to-start timeout (10 s) when the worker that held the case died. Asked again
 * after a pause, the query finds the case in step with its history.
 */
const QUERY_RETRY_DELAYS_MS = [200, 500, 1_000, 2_000, 4_000, 5_000];
async function queryView(handle: WorkflowHandle): Promise<CaseView> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await handle.query(caseViewQuery);
    } catch (err) {
      const delay = QUERY_RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !(err instanceof Error) || !err.message.includes(LEAKED_ACTIVATION)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The human actions on a case, by the name the API uses, and what each takes besides the actor. */
export interface ActionInputs {
  acknowledge: {};
  /** Confirm the triage Warden proposed. */
  confirm: { note?: string };
  assign: { assignee: string };
  escalate: { reason: string };
  deescalate: { reason: string };
  override: { reason: string; category?: string; severity?: Severity };
  signoff: { criterion: string; note?: string };
  close: { reason: string; resolution?: Resolution; review?: Review };
  /** The declared incident's actions. */
  file: { clock: string; reference: string };
  determine: { determination: string; decision: boolean; reason: string; at?: string };
  scope: { reason: string; affected?: number; jurisdictions?: string[] };
  addParty: { party: string; reason?: string };
  acknowledgeParty: { party: string; reason?: string };
  releaseParty: { party: string; reason?: string };
  recordEvidence: { description: string; collectedFrom: string; sha256: string; storageRef: string; collectedAt?: string; step?: number };
  transferCustody: { item: string; to: string; reason: string };
}
export type ActionName = keyof ActionInputs;

const UPDATES: { [A in ActionName]: UpdateDefinition<CaseReceipt, [ActionInputs[A] & { actor: string }]> } = {
  acknowledge: acknowledgeUpdate,
  confirm: confirmTriageUpdate,
  assign: assignUpdate,
  escalate: escalateUpdate,
  deescalate: deescalateUpdate,
  override: overrideUpdate,
  signoff: signOffUpdate,
  close: closeUpdate,
  file: recordFilingUpdate,
  determine: determineUpdate,
  scope: recordScopeUpdate,
  addParty: addPartyUpdate,
  acknowledgeParty: acknowledgePartyUpdate,
  releaseParty: releasePartyUpdate,
  recordEvidence: recordEvidenceUpdate,
  transferCustody: transferCustodyUpdate,
};
export const ACTION_NAMES = Object.keys(UPDATES) as ActionName[];

/**
 * Take `action` on a case as `actor`. Resolves to the case view after the action; rejects with
 * ActionRefusedError (the validator's reason), CaseNotFoundError or CaseUnavailableError.
 */
export async function performAction<A extends ActionName>(
  client: Client,
  caseRef: string,
  action: A,
  actor: string,
  input: ActionInputs[A],
): Promise<CaseView> {
  const handle = client.workflow.getHandle(workflowIdFor(caseRef));
  const update = UPDATES[action] as UpdateDefinition<CaseReceipt, [ActionInputs[A] & { actor: string }]>;
  try {
    // The update answers a small receipt; the view after it is the case's query.
    await handle.executeUpdate(update, { args: [{ ...input, actor }] });
    return await handle.query(caseViewQuery);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new ActionRefusedError(err.cause?.message ?? err.message);
    if (err instanceof WorkflowNotFoundError) {
      // No workflow at all, or one that is no longer running (a closed case takes no action).
      const status = await handle.describe().then(
        (d) => d.status.name,
        () => undefined,
      );
      if (!status) throw new CaseNotFoundError(caseRef);
      throw new CaseUnavailableError(`case ${caseIdFrom(caseRef)} is ${status === 'COMPLETED' ? 'closed' : status.toLowerCase()}`);
    }
    throw err;
  }
}
