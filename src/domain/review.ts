/**
 * The post-incident review: what closing a declared incident requires (the policy names the
 * fields), the durations responders are measured on, and the export of the review with the
 * whole timeline as Markdown and JSON.
 */
import type { CaseState } from './case';
import { formatDuration } from './duration';
import type { Policy } from './policy';

export interface FollowUp {
  action: string;
  owner: string;
  due?: string;
}

export interface Review {
  summary?: string;
  rootCause?: string;
  impact?: string;
  lessons?: string;
  followUps?: FollowUp[];
}

export const REVIEW_FIELDS = ['summary', 'rootCause', 'impact', 'lessons', 'followUps'] as const;
export type ReviewField = (typeof REVIEW_FIELDS)[number];

/** A declared incident is a case that was escalated (an incident was opened for it). */
export function isDeclared(state: Pick<CaseState, 'escalations'>): boolean {
  return state.escalations.length > 0;
}

/** The review fields still missing for closing this case as resolved; none when no review is required. */
export function missingReview(state: Pick<CaseState, 'escalations'>, review: Review | undefined, policy: Policy): ReviewField[] {
  if (!isDeclared(state)) return [];
  return policy.review.required.filter((field) => {
    const value = review?.[field];
    if (field === 'followUps') return !Array.isArray(value) || value.length === 0 || value.some((f) => !f.action?.trim() || !f.owner?.trim());
    return typeof value !== 'string' || !value.trim();
  });
}

export interface ResponseDurations {
  toAcknowledge?: number;
  toTriage?: number;
  toContain?: number;
  toRecover?: number;
  toClose?: number;
}

const since = (from: string, to?: string) => (to ? Date.parse(to) - Date.parse(from) : undefined);

/** Time from the first report to each milestone of the response, in milliseconds. */
export function responseDurations(state: CaseState): ResponseDurations {
  const categorized = state.timeline.find((t) => t.action === 'stage triage → categorized')?.at;
  const contained = state.recovery.find((c) => c.id === 'containment-confirmed')?.at ?? state.recovery.find((c) => c.verification === 'human' && c.at)?.at;
  return {
    toAcknowledge: since(state.openedAt, state.acknowledgedAt),
    toTriage: since(state.openedAt, categorized),
    toContain: since(state.openedAt, contained),
    toRecover: since(state.openedAt, state.recoveryDecision?.at),
    toClose: since(state.openedAt, state.closure?.at),
  };
}

const line = (text: string | undefined) => (text ?? '').replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

/** The review and the full timeline, as Markdown for the incident report. */
export function reviewMarkdown(state: CaseState & { review?: Review }): string {
  const d = responseDurations(state);
  const r = state.closure?.review;
  const show = (ms?: number) => (ms === undefined ? '-' : formatDuration(ms));
  return [
    `# Post-incident review: ${state.caseId}`,
    '',
    `**${line(state.title)}**`,
    '',
    `- Severity: ${state.severity ?? '-'}; category: ${state.classification?.category ?? '-'}; queue: ${state.queue ?? '-'}`,
    `- Opened ${state.openedAt}; closed ${state.closure?.at ?? '(open)'} by ${state.closure?.by ?? '-'} (${state.closure?.resolution ?? '-'}: ${line(state.closure?.reason)})`,
    `- Reports: ${state.reportCount} from ${state.reporters.length} reporter(s); escalations: ${state.escalations.length}`,
    '',
    '## Review',
    '',
    `- Summary: ${line(r?.summary) || '-'}`,
    `- Root cause: ${line(r?.rootCause) || '-'}`,
    `- Impact: ${line(r?.impact) || '-'}`,
    `- Lessons: ${line(r?.lessons) || '-'}`,
    '',
    '### Follow-up actions',
    '',
    ...(r?.followUps?.length ? ['| action | owner | due |', '| --- | --- | --- |', ...r.followUps.map((f) => `| ${line(f.action)} | ${line(f.owner)} | ${f.due ?? '-'} |`)] : ['none recorded']),
    '',
    '## Durations',
    '',
    '| from the first report to | time |',
    '| --- | --- |',
    `| acknowledgement | ${show(d.toAcknowledge)} |`,
    `| triage (categorized) | ${show(d.toTriage)} |`,
    `| containment confirmed | ${show(d.toContain)} |`,
    `| recovery may begin | ${show(d.toRecover)} |`,
    `| closure | ${show(d.toClose)} |`,
    '',
    '## Timeline',
    '',
    '| time | who | what | why |',
    '| --- | --- | --- | --- |',
    ...state.timeline.map((t) => `| ${t.at} | ${line(t.actor)} | ${line(t.action)} | ${line(t.reason)} |`),
    '',
  ].join('\n');
}
