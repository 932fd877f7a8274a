/**
 * Slack: case cards in the owning queue's channel (posted once, then updated in place),
 * escalation summaries with the timeline, and direct messages to people.
 */
import type { Outbox } from './outbox';

export interface SlackPort {
  /** Post a message; `key` makes a retried post return the first post's ref. */
  post(channel: string, text: string, key: string): Promise<{ ref: string }>;
  update(ref: string, text: string, key: string): Promise<void>;
  directMessage(user: string, text: string, key: string): Promise<void>;
}

/** Without a Slack token: what would be sent goes to the outbox. */
export function dryRunSlack(outbox: Outbox): SlackPort {
  return {
    async post(channel, text, key) {
      const ref = `${channel}/${key}`;
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage', key, body: { channel, text, ref } });
      return { ref };
    },
    async update(ref, text, key) {
      await outbox.deliver({ system: 'slack', kind: 'chat.update', key, body: { ref, text } });
    },
    async directMessage(user, text, key) {
      await outbox.deliver({ system: 'slack', kind: 'chat.postMessage.dm', key, body: { user, text } });
    },
  };
}
