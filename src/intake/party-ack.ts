/**
 * GET/POST /parties/acknowledge?t=<token>: a third party acknowledges an incident notice by link.
 * GET only shows what is being acknowledged and a button: mail scanners and link previews fetch
 * links, and must not acknowledge for the party. POST (the button) signals the party's
 * coordination workflow, which records the acknowledgement on the case.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Policy } from '../domain';
import { type PartyLinkSettings, type PartyRef, readPartyAckToken } from '../party-links';
import { partyAcknowledgedSignal, partyWorkflowId } from '../workflows/definitions';
import { readBody } from './http';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escape(title)}</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem}</style></head>` +
      `<body><h1>${escape(title)}</h1>${body}</body></html>`,
  );
}

/** A handler for the acknowledgement route; answers every request to PARTY_ACK_PATH. */
export function createPartyAckHandler(options: { client: Client; policy: Policy; links: PartyLinkSettings }) {
  const { client, policy, links } = options;
  const partyName = (id: string) => policy.parties.find((p) => p.id === id)?.name ?? id;
  const gone = (res: ServerResponse, ref: PartyRef) =>
    page(res, 410, 'No acknowledgement needed', `<p>Incident ${escape(ref.caseId)} no longer waits for an acknowledgement from ${escape(partyName(ref.party))}: it was acknowledged or released already, or the case is closed.</p>`);

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const form = req.method === 'POST' ? new URLSearchParams((await readBody(req, 8_192)).toString('utf8')) : undefined;
    const token = form?.get('t') ?? url.searchParams.get('t') ?? '';
    const ref = readPartyAckToken(links.secret, token);
    if (!ref) return page(res, 401, 'This link is not valid', '<p>The acknowledgement link is incomplete or was altered. Please use the link from the notice as it was sent, or reply to the notice.</p>');
    const handle = client.workflow.getHandle(partyWorkflowId(ref.caseId, ref.party));
    const running = await handle.describe().then(
      (d) => d.status.name === 'RUNNING',
      (err) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
    if (!running) return gone(res, ref);

    if (req.method === 'GET')
      return page(
        res,
        200,
        `Acknowledge incident ${ref.caseId}`,
        `<p>${escape(partyName(ref.party))}: please confirm that you received the notice of security incident ${escape(ref.caseId)}.</p>` +
          `<form method="post" action="${url.pathname}"><input type="hidden" name="t" value="${escape(token)}">` +
          `<p><label>Your name (optional)<br><input name="name" maxlength="100" autocomplete="name"></label></p>` +
          `<button type="submit">Acknowledge receipt</button></form>`,
      );

    const name = (form?.get('name') ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, 100);
    try {
      await handle.signal(partyAcknowledgedSignal, { by: `${ref.party} (by link)`, note: name ? `acknowledged by ${name}` : 'acknowledged by link' });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return gone(res, ref);
      throw err;
    }
    page(res, 200, 'Thank you', `<p>Your acknowledgement of incident ${escape(ref.caseId)} is recorded. The incident commander will be in touch.</p>`);
  };
}
