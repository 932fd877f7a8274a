/** Plain-text rendering of the case view and case lists, for the CLI. */
import type { CaseView } from './domain';

export interface CaseListRow {
  caseId: string;
  status: string;
  stage: string;
  severity: string;
  category: string;
  queue: string;
  openedAt: string;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function renderCaseList(rows: CaseListRow[]): string {
  if (!rows.length) return 'no cases';
  return table([
    ['CASE', 'STAGE', 'SEVERITY', 'CATEGORY', 'QUEUE', 'OPENED', 'WORKFLOW'],
    ...rows.map((r) => [r.caseId, r.stage, r.severity, r.category, r.queue, r.openedAt, r.status]),
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
    `open tasks: ${c.openTasks.join('; ') || '-'}`,
    'timeline:',
    ...c.timeline.map((t) => `  ${t.at}  ${t.actor.padEnd(12)} ${t.action}${t.reason ? ` (${t.reason})` : ''}`),
  ];
  return lines.join('\n');
}
