/**
 * How the Temporal Web UI reads a case: a one-line summary for every vendor activity ("Page
 * on-call for WRD-…"), and the case's current details in Markdown (stage, owner, next deadline,
 * open tasks). Pure; the case workflow sets them. Summaries carry the case id and the step, not
 * the report's words; details travel as a query result, through the payload codec.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { type CaseState, categoryOf, openTasks, verdictOf } from '../domain';
import {
  WardenAcknowledged,
  WardenAutoCategory,
  WardenCampaign,
  WardenCategory,
  WardenNextDeadline,
  WardenQueue,
  WardenSeverity,
  WardenStatus,
  WardenVerdict,
} from './definitions';

type Input = Record<string, unknown> | undefined;

const caseOf = (input: Input): string =>
  String((input?.caseId as string | undefined) ?? ((input?.summary as { caseId?: string } | undefined)?.caseId ?? (input?.card as { caseId?: string } | undefined)?.caseId ?? 'the case'));

/** The Web UI's line for one vendor activity, from its name and input. */
export function activitySummary(name: string, input: Input): string {
  const id = caseOf(input);
  switch (name) {
    case 'pageOnCall': {
      const commander = String(input?.dedupKey ?? '').includes('-commander-');
      const who = commander ? 'the incident commander' : 'on-call';
      const action = input?.action;
      return action === 'acknowledge' ? `Acknowledge the page to ${who} for ${id}` : action === 'resolve' ? `Resolve the page to ${who} for ${id}` : `Page ${who} for ${id}`;
    }
    case 'publishCaseCard':
      return `Post the case card for ${id} in ${String(input?.channel ?? 'its queue channel')}`;
    case 'declareIncident':
      return `Declare an incident for ${id} (escalation #${String(input?.escalation ?? 1)})`;
    case 'updateIncident':
      return `Update the incident ${String(input?.incidentRef ?? '')}: ${String((input?.change as { status?: string } | undefined)?.status ?? 'summary')}`;
    case 'postEscalationSummary':
      return `Post the escalation summary for ${id}`;
    case 'notifyCommanders':
      return input?.key === 'recovery-may-begin' ? `Tell the incident commander recovery may begin for ${id}` : `Tell ${id}'s owners: ${String(input?.key ?? 'a notice')}`;
    case 'notifyReporters':
      return `Tell the reporters of ${id}: ${String(input?.notice ?? 'a notice')}`;
    case 'notifyParty':
      return `Notify ${String((input?.party as { name?: string } | undefined)?.name ?? 'a third party')} of ${id}`;
    case 'alertOperators':
      return `Alert operators: ${String(input?.what ?? 'a step')} failed on ${id}`;
    default:
      return `${name} for ${id}`;
  }
}

/** The deadlines still running on a case, soonest first: what, and when (ISO-8601). */
export function deadlines(state: CaseState): { what: string; at: string }[] {
  if (state.stage === 'closed') return [];
  const list = [
    ...(state.slaDeadlines.acknowledgeBy && !state.acknowledgedBy ? [{ what: 'acknowledge', at: state.slaDeadlines.acknowledgeBy }] : []),
    ...(state.slaDeadlines.respondBy && !['recovery-gate', 'recovering'].includes(state.stage) ? [{ what: 'respond', at: state.slaDeadlines.respondBy }] : []),
    ...(state.clocks ?? []).filter((c) => !c.filed && !c.withdrawn).map((c) => ({ what: c.name, at: c.dueAt })),
  ];
  return list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** When the soonest deadline falls (the WardenNextDeadline search attribute), if one runs. */
export function nextDeadline(state: CaseState): string | undefined {
  return deadlines(state)[0]?.at;
}

/** The case as a responder reads it, in Markdown: the Web UI's "current details". */
export function currentDetails(state: CaseState): string {
  const next = deadlines(state)[0];
  const tasks = openTasks(state).slice(0, 10);
  return [
    `**${state.caseId}** · ${state.severity ?? 'unscored'} · ${state.stage}${state.escalated ? ' (escalated)' : ''} · ${categoryOf(state) ?? 'not yet categorized'} · queue ${state.queue ?? '-'}`,
    '',
    `**Owner:** ${state.acknowledgedBy ? `${state.acknowledgedBy} (acknowledged ${state.acknowledgedAt})` : 'not acknowledged'}${state.assignees.length ? `; assigned ${state.assignees.join(', ')}` : ''}`,
    `**Next deadline:** ${next ? `${next.what} by ${next.at}` : 'none'}`,
    `**Reports:** ${state.reportCount} from ${state.reporters.length} reporter(s)`,
    '',
    '**Open tasks:**',
    '',
    ...(tasks.length ? tasks.map((t) => `- ${t}`) : ['- none']),
  ].join('\n');
}

/** The search attributes people filter on, as the case stands. */
export function searchAttributesOf(state: CaseState): SearchAttributeUpdatePair[] {
  const deadline = nextDeadline(state);
  const category = categoryOf(state);
  const verdict = state.closure ? verdictOf(state) : undefined;
  return [
    { key: WardenStatus, value: state.stage },
    ...(state.severity ? [{ key: WardenSeverity, value: state.severity }] : []),
    ...(category ? [{ key: WardenCategory, value: category }] : []),
    ...(state.queue ? [{ key: WardenQueue, value: state.queue }] : []),
    // A copy: the upserted value is kept by reference, and the case's own list grows in place.
    ...(state.campaign?.length ? [{ key: WardenCampaign, value: [...state.campaign] }] : []),
    ...(state.classification ? [{ key: WardenAutoCategory, value: state.classification.category }] : []),
    ...(verdict ? [{ key: WardenVerdict, value: verdict }] : []),
    { key: WardenAcknowledged, value: !!state.acknowledgedBy },
    ...(deadline ? [{ key: WardenNextDeadline, value: new Date(deadline) }] : []),
  ] as SearchAttributeUpdatePair[];
}
