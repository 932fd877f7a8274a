/**
 * Filing a report: the one place where a normalized report becomes a case or evidence on one.
 * The case id is derived from the report's fingerprint, and the workflow id from the case id, so
 * `signalWithStart` makes dedupe atomic: Temporal lets only one open workflow have an id.
 *
 * Campaigns: a report with campaign anchors (src/domain/campaign.ts: its normalized URLs and
 * file hashes, else a mail's sender domain and subject) is filed to the case that already holds
 * any of them, whatever channel either came through: a forwarded mail, a Slack report quoting the
 * link, a tool alert naming the URL. Two lookups, in order:
 * - an **in-process index** (anchor → campaign), consulted and updated synchronously when the
 *   report arrives: the first report of a campaign claims its anchors at once, so concurrent
 *   reports sharing any anchor cannot race into separate cases; a report sharing anchors with
 *   two campaigns joins the one claimed first, and adds its other anchors to it;
 * - for a campaign the index does not know, one **visibility query** (`WardenCampaign IN (…)`,
 *   running cases on this task queue), which finds a case opened before a restart or by another
 *   intake; the earliest such case wins, else the report's own fingerprint opens one. Visibility is
 *   eventually consistent: two intakes that each see a campaign's first report within the same
 *   second may still open two cases; within one intake they cannot.
 * The index is bounded (oldest anchors forgotten first) and so are the anchors per report and
 * per case. A closed case is history: its anchors then lead to a new run of the same case id,
 * as the same fingerprint would.
 *
 * A report that a false-alarm rule would close by itself gets a fingerprint and anchors in a scope
 * of their own (the rule's id): no other report is ever folded into such a case, nor such a report
 * into a case a human works.
 *
 * Group commit: while a signal to a case is in flight, further reports for the same case wait
 * and then travel together in one signal. The server's operation rate, not the alert rate, bounds
 * the cost of a storm; each caller still waits until its own report is durably signalled.
 *
 * Evidence: before a batch is signalled, each report's full canonical JSON (the report as filed,
 * without `evidence`) goes to the evidence store (src/evidence/store.ts), and the report carries
 * the ref (`evidence`). The store may fail; the report must not be lost for it. Each report gets
 * EVIDENCE_ATTEMPTS tries, each bounded by a timeout; if all fail, the report is filed WITHOUT a
 * ref and a warning is logged (and counted in stats.evidenceFailures): the case still holds the
 * report itself (the first in full, each later one as its evidence entry), and the workflow may
 * store it later through the storeEvidence activity (same canonical JSON, same SHA-256). Refusing
 * the report instead would turn an evidence-store outage into lost or delayed reports.
 */
import { createHash } from 'node:crypto';
import { type Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { autoClosingRule, fingerprintText, MAX_CAMPAIGN_ANCHORS, type Policy, type Report, type ReportInput } from '../domain';
import { campaignAnchors } from '../domain/campaign';
import { normalizedReport } from './sources';
import { type CaseInput, reportsSignal, TASK_QUEUE, WardenCampaign, WardenStatus, WORKFLOW_TYPE, workflowIdFor } from '../workflows/definitions';
import { canonicalJsonBytes } from '../evidence/canonical';
import { defaultEvidenceStore, type EvidenceStore } from '../evidence/store';
import { createJsonLogger, errorFields, type JsonLogger } from '../observability/log';

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

/**
 * The report's dedupe key: the SHA-256 of its fingerprint text, in the scope of the false-alarm
 * rule that would close it by itself, if one would (such a report never shares a case with one
 * that a human must look at).
 */
export function fingerprintOf(report: Report, policy: Policy): string {
  return fingerprintWith(report, policy, autoCloseScope(report, policy));
}

function fingerprintWith(report: Report, policy: Policy, rule: string | undefined): string {
  return createHash('sha256').update(`${fingerprintText(report, policy)}${rule ? `|auto-close=${rule}` : ''}`).digest('hex');
}

/** The report's campaign anchors as the filer keys them (see src/domain/campaign.ts). */
export function campaignAnchorsOf(report: Report, policy: Policy): string[] {
  const rule = autoCloseScope(report, policy);
  return campaignAnchors(report, rule ? { scope: `auto-close=${rule}` } : {});
}

/** The false-alarm rule that would close the report by itself (none for a partial report, e.g. a fingerprint worked out by hand). */
function autoCloseScope(report: Report, policy: Policy): string | undefined {
  return report.indicators && report.assets && report.dataClasses ? autoClosingRule(report, policy) : undefined;
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
/** Anchors the in-process campaign index remembers (oldest forgotten first). */
const MAX_INDEXED_ANCHORS = 100_000;
/** How long a campaign's visibility lookup may take before the report opens its own case. */
const CAMPAIGN_LOOKUP_MS = 1_000;
/** Tries to store a report's evidence, the pause before each retry, and how long one try may take. */
const EVIDENCE_ATTEMPTS = 3;
const EVIDENCE_RETRY_MS = [100, 500];
const EVIDENCE_TIMEOUT_MS = 5_000;
/** What the `evidence` ref adds to a report's size, for the batch's byte budget (generously). */
const EVIDENCE_REF_BYTES = 256;

export interface ReportFilerOptions {
  /**
   * Where each report's full canonical JSON is kept before it is signalled (src/evidence/store.ts).
   * Default: the store WARDEN_EVIDENCE_* configure, made on first use; the intake (src/starter.ts)
   * passes the one it configured.
   */
  evidence?: EvidenceStore;
  /** How long one try to store may take (default 5 s); three tries, then the report is filed without a ref. */
  evidenceTimeoutMs?: number;
  /** Where a report filed without its evidence ref is logged (default: JSON lines on stdout). */
  logger?: JsonLogger;
}

/** One campaign the index knows: the fingerprint of its case, once the lookup has found it. */
interface Campaign {
  seq: number;
  fingerprint?: string;
  ready: Promise<string>;
}

export class ReportFiler {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly inFlight = new Set<string>();
  /** The run of each case last signalled, and the report that opened it: one describe per run, not per batch. */
  private readonly runs = new Map<string, { runId: string; openedBy?: string }>();
  /** anchor → campaign, in insertion order (the oldest are forgotten first). */
  private readonly campaigns = new Map<string, Campaign>();
  private campaignSeq = 0;
  /** Signals sent and reports carried, campaigns looked up in visibility (found, failed), for the intake's own figures. */
  readonly stats = { signals: 0, reports: 0, campaignLookups: 0, campaignsFound: 0, campaignLookupFailures: 0, evidenceStored: 0, evidenceFailures: 0 };
  private readonly evidence: EvidenceStore;
  private readonly evidenceTimeoutMs: number;
  private logger?: JsonLogger;

  constructor(
    private readonly client: Client,
    private readonly policy: Policy,
    private readonly taskQueue = TASK_QUEUE,
    options: ReportFilerOptions = {},
  ) {
    this.evidence = options.evidence ?? defaultEvidenceStore();
    this.evidenceTimeoutMs = options.evidenceTimeoutMs ?? EVIDENCE_TIMEOUT_MS;
    this.logger = options.logger;
  }

  /** Resolves once the report is durably recorded on its case (or rejects: nothing was accepted). */
  file: FileReport = (report) => {
    const scope = autoCloseScope(report, this.policy);
    const own = fingerprintWith(report, this.policy, scope);
    const anchors = campaignAnchors(report, scope ? { scope: `auto-close=${scope}` } : {});
    // The anchors and the evidence ref are the filer's to set: whatever a report carried is replaced.
    const { campaign: _ignored, evidence: _notYet, ...rest } = report;
    if (!anchors.length) return this.enqueue(own, rest);
    const filed: Report = { ...rest, campaign: anchors };
    const campaign = this.campaignFor(anchors, own);
    if (campaign.fingerprint) return this.enqueue(campaign.fingerprint, filed);
    return campaign.ready.then((fingerprint) => this.enqueue(fingerprint, filed));
  };

  private enqueue(fingerprint: string, report: Report): Promise<FilingResult> {
    return new Promise<FilingResult>((resolve, reject) => {
      const queue = this.queues.get(fingerprint) ?? [];
      queue.push({ report, resolve, reject });
      this.queues.set(fingerprint, queue);
      if (!this.inFlight.has(fingerprint)) void this.flush(fingerprint);
    });
  }

  /**
   * The campaign these anchors belong to, decided synchronously: the earliest one the index
   * holds for any of them, else a new one whose case the visibility lookup finds (or the report's
   * own fingerprint opens). Its anchors the index does not hold yet are added to it.
   */
  private campaignFor(anchors: string[], own: string): Campaign {
    let found: Campaign | undefined;
    for (const a of anchors) {
      const c = this.campaigns.get(a);
      if (c && (!found || c.seq < found.seq)) found = c;
    }
    if (!found) {
      const campaign: Campaign = { seq: ++this.campaignSeq, ready: Promise.resolve(own) };
      campaign.ready = this.openCampaignCase(anchors)
        .catch(() => undefined)
        .then((fingerprint) => (campaign.fingerprint = fingerprint ?? own));
      found = campaign;
    }
    for (const a of anchors) {
      const c = this.campaigns.get(a);
      if (c && c !== found) continue;
      this.campaigns.delete(a); // re-inserted: most recently used last
      this.campaigns.set(a, found);
    }
    while (this.campaigns.size > MAX_INDEXED_ANCHORS) this.campaigns.delete(this.campaigns.keys().next().value!);
    return found;
  }

  /** The fingerprint of the earliest running case on this task queue that holds any of the anchors, from visibility. */
  private async openCampaignCase(anchors: string[]): Promise<string | undefined> {
    this.stats.campaignLookups += 1;
    const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const query = [
      `WorkflowType = ${quote(WORKFLOW_TYPE)}`,
      `ExecutionStatus = 'Running'`,
      `TaskQueue = ${quote(this.taskQueue)}`,
      `${WardenCampaign.name} IN (${anchors.map(quote).join(', ')})`,
    ].join(' AND ');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        (async () => {
          let best: { start: number; fingerprint: string } | undefined;
          let seen = 0;
          for await (const execution of this.client.workflow.list({ query, pageSize: 20 })) {
            // A case opened before the memo carried it: the fingerprint its case id was made from starts with these hex digits.
            const memo = execution.memo?.fingerprint;
            const fingerprint = typeof memo === 'string' ? memo : /^case-WRD-([0-9A-F]{12})$/.exec(execution.workflowId)?.[1]?.toLowerCase();
            const start = execution.startTime.getTime();
            if (typeof fingerprint === 'string' && (!best || start < best.start)) best = { start, fingerprint };
            if (++seen >= 20) break;
          }
          if (best) this.stats.campaignsFound += 1;
          return best?.fingerprint;
        })(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => {
            this.stats.campaignLookupFailures += 1;
            resolve(undefined);
          }, CAMPAIGN_LOOKUP_MS);
        }),
      ]);
    } catch (err) {
      // Visibility unavailable (or WardenCampaign not registered): the report opens its own case.
      this.stats.campaignLookupFailures += 1;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async flush(fingerprint: string): Promise<void> {
    const queue = this.queues.get(fingerprint);
    if (!queue?.length) {
      this.queues.delete(fingerprint);
      return;
    }
    const batch: Waiting[] = [];
    let bytes = 0;
    while (queue.length && batch.length < MAX_BATCH_REPORTS) {
      const size = JSON.stringify(queue[0].report).length + EVIDENCE_REF_BYTES;
      if (batch.length && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      batch.push(queue.shift()!);
    }
    this.inFlight.add(fingerprint);
    try {
      await Promise.all(batch.map(async (w) => (w.report = await this.withEvidence(caseIdFor(fingerprint), w.report))));
      const results = await this.signal(fingerprint, batch.map((w) => w.report));
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      batch.forEach((w) => w.reject(err));
    } finally {
      this.inFlight.delete(fingerprint);
      void this.flush(fingerprint);
    }
  }

  /** The report with its evidence ref, once its canonical JSON is in the store; without one if the store failed every try (see the top of this file). */
  private async withEvidence(caseId: string, report: Report): Promise<Report> {
    let bytes: Buffer;
    let lastError: unknown;
    try {
      bytes = canonicalJsonBytes(report);
    } catch (err) {
      return this.withoutEvidence(caseId, report, 0, err); // cannot happen for a report read from JSON
    }
    for (let attempt = 1; attempt <= EVIDENCE_ATTEMPTS; attempt += 1) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const evidence = await Promise.race([
          this.evidence.put(bytes, { caseId, kind: 'report', contentType: 'application/json' }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the evidence store did not answer within ${this.evidenceTimeoutMs} ms`)), this.evidenceTimeoutMs);
          }),
        ]);
        this.stats.evidenceStored += 1;
        return { ...report, evidence };
      } catch (err) {
        lastError = err;
      } finally {
        clearTimeout(timer);
      }
      if (attempt < EVIDENCE_ATTEMPTS) await new Promise((r) => setTimeout(r, EVIDENCE_RETRY_MS[attempt - 1] ?? 500));
    }
    return this.withoutEvidence(caseId, report, EVIDENCE_ATTEMPTS, lastError);
  }

  private withoutEvidence(caseId: string, report: Report, attempts: number, err: unknown): Report {
    this.stats.evidenceFailures += 1;
    this.logger ??= createJsonLogger({ level: process.env.WARDEN_LOG_LEVEL, fields: { component: 'intake' } });
    this.logger.warn('report filed without its evidence ref: the evidence store did not take it', { caseId, reportId: report.reportId, attempts, ...errorFields(err) });
    return report;
  }

  private async signal(fingerprint: string, reports: Report[]): Promise<FilingResult[]> {
    const caseId = caseIdFor(fingerprint);
    const workflowId = workflowIdFor(caseId);
    const input: CaseInput = { caseId, fingerprint, policy: this.policy };
    // Searchable from the start: the case's first reports' anchors, as the case itself keeps them.
    const anchors = [...new Set(reports.flatMap((r) => r.campaign ?? []))].slice(0, MAX_CAMPAIGN_ANCHORS);
    const handle = await this.client.workflow.signalWithStart(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: this.taskQueue,
      args: [input],
      signal: reportsSignal,
      signalArgs: [reports],
      // A closed case is history: the same fingerprint later opens a new run of the case id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      // The fingerprint in the memo lets another intake find this case by its campaign anchors.
      memo: { openedBy: reports[0].reportId, policyVersion: this.policy.version, fingerprint, title: reports[0].title.slice(0, 200) },
      typedSearchAttributes: [{ key: WardenStatus, value: 'received' }, ...(anchors.length ? [{ key: WardenCampaign, value: anchors }] : [])],
      // What the Web UI shows of the case from its start (through the payload codec, like every payload).
      staticSummary: `${caseId}: ${oneLine(reports[0].title).slice(0, 200)}`,
      staticDetails: openingDetails(reports[0]),
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

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/** The case's static details in the Web UI: what opened it, in Markdown. */
export function openingDetails(report: Report): string {
  const md = (text: string) => oneLine(text).replace(/([\\`*_{}[\]<>()#|])/g, '\\$1').slice(0, 200);
  return [
    `**Opened by a report from ${md(report.source)}**, ${md(report.reporter)}, observed ${report.observedAt}`,
    `**Assets:** ${report.assets.length ? report.assets.slice(0, 10).map(md).join(', ') : 'none named'}`,
    `**Received:** ${report.receivedAt}`,
    '',
    'Severity, category and queue are decided at triage: the current details show them.',
  ].join('\n');
}

/** File one report without batching (scripts, tests). */
export function fileReport(client: Client, policy: Policy, report: Report, taskQueue = TASK_QUEUE, options: ReportFilerOptions = {}): Promise<FilingResult> {
  return new ReportFiler(client, policy, taskQueue, options).file(report);
}
