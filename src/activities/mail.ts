/** Mail to reporters: the false-alarm explanation, "we are on it", "resolved, thank you". */
import type { Outbox } from './outbox';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The reporter's original Message-ID: the reply is threaded to it (In-Reply-To and References). */
  inReplyTo?: string;
}

export interface MailPort {
  /** Send once per key; the key also makes the Message-ID, so a resent copy is recognisably the same mail. */
  send(message: MailMessage, key: string): Promise<void>;
}

export function dryRunMail(outbox: Outbox): MailPort {
  return {
    async send(message, key) {
      await outbox.deliver({ system: 'mail', kind: 'send', key, body: { ...message } });
    },
  };
}
