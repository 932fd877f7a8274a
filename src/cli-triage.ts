/**
 * Interfaces for judging Warden's decisions without opening cases:
 *
 *   warden triage --batch <file|->                  one report JSON a line in, one answer a line out
 *   warden policy what-if <candidate.yaml> [--since 30d] [--json]
 *                                                   past cases re-triaged under a candidate policy
 *
 * Both use the same pure triage() and the same classifier as the worker, so what they print is
 * what a case would record.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import {
  auditRow,
  type CaseView,
  type Classification,
  classifyByRules,
  describeIssues,
  durationToMs,
  matchFalseAlarm,
  type Policy,
  type Report,
  ReportInput,
  triage,
  type Triage,
} from './domain';
import type { Classifier } from './activities/classifier';
import { WORKFLOW_TYPE } from './workflows/definitions';

/** One line of `warden triage --batch`'s output. */
export interface BatchAnswer {
  category: string;
  severity: string;
  page: boolean;
  escalate: boolean;
  triggers: string[];
  dataClasses: string[];
  regulated: boolean;
  affected: number | null;
  confidence: number;
  classifier: string;
  /** The false-alarm rule that would close the report without a human, or null. */
  autoClose: string | null;
  /** Set when a human would have to confirm first: why. */
  needsHuman: string | null;
  queue: string;
  score: number;
  regimes: string[];
}

export function batchAnswer(report: Report, answer: Triage, policy: Policy): BatchAnswer {
  const falseAlarm = matchFalseAlarm(report, policy);
  const closes = falseAlarm && !falseAlarm.notApplied && answer.trust.mode === 'act' ? falseAlarm.rule : null;
  return {
    category: answer.classification.category,
    severity: answer.assessment.severity,
    page: answer.page,
    escalate: answer.escalation.path === 'escalate',
    triggers: answer.escalation.triggers.map((t) => t.criterion),
    dataClasses: answer.dataClasses.map((d) => d.dataClass),
    regulated: answer.assessment.regulatedData.length > 0,
    affected: answer.affected?.count ?? null,
    confidence: Math.round(answer.classification.confidence * 1000) / 1000,
    classifier: answer.classification.classifier,
    autoClose: closes,
    needsHuman: answer.confirmBecause ?? null,
    queue: answer.queue,
    score: answer.assessment.score,
    regimes: answer.regulatoryFlags.map((f) => f.regime),
  };
}

/** A report JSON (the generic webhook's shape) as a Report, or the reasons it is not one. */
export function reportFrom(json: unknown): Report {
  const parsed = ReportInput.safeParse(json);
  if (!parsed.success) throw new Error(`invalid report: ${describeIssues(parsed.error).join('; ')}`);
  return { ...parsed.data, reportId: 'triage', receivedAt: new Date().toISOString() };
}

async function judge(report: Report, policy: Policy, classifier?: Classifier): Promise<Triage> {
  const text = { title: report.title, description: report.description, categoryHint: report.categoryHint, source: report.source };
  const classification: Classification = classifier ? await classifier.classify(text, policy) : classifyByRules(text, policy);
  return triage({ ...report, ...text }, policy, { classification });
}

/** Triage one report JSON a line; a bad line answers {"error": …} and the run goes on. Answers keep the input's order. */
export async function triageBatch(lines: AsyncIterable<string> | Iterable<string>, policy: Policy, write: (line: string) => void, classifier?: Classifier): Promise<{ answered: number; errors: number }> {
  let answered = 0;
  let errors = 0;
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (!line.trim()) continue;
    try {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new Error(`line ${n}: not JSON`);
      }
      const report = reportFrom(json);
      write(JSON.stringify(batchAnswer(report, await judge(report, policy, classifier), policy)));
      answered += 1;
    } catch (err) {
      write(JSON.stringify({ error: (err as Error).message.startsWith('line ') ? (err as Error).message : `line ${n}: ${(err as Error).message}` }));
      errors += 1;
    }
  }
  return { answered, errors };
}

export interface WhatIfChange {
  caseId: string;
  title: string;
  changes: string[];
}

export interface WhatIfReport {
  cases: number;
  since: string;
  changed: WhatIfChange[];
  counts: Record<'category' | 'severity' | 'page' | 'escalation' | 'autoClose', number>;
  /** Over cases a human judged: how often the current and the candidate policy agree with what humans decided. */
  agreement: { judged: number; current: { category: number; severity: number }; candidate: { category: number; severity: number } };
}

/**
 * Re-triage the first report of every case started within `since` (read back from Temporal)
 * under the current and the candidate policy, and say what would change and how each agrees
 * with what humans decided. `onProgress` is told after each case.
 */
export async function whatIf(
  client: Client,
  current: Policy,
  candidate: Policy,
  opts: { since?: string; taskQueue?: string; limit?: number; classifier?: Classifier; onProgress?: (done: number) => void } = {},
): Promise<WhatIfReport> {
  const since = opts.since ?? '30d';
  const from = new Date(Date.now() - durationToMs(since)).toISOString();
  const counts = { category: 0, severity: 0, page: 0, escalation: 0, autoClose: 0 };
  const agreement = { judged: 0, current: { category: 0, severity: 0 }, candidate: { category: 0, severity: 0 } };
  const changed: WhatIfChange[] = [];
  let cases = 0;
  const scope = opts.taskQueue ? ` AND TaskQueue = '${opts.taskQueue.replace(/'/g, '')}'` : '';
  const runs: { workflowId: string; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}' AND StartTime >= '${from}'${scope}` })) {
    runs.push({ workflowId: wf.workflowId, runId: wf.runId });
    if (runs.length >= (opts.limit ?? 5_000)) break;
  }
  // The case views, eight at a time (a closed case's view is answered by a worker replaying it).
  const views: (CaseView | undefined)[] = new Array(runs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(8, runs.length) }, async () => {
      while (next < runs.length) {
        const i = next++;
        views[i] = await client.workflow
          .getHandle(runs[i].workflowId, runs[i].runId)
          .query<CaseView>('caseView')
          .catch(() => undefined);
      }
    }),
  );
  for (const view of views) {
    const first = view?.firstReport;
    if (!view || !first) continue;
    cases += 1;
    const report: Report = { ...first, assets: view.assets.slice(0, 1_000), users: first.users, dataClasses: first.dataClasses };
    const [a, b] = [await judge(report, current, opts.classifier), await judge(report, candidate, opts.classifier)];
    const [x, y] = [batchAnswer(report, a, current), batchAnswer(report, b, candidate)];
    const diff: string[] = [];
    if (x.category !== y.category) (counts.category++, diff.push(`category ${x.category} → ${y.category}`));
    if (x.severity !== y.severity) (counts.severity++, diff.push(`severity ${x.severity} → ${y.severity}`));
    if (x.page !== y.page) (counts.page++, diff.push(y.page ? 'would page' : 'would no longer page'));
    if (x.escalate !== y.escalate) (counts.escalation++, diff.push(y.escalate ? 'would escalate' : 'would no longer escalate'));
    if (x.autoClose !== y.autoClose) (counts.autoClose++, diff.push(y.autoClose ? `would auto-close (${y.autoClose})` : 'would no longer auto-close'));
    if (diff.length) changed.push({ caseId: view.caseId, title: view.title, changes: diff });
    const row = view.stage === 'closed' ? auditRow(view) : undefined;
    if (row && (row.overridden || view.acknowledgedBy || view.proposal?.decided)) {
      agreement.judged += 1;
      if (x.category === row.finalCategory) agreement.current.category += 1;
      if (y.category === row.finalCategory) agreement.candidate.category += 1;
      if (x.severity === row.finalSeverity) agreement.current.severity += 1;
      if (y.severity === row.finalSeverity) agreement.candidate.severity += 1;
    }
    opts.onProgress?.(cases);
  }
  return { cases, since, changed, counts, agreement };
}

export function renderWhatIf(r: WhatIfReport, candidatePath: string): string {
  const pct = (x: number) => (r.agreement.judged ? `${Math.round((1000 * x) / r.agreement.judged) / 10}%` : 'n/a');
  return [
    `${r.cases} case(s) since ${r.since} re-triaged under ${candidatePath}: ${r.changed.length} would change`,
    `  category ${r.counts.category}, severity ${r.counts.severity}, page ${r.counts.page}, escalation ${r.counts.escalation}, auto-close ${r.counts.autoClose}`,
    `agreement with what humans decided (${r.agreement.judged} judged closed case(s)):`,
    `  category: current ${pct(r.agreement.current.category)}, candidate ${pct(r.agreement.candidate.category)}`,
    `  severity: current ${pct(r.agreement.current.severity)}, candidate ${pct(r.agreement.candidate.severity)}`,
    ...r.changed.map((c) => `${c.caseId}  ${c.title.slice(0, 60)}\n    ${c.changes.join('; ')}`),
  ].join('\n');
}

/** Lines of a file or of standard input ("-"). */
export async function* linesOf(path: string): AsyncIterable<string> {
  if (path !== '-') {
    yield* readFileSync(path, 'utf8').split('\n');
    return;
  }
  const { createInterface } = await import('node:readline');
  yield* createInterface({ input: process.stdin, crlfDelay: Infinity });
}
