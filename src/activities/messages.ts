/**
 * What the connectors say, built from the case summary: one place for wording, so a Slack card,
 * a page and a mail describe a case the same way.
 */
import type { Severity, TimelineEntry } from '../domain';

/** The slice of a case that notifications need; small enough for activity inputs. */
export interface CaseSummary {
  caseId: string;
  title: string;
  stage: string;
  severity?: Severity;
  category?: string;
  queue?: string;
  evidenceCount: number;
  escalated: boolean;
  acknowledgedBy?: string;
  assignees: string[];
  /** The page priority the policy gives this severity. */
  pagePriority?: 'critical' | 'error' | 'warning' | 'info';
  /** Link to the case in the Temporal Web UI. */
  link?: string;
  /** Regulatory determinations still open and deadlines still running, one line each. */
  regulatory?: string[];
  /** When the case opened: how far back a repost check reads. */
  openedAt?: string;
}

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
