/**
 * Who a reporter is, and the route a notice takes to reach them. People are told in their own
 * channel: an e-mail address by mail (threaded to their report), a Slack user by DM, a person
 * the policy names by the contact it gives. A machine source (a scanner, GuardDuty,
 * Alertmanager) is no one to DM: its notices go to the owning queue's channel, or nowhere, as
 * the policy says, and the case records which.
 */
import type { Policy } from './policy';

export type ReporterRoute =
  | { via: 'mail'; to: string }
  | { via: 'slack-dm'; to: string }
  | { via: 'channel'; to: string; because: string }
  | { via: 'none'; because: string };

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The route a notice to `reporter` takes; `queueChannel` is the case's owning queue's channel. */
export function reporterRoute(reporter: string, policy: Pick<Policy, 'people' | 'intake' | 'roles'>, queueChannel?: string): ReporterRoute {
  if (EMAIL.test(reporter)) return { via: 'mail', to: reporter };
  if (SLACK_USER.test(reporter)) return { via: 'slack-dm', to: reporter };
  const person = Object.hasOwn(policy.people, reporter) ? policy.people[reporter] : undefined;
  if (person?.slack) return { via: 'slack-dm', to: person.slack };
  if (person?.email) return { via: 'mail', to: person.email };
  const responder = Object.values(policy.roles).some((r) => r.members.includes(reporter));
  const because =
    person || responder ? `${reporter} has no Slack id or e-mail in the policy's people` : `${reporter} is a machine source, not a person`;
  if (policy.intake.machineReporterNotices === 'queue' && queueChannel) return { via: 'channel', to: queueChannel, because: `${because}: told in the owning queue's channel` };
  return { via: 'none', because: `${because}: no notice sent (intake.machineReporterNotices is ${policy.intake.machineReporterNotices}${queueChannel ? '' : ', and the case has no queue yet'})` };
}
