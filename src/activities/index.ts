/**
 * The case workflow's only doors to the world. `createActivities(deps)` wires one port per
 * external system; each activity is thin: build the message, derive the idempotency key from
 * the case, call the port.
 */
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ClassifiableText, Classification, MeasuredAgreement, Policy, ReporterRoute, TimelineEntry } from '../domain';
import { type Classifier, rulesClassifier, type Taxonomy } from './classifier';
import { workflowIdFor } from '../workflows/definitions';
import { type CheckFacts, type CheckResult, RECOVERY_CHECKS, type RecoveryCheck } from './checks';
import { dryRunIncidents, type IncidentPort } from './incidentio';
import { dryRunMail, type MailPort } from './mail';
import { Outbox } from './outbox';
import { type CaseSummary, cardText, headline, timelineText } from './messages';
import { dryRunPager, type PagerAction, type PagerPort, type PagerSeverity } from './pagerduty';
import { type CaseCard, cardRefMode, dryRunSlack, type SlackPort } from './slack';
import { type PartyLinkSettings, partyAckUrl } from '../party-links';
import { createEvidenceActivities } from './evidence';
import { defaultEvidenceStore, type EvidenceStore } from '../evidence/store';

export type { CaseSummary } from './messages';
export type { CaseCard } from './slack';
export type { StoreEvidenceInput } from './evidence';
export type { EvidenceRef } from '../evidence/store';

/** A person to notify, with the ways to reach them. */
export interface Contact {
  id: string;
  slack?: string;
  email?: string;
}

/** A reporter: a Slack user id or an e-mail address, and the Message-ID of their report when it was a mail. */
export interface ReporterContact {
  id: string;
  messageId?: string;
  /** The route the notice takes (src/domain/reporters.ts); without one, mail for an address, else a Slack DM. */
  route?: ReporterRoute;
}

export interface ActivityDeps {
  slack: SlackPort;
  pager: PagerPort;
  incidents: IncidentPort;
  mail: MailPort;
  checks?: Record<string, RecoveryCheck>;
  classifier?: Classifier;
  /** Delivers JSON to a third party's webhook (idempotency key in the Idempotency-Key header). */
  webhooks?: (url: string, body: Record<string, unknown>, key: string) => Promise<void>;
  /** Where operator alerts go besides the log (an operations channel, the outbox). */
  operatorAlerts?: (text: string, key: string) => Promise<void>;
  /** Base URL of the Temporal Web UI, for links back to the case. */
  uiBaseUrl?: string;
  /** Signed acknowledgement links in third parties' notices (src/party-links.ts); none without. */
  partyLinks?: PartyLinkSettings;
  namespace?: string;
  /**
   * The measured agreement of a category's automated decisions with humans, over closed cases
   * (read from visibility by the worker); none: the category counts as not yet measured.
   */
  agreement?: (category: string) => Promise<MeasuredAgreement>;
  /** Where storeEvidence keeps payloads (src/evidence/store.ts); default: the store WARDEN_EVIDENCE_* configure, made on first use. */
  evidence?: EvidenceStore;
}

/** Every connector in dry-run mode: what would be sent is written to the outbox file. */
export function dryRunConnectors(outboxPath: string): Pick<ActivityDeps, 'slack' | 'pager' | 'incidents' | 'mail' | 'operatorAlerts' | 'webhooks'> {
  const outbox = new Outbox(outboxPath);
  return {
    slack: dryRunSlack(outbox),
    pager: dryRunPager(outbox),
    incidents: dryRunIncidents(outbox),
    mail: dryRunMail(outbox),
    operatorAlerts: async (text, key) => void (await outbox.deliver({ system: 'operator', kind: 'alert', key, body: { text } })),
    webhooks: async (url, body, key) => void (await outbox.deliver({ system: 'webhook', kind: 'post', key, body: { url, ...body } })),
  };
}

/** Used only for cases opened under a policy without `paging.priority`. */
const PAGER_SEVERITY: Record<string, PagerSeverity> = { SEV1: 'critical', SEV2: 'error', SEV3: 'warning', SEV4: 'info' };

type Party = Policy['parties'][number];

export type ReporterNotice = 'false-alarm' | 'received' | 'resolved' | 'needs-info';

export function createActivities(deps: ActivityDeps) {
  const checks = deps.checks ?? RECOVERY_CHECKS;
  const classifier = deps.classifier ?? rulesClassifier;
  const evidence = createEvidenceActivities(deps.evidence ?? defaultEvidenceStore());
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
    /** storeEvidence: a payload's canonical JSON into the evidence store, its ref back (src/activities/evidence.ts). */
    ...evidence,

    /** Categorize with the configured classifier (rules by default; an LLM with the rules as fallback). */
    async classifyReport(input: ClassifiableText, taxonomy: Taxonomy): Promise<Classification> {
      return classifier.classify(input, taxonomy);
    },

    /** Post the case card to the queue's channel the first time, update it in place after. */
    /** How often humans agreed with Warden's automated category, over closed cases of the category. */
    async measureAgreement(input: { category: string }): Promise<MeasuredAgreement | undefined> {
      return deps.agreement ? deps.agreement(input.category) : undefined;
    },

    async publishCaseCard(input: { card: CaseCard; channel: string; cardRef?: string; revision: number }): Promise<{ cardRef: string }> {
      const card = { ...input.card, link: input.card.link ?? linkTo(input.card.caseId) };
      // A card posted while Slack ran in the other mode (dry-run, then live) is posted afresh here.
      if (input.cardRef && cardRefMode(input.cardRef) === deps.slack.mode) {
        await deps.slack.updateCard(input.cardRef, card, `${card.caseId}:card:${input.revision}`);
        return { cardRef: input.cardRef };
      }
      const { ref } = await deps.slack.postCard(input.channel, card, `${card.caseId}:card`);
      return { cardRef: ref };
    },

    /** Page the owning queue's on-call (dedup key per case) or acknowledge/resolve that page. */
    async pageOnCall(input: { summary: CaseSummary; action: PagerAction; dedupKey?: string }): Promise<void> {
      const s = withLink(input.summary);
      await deps.pager.enqueue(
        {
          event_action: input.action,
          dedup_key: input.dedupKey ?? `warden-${s.caseId}`,
          ...(input.action === 'trigger'
            ? {
                payload: {
                  summary: headline(s).slice(0, 1024),
                  source: 'warden',
                  severity: s.pagePriority ?? PAGER_SEVERITY[s.severity ?? 'SEV4'],
                  custom_details: { caseId: s.caseId, category: s.category, queue: s.queue, stage: s.stage },
                },
                links: s.link ? [{ href: s.link, text: `Case ${s.caseId} in Temporal` }] : [],
              }
            : {}),
        },
        s.queue,
      );
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
      await deps.slack.postMessage(input.channel, text, `${input.summary.caseId}:escalation:${input.escalation}`);
    },

    /** Direct messages to the incident commanders (recovery decision, silent parties...): Slack, else mail. */
    async notifyCommanders(input: { caseId: string; commanders: Contact[]; text: string; key: string }): Promise<void> {
      for (const commander of input.commanders) {
        const key = `${input.caseId}:${input.key}:${commander.id}`;
        if (commander.slack) await deps.slack.directMessage(commander.slack, `${input.caseId}: ${input.text}`, key);
        else if (commander.email) await deps.mail.send({ to: commander.email, subject: `Warden ${input.caseId}`, text: input.text }, key);
        else await deps.slack.directMessage(commander.id, `${input.caseId}: ${input.text}`, key);
      }
    },

    /** Tell every reporter what happened to their report: by mail (threaded) for addresses, by Slack DM otherwise. */
    async notifyReporters(input: { caseId: string; title: string; reporters: ReporterContact[]; notice: ReporterNotice; text: string }): Promise<void> {
      const subject = {
        'false-alarm': 'Your security report: no action needed',
        received: 'Your security report: we are on it',
        resolved: 'Your security report: resolved, thank you',
        'needs-info': 'Your security report: we need a few details',
      }[input.notice];
      for (const reporter of input.reporters) {
        const key = `${input.caseId}:${input.notice}:${reporter.id}`;
        const route = reporter.route;
        if (route?.via === 'none') continue;
        if (route?.via === 'channel') await deps.slack.postMessage(route.to, `${subject} (${input.caseId}, reported by ${reporter.id}): ${input.text}`, key);
        else if (route?.via === 'slack-dm') await deps.slack.directMessage(route.to, `${subject} (${input.caseId}): ${input.text}`, key);
        else if (route?.via === 'mail' || reporter.id.includes('@'))
          await deps.mail.send({ to: route?.via === 'mail' ? route.to : reporter.id, subject: `${subject} (${input.caseId})`, text: input.text, inReplyTo: reporter.messageId }, key);
        else await deps.slack.directMessage(reporter.id, `${subject} (${input.caseId}): ${input.text}`, key);
      }
    },

    /** Tell a third party of the response plan, by its route: mail, a Slack (Connect) channel, or a webhook. */
    async notifyParty(input: { caseId: string; party: Party; kind: 'notice' | 'reminder'; text: string; key: string }): Promise<void> {
      const { party } = input;
      const key = `${input.caseId}:party:${party.id}:${input.key}`;
      const subject = `${input.kind === 'reminder' ? 'Reminder: ' : ''}security incident ${input.caseId}${party.acknowledgeWithin ? ' (acknowledgement requested)' : ''}`;
      // The link is made here, from the secret the worker holds: it is sent, never recorded in history.
      const link = party.acknowledgeWithin && deps.partyLinks ? partyAckUrl(deps.partyLinks, { caseId: input.caseId, party: party.id }) : undefined;
      // On a line of its own, nothing after it: mail clients take trailing punctuation into links.
      const ask = party.acknowledgeWithin ? ` Please acknowledge within ${party.acknowledgeWithin}.${link ? `\nAcknowledge receipt: ${link}` : ''}` : '';
      const text = `${input.text}\nYou receive: ${party.receives}.${ask}`;
      if (party.email) await deps.mail.send({ to: party.email, subject, text }, key);
      else if (party.slackChannel) await deps.slack.postMessage(party.slackChannel, `${subject}\n${text}`, key);
      else if (party.webhook) {
        if (!deps.webhooks) throw ApplicationFailure.nonRetryable('no webhook delivery configured', 'VendorRejected');
        await deps.webhooks(party.webhook, { caseId: input.caseId, party: party.id, kind: input.kind, subject, text, ...(link ? { acknowledgeUrl: link } : {}) }, key);
      }
    },

    /** A connector failed for good: tell the operators (log, outbox and, when Slack works, their channel). */
    async alertOperators(input: { caseId: string; what: string; cause: string }): Promise<void> {
      const text = `Warden could not complete "${input.what}" for case ${input.caseId}: ${input.cause}`;
      log.error('operator alert', { caseId: input.caseId, what: input.what, cause: input.cause });
      await deps.operatorAlerts?.(text, `${input.caseId}:alert:${input.what}`);
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
