/**
 * The dry-run outbox: when a connector has no credentials, what it would have sent is appended
 * to a JSON-lines file instead (one message a line). Every message carries the idempotency key
 * that the real vendor call would carry; a key already in the outbox is not written again, so the
 * outbox shows exactly what a retry-safe connector would have delivered.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface OutboxMessage {
  /** The system the message is for: slack, pagerduty, incidentio, mail. */
  system: string;
  /** What the call is (post-card, update-card, trigger, declare...). */
  kind: string;
  /** The idempotency or dedup key the real call would carry. */
  key: string;
  at: string;
  body: Record<string, unknown>;
}

export class Outbox {
  private seen?: Set<string>;
  private loading?: Promise<Set<string>>;

  constructor(readonly path: string) {}

  private async keys(): Promise<Set<string>> {
    if (this.seen) return this.seen;
    this.loading ??= (async () => {
      const seen = new Set<string>();
      try {
        for (const line of (await readFile(this.path, 'utf8')).split('\n')) {
          if (!line.trim()) continue;
          try {
            const msg = JSON.parse(line) as OutboxMessage;
            seen.add(`${msg.system}|${msg.key}`);
          } catch {
            // a torn last line from a crash: ignore it, the retry writes it whole
          }
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(dirname(this.path), { recursive: true });
      }
      this.seen = seen;
      return seen;
    })();
    return this.loading;
  }

  /** Write the message unless its key was already delivered; says which happened. */
  async deliver(message: Omit<OutboxMessage, 'at'>): Promise<{ delivered: boolean }> {
    const seen = await this.keys();
    const id = `${message.system}|${message.key}`;
    if (seen.has(id)) return { delivered: false };
    seen.add(id);
    const line = JSON.stringify({ ...message, at: new Date().toISOString() });
    await appendFile(this.path, `${line}\n`);
    return { delivered: true };
  }

  async read(): Promise<OutboxMessage[]> {
    try {
      return (await readFile(this.path, 'utf8'))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as OutboxMessage);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
