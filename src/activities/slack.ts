/**
 * Slack: case cards in the owning queue's channel (posted once, then updated in place),
 * escalation summaries with the timeline, and direct messages to people.
 */
import { type CaseSummary, cardText } from './messages';
import type { Outbox } from './outbox';

/** What a case card shows; `signOff` lists the human recovery criteria still open (one button each). */
export interface CaseCard extends CaseSummary {
  signOff: { id: string; description: string }[];
}

export interface SlackPort {
  /** Post the card once per key: a retry finds the first post instead of posting again. Ref is "channel/ts". */
  postCard(channel: string, card: CaseCard, key: string): Promise<{ ref: string }>;
  /** Update the posted card in place. */
  updateCard(ref: string, card: CaseCard, key: string): Promise<void>;
  /** A plain message (e.g. the escalation summary and timeline) in a channel, once per key. */
  postMessage(channel: string, text: string, key: string): Promise<{ ref: string }>;
  /** A direct message to a Slack user id (U…), once per key. */
  directMessage(user: string, text: string, key: string): Promise<void>;
}

/** Without a Slack token: what would be sent goes to the outbox. */
export function dryRunSlack(outbox: Outbox): SlackPort {
  return {
    async postCard(channel, card, key) {
      const ref = `${channel}/${key}`;
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage', key, body: { channel, text: cardText(card), ref } });
      return { ref };
    },
    async updateCard(ref, card, key) {
      await outbox.deliver({ system: 'slack', kind: 'chat.update', key, body: { ref, text: cardText(card) } });
    },
    async postMessage(channel, text, key) {
      const ref = `${channel}/${key}`;
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage', key, body: { channel, text, ref } });
      return { ref };
    },
    async directMessage(user, text, key) {
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage.dm', key, body: { user, text } });
    },
  };
}
