/** Plain-text rendering of the case view and case lists, for the CLI. */
import { type AuditReport, type CaseView, formatDuration, type Triage, type TrustDecision } from './domain';

export interface CaseListRow {
  caseId: string;
  status: string;
  stage: string;
  severity: string;
  category: string;
  queue: string;
  openedAt: string;
  /** The first report's title, from the memo (through the payload codec): no workflow code runs for a list. */
  title?: string;
  /** What the server reports keeps the case from progressing (see `warden repair`). */
  problems?: string[];
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function renderCaseList(rows: CaseListRow[]): string {
  if (!rows.length) return 'no cases';
  return table([
    ['CASE', 'STAGE', 'SEVERITY', 'CATEGORY', 'QUEUE', 'OPENED', 'WORKFLOW', 'TITLE'],
    ...rows.map((r) => [r.caseId, r.stage, r.severity, r.category, r.queue, r.openedAt, r.problems?.length ? `${r.status} (${r.problems.join(', ')})` : r.status, (r.title ?? '').slice(0, 60)]),
  ]);
}

export function renderCase(c: CaseView): string {
  const lines = [
    `${c.caseId}  ${c.severity ?? 'unscored'}  ${c.stage}${c.escalated ? ' (escalated)' : ''}`,
    `title:      ${c.title}`,
    `category:   ${c.classification ? `${c.classification.category} (${c.classification.classifier}: ${c.classification.rationale})` : '-'}`,
    `queue:      ${c.queue ?? '-'}`,
    `score:      ${c.assessment ? `${c.assessment.score} = ${c.assessment.factors.map((f) => `${f.factor} ${f.points}`).join(' + ')}` : '-'}`,
    `evidence:   ${c.evidenceCount} report(s) from ${c.reporters.length} reporter(s)`,
    `assets:     ${c.assets.join(', ') || '-'}`,
    `ack:        ${c.acknowledgedBy ? `${c.acknowledgedBy} at ${c.acknowledgedAt}` : '-'}   assignees: ${c.assignees.join(', ') || '-'}`,
    `SLA:        acknowledge by ${c.slaDeadlines.acknowledgeBy ?? '-'}, respond by ${c.slaDeadlines.respondBy ?? '-'}${c.slaBreaches.length ? `; breached: ${c.slaBreaches.join(', ')}` : ''}`,
    `policy:     ${c.policyVersion}`,
    'recovery criteria:',
    ...c.recovery.map((r) => `  [${r.passed ? 'x' : ' '}] ${r.id} (${r.verification})${r.passed ? ` by ${r.by} at ${r.at}` : r.detail ? `: ${r.detail}` : ''}`),
    ...(c.determinationsNeeded?.length ? ['to determine:', ...c.determinationsNeeded.map((d) => `  ${d.determination}: ${d.question} (${d.deciders.join(' or ')})`)] : []),
    ...(c.clocks?.length
      ? ['regulatory clocks:', ...c.clocks.map((k) => `  ${k.key}  ${k.name}: ${k.filed ? `filed by ${k.filed.by} (${k.filed.reference})` : k.withdrawn ? `withdrawn (${k.withdrawn.reason})` : k.missedAt ? `DEADLINE PASSED ${k.dueAt}` : `due ${k.dueAt} (${formatDuration(Date.parse(k.dueAt) - Date.now())} left)`}`)]
      : []),
    `open tasks: ${c.openTasks.join('; ') || '-'}`,
    'timeline:',
    ...c.timeline.map((t) => `  ${t.at}  ${t.actor.padEnd(12)} ${t.action}${t.reason ? ` (${t.reason})` : ''}`),
  ];
  return lines.join('\n');
}

const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;

export function renderAudit(a: AuditReport, trust?: Record<string, TrustDecision>): string {
  if (!a.cases) return 'no closed, classified cases yet';
  const lines = [
    `closed cases audited: ${a.cases}`,
    `category agreed: ${a.category.agreed}/${a.category.cases} (${pct(a.category.rate)})   severity agreed: ${a.severity.agreed}/${a.severity.cases} (${pct(a.severity.rate)})`,
    '',
    table([['CLASSIFIER', 'CASES', 'CATEGORY AGREED', 'SEVERITY AGREED'], ...Object.entries(a.byClassifier).map(([k, v]) => [k, String(v.category.cases), pct(v.category.rate), pct(v.severity.rate)])]),
    '',
    table([['AUTOMATED CATEGORY', 'CASES', 'AGREED'], ...Object.entries(a.byCategory).map(([k, v]) => [k, String(v.cases), pct(v.rate)])]),
    '',
    ...(trust
      ? [
          table([['CATEGORY', 'JUDGED', 'HUMANS AGREED', 'WARDEN MAY'], ...Object.values(trust).map((t) => [t.category, String(t.cases), String(t.agreed), t.mode === 'act' ? 'act alone' : 'propose'])]),
          '',
        ]
      : []),
    'confusion (rows: automated, columns: final):',
  ];
  const finals = [...new Set(Object.values(a.confusion).flatMap((row) => Object.keys(row)))].sort();
  lines.push(table([['', ...finals], ...Object.entries(a.confusion).map(([auto, row]) => [auto, ...finals.map((f) => String(row[f] ?? 0))])]));
  return lines.join('\n');
}

export function renderTriage(t: Triage): string {
  return [
    `category:   ${t.classification.category} (${t.classification.classifier}: ${t.classification.rationale})`,
    `severity:   ${t.assessment.severity}, score ${t.assessment.score}`,
    ...t.assessment.factors.map((f) => `  ${f.factor.padEnd(18)} ${String(f.points).padStart(3)}  ${f.why}`),
    `queue:      ${t.queue} (${t.routedBecause})`,
    `page:       ${t.page ? 'yes' : 'no'}`,
    `escalation: ${t.escalation.path}${t.escalation.triggers.length ? ` (${t.escalation.triggers.map((x) => `${x.criterion}: ${x.detail}`).join('; ')})` : ''}`,
    `regulatory: ${t.regulatoryFlags.map((f) => `${f.name} (${f.deadline})`).join('; ') || '-'}`,
    ...(t.determinationsNeeded.length ? [`to determine: ${t.determinationsNeeded.map((d) => `${d.determination} (${d.regimes.join(', ')})`).join('; ')}`] : []),
    'forensic collection:',
    ...t.forensics.map((step, i) => `  ${i + 1}. ${step}`),
  ].join('\n');
}
