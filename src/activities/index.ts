/**
 * The case workflow's only doors to the world. `createActivities(deps)` wires one port per
 * external system; each activity is thin: build the message, derive the idempotency key from
 * the case, call the port.
 */
import { ApplicationFailure } from '@temporalio/common';
import { classifyByRules, type Classification, type Policy, type TimelineEntry } from '../domain';
import { workflowIdFor } from '../workflows/definitions';
import { type CheckFacts, type CheckResult, RECOVERY_CHECKS, type RecoveryCheck } from './checks';
import { dryRunIncidents, type IncidentPort } from './incidentio';
import { dryRunMail, type MailPort } from './mail';
import { Outbox } from './outbox';
import { type CaseSummary, cardText, headline, timelineText } from './messages';
import { dryRunPager, type PagerAction, type PagerPort, type PagerSeverity } from './pagerduty';
import { dryRunSlack, type SlackPort } from './slack';

export type { CaseSummary } from './messages';

export interface ActivityDeps {
  slack: SlackPort;
  pager: PagerPort;
  incidents: IncidentPort;
  mail: MailPort;
  checks?: Record<string, RecoveryCheck>;
  /** Base URL of the Temporal Web UI, for links back to the case. */
  uiBaseUrl?: string;
  namespace?: string;
}

/** Every connector in dry-run mode: what would be sent is written to the outbox file. */
export function dryRunConnectors(outboxPath: string): Pick<ActivityDeps, 'slack' | 'pager' | 'incidents' | 'mail'> {
  const outbox = new Outbox(outboxPath);
  return { slack: dryRunSlack(outbox), pager: dryRunPager(outbox), incidents: dryRunIncidents(outbox), mail: dryRunMail(outbox) };
}

const PAGER_SEVERITY: Record<string, PagerSeverity> = { SEV1: 'critical', SEV2: 'error', SEV3: 'warning', SEV4: 'info' };

export type ReporterNotice = 'false-alarm' | 'received' | 'resolved';

export function createActivities(deps: ActivityDeps) {
  const checks = deps.checks ?? RECOVERY_CHECKS;
  const linkTo = (caseId: string) =>
    deps.uiBaseUrl
      ? `${deps.uiBaseUrl.replace(/\/$/, '')}/namespaces/${deps.namespace ?? 'default'}/workflows/${encodeURIComponent(workflowIdFor(caseId))}`
      : undefined;
  const withLink = (summary: CaseSummary): CaseSummary => ({ ...summary, link: summary.link ?? linkTo(summary.caseId) });
  const render = (summary: CaseSummary) => {
    const s = withLink(summary);
    return s.link ? `${cardText(s)}\n${s.link}` : cardText(s);
  };

  return {
    /** The rules classifier; the LLM classifier plugs in behind the same activity. */
    async classifyReport(
      input: { title: string; description: string; categoryHint?: string },
      taxonomy: Pick<Policy, 'taxonomy' | 'defaultCategory'>,
    ): Promise<Classification> {
      return classifyByRules(input, taxonomy);
    },

    /** Post the case card to the queue's channel the first time, update it in place after. */
    async publishCaseCard(input: { summary: CaseSummary; channel: string; cardRef?: string; revision: number }): Promise<{ cardRef: string }> {
      const text = render(input.summary);
      if (input.cardRef) {
        await deps.slack.update(input.cardRef, text, `${input.summary.caseId}:card:${input.revision}`);
        return { cardRef: input.cardRef };
      }
      const { ref } = await deps.slack.post(input.channel, text, `${input.summary.caseId}:card`);
      return { cardRef: ref };
    },

    /** Page the owning queue's on-call (dedup key per case) or acknowledge/resolve that page. */
    async pageOnCall(input: { summary: CaseSummary; action: PagerAction; dedupKey?: string }): Promise<void> {
      const s = withLink(input.summary);
      await deps.pager.enqueue({
        event_action: input.action,
        dedup_key: input.dedupKey ?? `warden-${s.caseId}`,
        ...(input.action === 'trigger'
          ? {
              payload: {
                summary: headline(s).slice(0, 1024),
                source: 'warden',
                severity: PAGER_SEVERITY[s.severity ?? 'SEV4'],
                custom_details: { caseId: s.caseId, category: s.category, queue: s.queue, stage: s.stage },
              },
              links: s.link ? [{ href: s.link, text: 'Case in Temporal' }] : [],
            }
          : {}),
      });
    },

    /** Declare the incident on escalation; the key is per case and escalation, so a retry finds the same one. */
    async declareIncident(input: { summary: CaseSummary; escalation: number; triggers: string[] }): Promise<{ incidentRef: string }> {
      const s = withLink(input.summary);
      const { id } = await deps.incidents.declare({
        idempotency_key: `warden-${s.caseId}-escalation-${input.escalation}`,
        name: `${s.caseId}: ${s.title}`.slice(0, 250),
        summary: `Escalated by: ${input.triggers.join('; ')}${s.link ? `\n${s.link}` : ''}`,
        severity: s.severity ?? 'SEV4',
        visibility: 'private',
      });
      return { incidentRef: id };
    },

    async updateIncident(input: { incidentRef: string; change: { status?: string; severity?: string; summary?: string }; key: string }): Promise<void> {
      await deps.incidents.update(input.incidentRef, input.change, input.key);
    },

    /** Escalation: the summary and the timeline so far, in the queue's channel. */
    async postEscalationSummary(input: { summary: CaseSummary; channel: string; escalation: number; triggers: string[]; timeline: TimelineEntry[] }): Promise<void> {
      const text = `ESCALATED: ${render(input.summary)}\nTriggers: ${input.triggers.join('; ')}\nTimeline:\n${timelineText(input.timeline)}`;
      await deps.slack.post(input.channel, text, `${input.summary.caseId}:escalation:${input.escalation}`);
    },

    /** Direct messages to the incident commanders (recovery decision, silent parties...). */
    async notifyCommanders(input: { caseId: string; commanders: string[]; text: string; key: string }): Promise<void> {
      for (const commander of input.commanders)
        await deps.slack.directMessage(commander, `${input.caseId}: ${input.text}`, `${input.caseId}:${input.key}:${commander}`);
    },

    /** Tell every reporter what happened to their report: by mail for addresses, by Slack DM otherwise. */
    async notifyReporters(input: { caseId: string; title: string; reporters: string[]; notice: ReporterNotice; text: string }): Promise<void> {
      const subject = { 'false-alarm': 'Your security report: no action needed', received: 'Your security report: we are on it', resolved: 'Your security report: resolved, thank you' }[input.notice];
      for (const reporter of input.reporters) {
        const key = `${input.caseId}:${input.notice}:${reporter}`;
        if (reporter.includes('@')) await deps.mail.send({ to: reporter, subject: `${subject} (${input.caseId})`, text: input.text }, key);
        else await deps.slack.directMessage(reporter, `${subject} (${input.caseId}): ${input.text}`, key);
      }
    },

    /** Run one machine-verified recovery criterion. */
    async runRecoveryCheck(input: { check: string; params: Record<string, unknown>; facts: CheckFacts }): Promise<CheckResult> {
      const check = checks[input.check];
      if (!check)
        throw ApplicationFailure.nonRetryable(`unknown recovery check "${input.check}" (known: ${Object.keys(checks).join(', ')})`, 'UnknownCheck');
      return check(input.params, input.facts);
    },
  };
}

export type WardenActivities = ReturnType<typeof createActivities>;
