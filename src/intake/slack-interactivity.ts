/**
 * Slack interactivity: `POST /slack/interactivity`, where Slack sends the clicks on a case card's
 * buttons (block_actions). The request is verified first (v0 signature over the raw body, and a
 * timestamp within five minutes of now); a forged or stale request gets 401 and nothing happens.
 *
 * A verified click is answered 200 at once (Slack wants an answer within 3 seconds), then run as
 * the matching workflow Update on the case, as the clicking user: the Slack user id is mapped to
 * a Warden person through `policy.people`, so the policy's roles decide, exactly as for the CLI.
 * When the case refuses (the Update's validator says why) or the Update cannot be run, the user
 * is told in an ephemeral message through the payload's response_url.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import { type Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type Policy, personForSlackUser } from '../domain';
import { ACTION_ACKNOWLEDGE, ACTION_ESCALATE, ACTION_SIGNOFF, type ButtonValue, escapeSlack } from '../activities/slack';
import { acknowledgeUpdate, escalateUpdate, signOffUpdate, workflowIdFor } from '../workflows/definitions';
import { HttpError, readBody, send } from './http';

export interface SlackInteractivityOptions {
  client: Client;
  policy: Policy;
  /** The Slack app's signing secret. Never logged, never in an answer. */
  signingSecret: string;
  /** Accepted for symmetry with the intake; Updates go to the case's workflow wherever it runs. */
  taskQueue?: string;
  /** How long to wait for the case to accept or refuse a click (default 30s). */
  updateTimeoutMs?: number;
  /** Timeout of the ephemeral answer to response_url (default 5s). */
  responseTimeoutMs?: number;
  /** Which response_urls may be posted to (default: https on slack.com / slack-gov.com hosts). */
  responseUrlAllowed?: (url: URL) => boolean;
  /** The clock the request timestamp is judged by, in milliseconds (tests). */
  now?: () => number;
}

/** Slack's replay window: a request more than five minutes from now, either way, is refused. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

const SLACK_HOST = /(^|\.)slack(-gov)?\.com$/;
export const slackResponseUrl = (url: URL) => url.protocol === 'https:' && SLACK_HOST.test(url.hostname);

interface BlockAction {
  action_id?: string;
  value?: string;
  action_ts?: string;
}

interface InteractionPayload {
  type?: string;
  user?: { id?: string; username?: string };
  response_url?: string;
  actions?: BlockAction[];
}

type Verb = 'acknowledge' | 'escalate' | 'sign off';
const VERBS: Record<string, Verb> = { [ACTION_ACKNOWLEDGE]: 'acknowledge', [ACTION_ESCALATE]: 'escalate', [ACTION_SIGNOFF]: 'sign off' };

export function createSlackInteractivityHandler(options: SlackInteractivityOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { client, policy, signingSecret } = options;
  if (!signingSecret) throw new Error('Slack interactivity needs a signing secret');
  const now = options.now ?? Date.now;
  const updateTimeoutMs = options.updateTimeoutMs ?? 30_000;
  const responseTimeoutMs = options.responseTimeoutMs ?? 5_000;
  const responseUrlAllowed = options.responseUrlAllowed ?? slackResponseUrl;

  /** Verify, parse and acknowledge; the payload of a request that was answered 200, or undefined. */
  async function accept(req: IncomingMessage, res: ServerResponse): Promise<InteractionPayload | undefined> {
    try {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      const raw = await readBody(req);
      verify(raw, req.headers);
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') throw new HttpError(415, 'expected application/x-www-form-urlencoded');
      const field = new URLSearchParams(raw.toString('utf8')).get('payload');
      if (field === null) throw new HttpError(400, 'no payload field');
      let payload: unknown;
      try {
        payload = JSON.parse(field);
      } catch {
        throw new HttpError(400, 'payload is not valid JSON');
      }
      if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new HttpError(400, 'payload is not an object');
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return payload as InteractionPayload;
    } catch (err) {
      if (err instanceof HttpError) send(res, err.status, { error: err.message, reasons: err.reasons });
      else {
        console.error('slack interactivity error', err instanceof Error ? err.message : err);
        send(res, 500, { error: 'not processed' });
      }
      return undefined;
    }
  }

  function verify(raw: Buffer, headers: IncomingMessage['headers']): void {
    const signature = headers['x-slack-signature'];
    const timestamp = headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof timestamp !== 'string')
      throw new HttpError(401, 'not a Slack request: X-Slack-Signature and X-Slack-Request-Timestamp are required');
    if (!/^\d{1,12}$/.test(timestamp)) throw new HttpError(401, 'X-Slack-Request-Timestamp is not a Unix time in seconds');
    const ts = Number(timestamp);
    // Bolt's verifier refuses old timestamps only; one from the future is refused here.
    if (Math.abs(Math.floor(now() / 1000) - ts) > MAX_CLOCK_SKEW_SECONDS)
      throw new HttpError(401, `stale request: the timestamp is more than ${MAX_CLOCK_SKEW_SECONDS / 60} minutes from now`);
    try {
      verifySlackRequest({
        signingSecret,
        body: raw.toString('utf8'),
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
        nowMilliseconds: now(),
      });
    } catch (err) {
      throw new HttpError(401, (err as Error).message.replace(/^Failed to verify authenticity: /, 'request not verified: '));
    }
  }

  /** Tell the clicking user, only them, through response_url. Failures are logged, not thrown. */
  async function tell(payload: InteractionPayload, text: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(String(payload.response_url));
    } catch {
      console.error('slack interactivity: no usable response_url to answer on');
      return;
    }
    if (!responseUrlAllowed(url)) {
      console.error(`slack interactivity: response_url host ${url.hostname} is not allowed`);
      return;
    }
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: escapeSlack(text) }),
        signal: AbortSignal.timeout(responseTimeoutMs),
      });
      await res.arrayBuffer();
      if (!res.ok) console.error(`slack interactivity: response_url answered HTTP ${res.status}`);
    } catch (err) {
      // The URL is a capability (anyone holding it can post to the user): only its host is logged.
      console.error(`slack interactivity: response_url on ${url.hostname} failed: ${(err as Error).name}`);
    }
  }

  async function act(payload: InteractionPayload, action: BlockAction, verb: Verb): Promise<void> {
    const slackUser = String(payload.user?.id ?? '');
    let value: ButtonValue;
    try {
      value = JSON.parse(String(action.value)) as ButtonValue;
      if (typeof value?.caseId !== 'string' || !value.caseId) throw new Error('no case id');
      if (verb === 'sign off' && (typeof value.criterion !== 'string' || !value.criterion)) throw new Error('no criterion');
    } catch {
      await tell(payload, `Warden could not read that button (${verb}); use the CLI instead.`);
      return;
    }
    const caseId = value.caseId;
    if (!/^[UW][A-Z0-9]+$/.test(slackUser)) {
      await tell(payload, `Warden could not tell who clicked ${verb} on ${caseId}.`);
      return;
    }
    const actor = personForSlackUser(policy, slackUser);
    const handle = client.workflow.getHandle(workflowIdFor(caseId));
    // One Update per click: a redelivered click is the same Update, not a second one.
    const updateId = `slack-${slackUser}-${action.action_id}-${action.action_ts ?? Date.now()}`;
    const via = actor === slackUser ? slackUser : `${actor} (${slackUser})`;
    try {
      await client.withDeadline(Date.now() + updateTimeoutMs, () => {
        switch (verb) {
          case 'acknowledge':
            return handle.executeUpdate(acknowledgeUpdate, { args: [{ actor }], updateId });
          case 'escalate':
            return handle.executeUpdate(escalateUpdate, { args: [{ actor, reason: `escalated from Slack by ${via}` }], updateId });
          case 'sign off':
            return handle.executeUpdate(signOffUpdate, { args: [{ actor, criterion: value.criterion!, note: `signed off from Slack by ${via}` }], updateId });
        }
      });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        await tell(payload, `Warden refused to ${verb} ${caseId}: ${err.cause?.message ?? err.message}`);
        return;
      }
      if (err instanceof WorkflowNotFoundError) {
        await tell(payload, `Warden could not ${verb} ${caseId}: no open case with that id.`);
        return;
      }
      const timedOut = err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || /deadline/i.test((err as Error).message ?? '');
      console.error(`slack interactivity: ${verb} ${caseId} as ${actor} failed`, err instanceof Error ? err.message : err);
      await tell(
        payload,
        timedOut
          ? `Warden did not hear back from ${caseId} in time; your ${verb} may still apply. Check the case before trying again.`
          : `Warden could not ${verb} ${caseId} right now; try again in a moment.`,
      );
    }
  }

  return async (req, res) => {
    const payload = await accept(req, res);
    if (!payload || payload.type !== 'block_actions' || !Array.isArray(payload.actions)) return; // other interactions: acknowledged, ignored
    for (const action of payload.actions) {
      const verb = VERBS[String(action?.action_id)];
      if (verb) await act(payload, action, verb);
    }
  };
}
