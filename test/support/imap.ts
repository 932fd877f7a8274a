/**
 * A real IMAP server for tests: a throwaway Dovecot on loopback (scripts/dovecot-test-server),
 * and helpers to put messages in it and read their flags back with imapflow.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { ROOT } from './server';

const run = promisify(execFile);
const SCRIPT = resolve(ROOT, 'scripts/dovecot-test-server');

export interface TestImapServer {
  host: string;
  port: number;
  user: string;
  pass: string;
  /** The instance's folder (config, logs, mail). */
  dir: string;
  /** The poller's `imap` option for this server. */
  imap: { host: string; port: number; secure: false; auth: { user: string; pass: string } };
  stop(): Promise<void>;
}

export async function startImapServer(): Promise<TestImapServer> {
  const user = 'phishing@corp.example';
  const pass = `pw-${randomBytes(12).toString('hex')}`;
  const { stdout } = await run(SCRIPT, ['start'], {
    env: { ...process.env, DOVECOT_TEST_USER: user, DOVECOT_TEST_PASS: pass },
    timeout: 300_000, // may install Dovecot first
  });
  const [portLine, dir] = stdout.trim().split('\n');
  const port = Number(portLine);
  if (!Number.isInteger(port) || !dir) throw new Error(`dovecot-test-server printed no port and folder: ${stdout}`);
  const host = '127.0.0.1';
  return {
    host,
    port,
    user,
    pass,
    dir,
    imap: { host, port, secure: false, auth: { user, pass } },
    stop: async () => {
      await run(SCRIPT, ['stop', dir], { timeout: 30_000 });
    },
  };
}

async function withClient<T>(server: TestImapServer, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: server.user, pass: server.pass }, logger: false, disableAutoIdle: true });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** APPEND each message (an .eml's bytes) to the mailbox, unseen; their UIDs, in order. */
export async function appendMessages(server: TestImapServer, messages: (Buffer | string)[], mailbox = 'INBOX'): Promise<number[]> {
  return withClient(server, async (client) => {
    const uids: number[] = [];
    for (const message of messages) {
      const appended = await client.append(mailbox, message, []);
      if (!appended || appended.uid === undefined) throw new Error('APPEND did not return a UID (no UIDPLUS?)');
      uids.push(appended.uid);
    }
    return uids;
  });
}

/** Every message's flags by UID. */
export async function flagsByUid(server: TestImapServer, mailbox = 'INBOX'): Promise<Map<number, Set<string>>> {
  return withClient(server, async (client) => {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const out = new Map<number, Set<string>>();
      for (const msg of await client.fetchAll('1:*', { uid: true, flags: true })) out.set(msg.uid, msg.flags ?? new Set());
      return out;
    } finally {
      lock.release();
    }
  });
}

/** The mailbox's UIDVALIDITY. */
export async function uidValidity(server: TestImapServer, mailbox = 'INBOX'): Promise<bigint> {
  return withClient(server, async (client) => {
    const status = await client.status(mailbox, { uidValidity: true });
    if (!status || status.uidValidity === undefined) throw new Error('no UIDVALIDITY');
    return status.uidValidity;
  });
}

/** Remove \Seen from every message (to check that marks, not flags alone, keep a message from being re-filed). */
export async function markAllUnseen(server: TestImapServer, mailbox = 'INBOX'): Promise<void> {
  await withClient(server, async (client) => {
    const lock = await client.getMailboxLock(mailbox);
    try {
      await client.messageFlagsRemove('1:*', ['\\Seen']);
    } finally {
      lock.release();
    }
  });
}
