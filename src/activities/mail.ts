/** Mail to reporters: the false-alarm explanation, "we are on it", "resolved, thank you". */
import type { Outbox } from './outbox';

export interface MailPort {
  send(message: { to: string; subject: string; text: string; inReplyTo?: string }, key: string): Promise<void>;
}

export function dryRunMail(outbox: Outbox): MailPort {
  return {
    async send(message, key) {
      await outbox.deliver({ system: 'mail', kind: 'send', key, body: message });
    },
  };
}
