/**
 * Filing a report: the one place where a normalized report becomes a case or evidence on one.
 * The case id is derived from the report's fingerprint, and the workflow id from the case id, so
 * `signalWithStart` makes dedupe atomic: Temporal lets only one open workflow have an id.
 *
 * Group commit: while a signal to a case is in flight, further reports for the same case wait
 * and then travel together in one signal. The server's operation rate, not the alert rate, bounds
 * the cost of a storm; each caller still waits until its own report is durably signalled.
 */
import { createHash } from 'node:crypto';
import { type Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { fingerprintText, type Policy, type Report, type ReportInput } from '../domain';
import { normalizedReport } from './sources';
import { type CaseInput, reportsSignal, TASK_QUEUE, WardenStatus, WORKFLOW_TYPE, workflowIdFor } from '../workflows/definitions';

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

/** A report from Warden's report JSON, for scripts and tests (the intake routes use normalizedReport directly). */
export function toReport(input: ReportInput): Report {
  return normalizedReport(input);
}

export type FileReport = (report: Report) => Promise<FilingResult>;

interface Waiting {
  report: Report;
  resolve: (result: FilingResult) => void;
  reject: (err: unknown) => void;
}

/** Reports per signal, and their rough size: well under Temporal's payload limits. */
const MAX_BATCH_REPORTS = 200;
const MAX_BATCH_BYTES = 256 * 1024;

export class ReportFiler {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly inFlight = new Set<string>();
  /** The run of each case last signalled, and the report that opened it: one describe per run, not per batch. */
  private readonly runs = new Map<string, { runId: string; openedBy?: string }>();
  /** Signals sent and reports carried, for the intake's own figures. */
  readonly stats = { signals: 0, reports: 0 };

  constructor(
    private readonly client: Client,
    private readonly policy: Policy,
    private readonly taskQueue = TASK_QUEUE,
  ) {}

  /** Resolves once the report is durably recorded on its case (or rejects: nothing was accepted). */
  file: FileReport = (report) =>
    new Promise<FilingResult>((resolve, reject) => {
      const fingerprint = fingerprintOf(report, this.policy);
      const queue = this.queues.get(fingerprint) ?? [];
      queue.push({ report, resolve, reject });
      this.queues.set(fingerprint, queue);
      if (!this.inFlight.has(fingerprint)) void this.flush(fingerprint);
    });

  private async flush(fingerprint: string): Promise<void> {
    const queue = this.queues.get(fingerprint);
    if (!queue?.length) {
      this.queues.delete(fingerprint);
      return;
    }
    const batch: Waiting[] = [];
    let bytes = 0;
    while (queue.length && batch.length < MAX_BATCH_REPORTS) {
      const size = JSON.stringify(queue[0].report).length;
      if (batch.length && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      batch.push(queue.shift()!);
    }
    this.inFlight.add(fingerprint);
    try {
      const results = await this.signal(fingerprint, batch.map((w) => w.report));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      batch.forEach((w) => w.reject(err));
    } finally {
      this.inFlight.delete(fingerprint);
      void this.flush(fingerprint);
    }
  }

  private async signal(fingerprint: string, reports: Report[]): Promise<FilingResult[]> {
    const caseId = caseIdFor(fingerprint);
    const workflowId = workflowIdFor(caseId);
    const input: CaseInput = { caseId, fingerprint, policy: this.policy };
    const handle = await this.client.workflow.signalWithStart(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [input],
      signal: reportsSignal,
      signalArgs: [reports],
      // A closed case is history: the same fingerprint later opens a new run of the case id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo: { openedBy: reports[0].reportId, policyVersion: this.policy.version },
      typedSearchAttributes: [{ key: WardenStatus, value: 'received' }],
    });
    this.stats.signals += 1;
    this.stats.reports += reports.length;
    // Only the run this batch started carries its first report's id in the memo: that is how we
    // know which report opened the case. A run already known was opened by an earlier report.
    let run = this.runs.get(fingerprint);
    if (run?.runId !== handle.signaledRunId) {
      run = { runId: handle.signaledRunId, openedBy: (await handle.describe()).memo?.openedBy as string | undefined };
      this.runs.set(fingerprint, run);
      if (this.runs.size > 100_000) this.runs.delete(this.runs.keys().next().value!);
    }
    const openedBy = run.openedBy;
    return reports.map((r) => ({ caseId, workflowId, reportId: r.reportId, deduplicated: openedBy !== r.reportId }));
  }
}

/** File one report without batching (scripts, tests). */
export function fileReport(client: Client, policy: Policy, report: Report, taskQueue = TASK_QUEUE): Promise<FilingResult> {
  return new ReportFiler(client, policy, taskQueue).file(report);
}
