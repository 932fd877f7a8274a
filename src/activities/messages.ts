/**
 * What the connectors say, built from the case summary: one place for wording, so a Slack card,
 * a page and a mail describe a case the same way.
 */
import type { CaseSummary, Severity, TimelineEntry } from '../domain';

/** The slice of a case that notifications need (built by the case machine: src/domain/case-effects.ts). */
export type { CaseSummary };

export function headline(c: CaseSummary): string {
  return `[${c.severity ?? 'unscored'}] ${c.caseId}: ${c.title}`;
}

export function cardText(c: CaseSummary): string {
  return [
    headline(c),
    `stage: ${c.stage}${c.escalated ? ' (escalated)' : ''}`,
    `category: ${c.category ?? '-'}  queue: ${c.queue ?? '-'}  evidence: ${c.evidenceCount}`,
    `acknowledged by: ${c.acknowledgedBy ?? '-'}  assignees: ${c.assignees.join(', ') || '-'}`,
    ...(c.regulatory ?? []).map((line) => `regulatory: ${line}`),
  ].join('\n');
}

export function timelineText(timeline: TimelineEntry[]): string {
  return timeline.map((t) => `${t.at}  ${t.actor}  ${t.action}${t.reason ? ` (${t.reason})` : ''}`).join('\n');
}
