/**
 * Slack interactivity: `POST /slack/interactivity`, where Slack sends the clicks on a case card's
 * buttons (block_actions), the "Report a security concern" shortcuts and the submitted report
 * form. Every request is verified first (v0 signature over the raw body, and a timestamp within
 * five minutes of now); a forged or stale request gets 401 and nothing happens.
 *
 * A verified click is answered 200 at once (Slack wants an answer within 3 seconds), then run as
 * the matching workflow Update on the case, as the clicking user: the Slack user id is mapped to
 * a Warden person through `policy.people`, so the policy's roles decide, exactly as for the CLI.
 * When the case refuses (the Update's validator says why) or the Update cannot be run, the user
 * is told in an ephemeral message through the payload's response_url.
 *
 * Reporting (slack-report.ts has the form and the mapping):
 *   - the global shortcut `warden_report` and the message shortcut `warden_report_message` are
 *     answered 200 first, then the form is opened with views.open. A trigger_id expires 3 seconds
 *     after Slack issued it and Slack also wants the HTTP answer within those 3 seconds; answering
 *     first keeps the answer independent of the Web API's latency, and views.open then uses what
 *     is left of the trigger's life (the call's timeout is the trigger's lifetime; it is not
 *     retried, an expired trigger cannot succeed). From a message shortcut, the message's permalink
 *     is fetched afterwards (chat.getPermalink) and put into the open form with views.update
 *     (guarded by the view's hash), so it never delays the form. When the form cannot be opened,
 *     a message shortcut's user is told through response_url; a global shortcut has none, so it
 *     is logged.
 *   - the form's view_submission is answered after filing, because the answer carries the
 *     outcome: `errors` (keyed by input block id) for a form that does not validate, `update`
 *     with a short "Reported as case WRD-…" view once filed, and `errors` asking to submit again
 *     when filing fails or is not confirmed in time (Slack waits 3 seconds for the answer, so the
 *     filing is given `submitTimeoutMs`, 2.5 s by default). The form stays open with the user's
 *     text; the report id is derived from the view id and the answers, so submitting the same form
 *     again after a late success is folded into the case as the same report, not a second one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import { LogLevel, WebClient } from '@slack/web-api';
import { type Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type Policy, personForSlackUser, type Report } from '../domain';
import { ACTION_ACKNOWLEDGE, ACTION_ESCALATE, ACTION_SIGNOFF, type ButtonValue, classifySlackError, escapeSlack } from '../activities/slack';
import { acknowledgeUpdate, escalateUpdate, signOffUpdate, workflowIdFor } from '../workflows/definitions';
import { type FileReport, type FilingResult, fileReport } from './filing';
import { HttpError, readBody, send } from './http';
import {
  confirmationView,
  FIELD,
  parseReportSubmission,
  REPORT_VIEW,
  type ReportedMessage,
  reportedMessageOf,
  reportModal,
  SHORTCUT_REPORT,
  SHORTCUT_REPORT_MESSAGE,
  usablePermalink,
} from './slack-report';
import { normalizedReport } from './sources';

export interface SlackInteractivityOptions {
  client: Client;
  policy: Policy;
  /** The Slack app's signing secret. Never logged, never in an answer. */
  signingSecret: string;
  /** Where reported cases run when no `file` is given; clicks' Updates go to the case's workflow wherever it runs. */
  taskQueue?: string;
  /** How long to wait for the case to accept or refuse a click (default 30s). */
  updateTimeoutMs?: number;
  /** Timeout of the ephemeral answer to response_url (default 5s). */
  responseTimeoutMs?: number;
  /** Which response_urls may be posted to (default: https on slack.com / slack-gov.com hosts). */
  responseUrlAllowed?: (url: URL) => boolean;
  /** The clock the request timestamp is judged by, in milliseconds (tests). */
  now?: () => number;
  /**
   * The bot token (xoxb-…) for views.open, views.update and chat.getPermalink: without it the
   * report shortcuts cannot open the form (they are logged and, from a message, the user is told).
   * Never logged, never in an answer.
   */
  botToken?: string;
  /** Web API base URL, e.g. a proxy or http://127.0.0.1:PORT/api/ for a simulator. Default Slack's. */
  apiUrl?: string;
  /** Timeout of each of those Web API calls (default 3s: a trigger_id lives 3 seconds). */
  apiTimeoutMs?: number;
  /** Files a submitted report (the intake passes its group-committing filer); default fileReport on `client`. */
  file?: FileReport;
  /** How long a submitted form waits for its filing before the user is asked to submit again (default 2.5s). */
  submitTimeoutMs?: number;
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
  user?: { id?: string; username?: string; team_id?: string };
  team?: { id?: string } | null;
  response_url?: string;
  actions?: BlockAction[];
  /** Shortcuts. */
  callback_id?: string;
  trigger_id?: string;
  /** Message shortcuts. */
  channel?: { id?: string };
  message_ts?: string;
  message?: { ts?: string; text?: string; user?: string };
  /** view_submission. */
  view?: { id?: string; callback_id?: string; private_metadata?: string; state?: { values?: unknown } };
}

class FilingTimeout extends Error {}

type Verb = 'acknowledge' | 'escalate' | 'sign off';
const VERBS: Record<string, Verb> = { [ACTION_ACKNOWLEDGE]: 'acknowledge', [ACTION_ESCALATE]: 'escalate', [ACTION_SIGNOFF]: 'sign off' };

export function createSlackInteractivityHandler(options: SlackInteractivityOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { client, policy, signingSecret } = options;
  if (!signingSecret) throw new Error('Slack interactivity needs a signing secret');
  const now = options.now ?? Date.now;
  const updateTimeoutMs = options.updateTimeoutMs ?? 30_000;
  const responseTimeoutMs = options.responseTimeoutMs ?? 5_000;
  const responseUrlAllowed = options.responseUrlAllowed ?? slackResponseUrl;
  const apiTimeoutMs = options.apiTimeoutMs ?? 3_000;
  const submitTimeoutMs = options.submitTimeoutMs ?? 2_500;
  const file: FileReport = options.file ?? ((report) => fileReport(client, policy, report, options.taskQueue));
  const web = options.botToken
    ? new WebClient(options.botToken, {
        slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
        timeout: apiTimeoutMs,
        // A trigger_id cannot be retried past its 3 seconds; the other calls are best effort.
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        logLevel: LogLevel.ERROR,
      })
    : undefined;

  /** Verify and parse; the payload and raw body of a verified request, or undefined once an error was answered. */
  async function receive(req: IncomingMessage, res: ServerResponse): Promise<{ payload: InteractionPayload; raw: Buffer } | undefined> {
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
      return { payload: payload as InteractionPayload, raw };
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

  /** The empty 200 Slack expects for everything but a view_submission it should act on. */
  function acknowledge(res: ServerResponse): void {
    res.writeHead(200, { 'content-length': 0 });
    res.end();
  }

  // ── Reporting ─────────────────────────────────────────────────────────────────────────────

  /** Open the report form on the shortcut's trigger; for a message, then add its permalink. */
  async function openReportForm(payload: InteractionPayload): Promise<void> {
    const fromMessage = payload.type === 'message_action';
    const message = fromMessage ? reportedMessageOf(payload) : undefined;
    if (fromMessage && !message) console.error('slack interactivity: a message shortcut without a usable channel id and ts; opening the form without the message');
    if (!web) {
      console.error('slack interactivity: a report shortcut arrived, but no bot token is configured (SLACK_BOT_TOKEN): the form cannot be opened');
      if (fromMessage) await tell(payload, 'Reporting from Slack is not set up yet (Warden has no bot token). Please report to the security team another way.');
      return;
    }
    const trigger = payload.trigger_id;
    if (typeof trigger !== 'string' || !trigger || trigger.length > 255) {
      console.error('slack interactivity: a report shortcut without a trigger_id');
      return;
    }
    let opened: { id?: string; hash?: string } | undefined;
    try {
      opened = (await web.views.open({ trigger_id: trigger, view: reportModal(message) })).view;
    } catch (err) {
      console.error(`slack interactivity: the report form did not open: ${classifySlackError('views.open', err, apiTimeoutMs).message}`);
      if (fromMessage) await tell(payload, 'Warden could not open the report form just now. Please try the shortcut again.');
      return;
    }
    if (message && opened?.id) await addPermalink(message, opened.id, opened.hash);
  }

  /** Best effort: the form works without the link (the description keeps channel id and ts). */
  async function addPermalink(message: ReportedMessage, viewId: string, hash: string | undefined): Promise<void> {
    let call = 'chat.getPermalink';
    try {
      const found = await web!.chat.getPermalink({ channel: message.channel, message_ts: message.ts });
      const permalink = usablePermalink(found.permalink);
      if (!permalink) return;
      call = 'views.update';
      // The hash makes Slack refuse the update if the view changed meanwhile (e.g. already submitted).
      await web!.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view: reportModal({ ...message, permalink }) });
    } catch (err) {
      console.error(`slack interactivity: the report form keeps no permalink: ${classifySlackError(call, err, apiTimeoutMs).message}`);
    }
  }

  /** Answer a view_submission with a response_action (Slack shows it in the open modal). */
  function respond(res: ServerResponse, body: Record<string, unknown>): void {
    if (res.headersSent) return;
    send(res, 200, body);
  }

  const tryAgain = (text: string) => ({ response_action: 'errors', errors: { [FIELD.whatHappened]: text } });

  /** File the submitted form and answer with the outcome; nothing fails silently. */
  async function submitReport(payload: InteractionPayload, raw: Buffer, res: ServerResponse): Promise<void> {
    const parsed = parseReportSubmission({
      user: payload.user?.id,
      team: payload.team?.id ?? payload.user?.team_id,
      viewId: payload.view?.id,
      values: payload.view?.state?.values,
      privateMetadata: payload.view?.private_metadata,
      now: new Date(),
    });
    if (!parsed.ok) return respond(res, { response_action: 'errors', errors: parsed.errors });
    if (parsed.metadataUnreadable) console.error('slack interactivity: a report form came back with unreadable private_metadata; filing it without the message reference');

    let report: Report;
    try {
      // The counts are the adapter's own facts: on the Report, never through ReportInput.
      report = { ...normalizedReport(parsed.input, raw), indicatorCounts: parsed.indicatorCounts };
    } catch (err) {
      const reasons = err instanceof HttpError ? err.reasons.join('; ') : '';
      console.error(`slack interactivity: a report form did not make a valid report: ${reasons || (err as Error).message}`);
      return respond(res, tryAgain(`Warden could not accept this report${reasons ? `: ${reasons.slice(0, 200)}` : ''}.`));
    }
    if (parsed.reportId) report = { ...report, reportId: parsed.reportId };

    const filing = file(report);
    let timer: NodeJS.Timeout | undefined;
    try {
      const filed = await Promise.race<FilingResult>([
        filing,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new FilingTimeout()), submitTimeoutMs);
        }),
      ]);
      return respond(res, { response_action: 'update', view: confirmationView(filed) });
    } catch (err) {
      if (err instanceof FilingTimeout) {
        console.error(`slack interactivity: the report from ${report.reporter} was not confirmed within ${submitTimeoutMs}ms; the user was asked to submit again`);
        // It may still land: say so in the log, so the operators can match it.
        filing.then(
          (late) => console.error(`slack interactivity: the report from ${report.reporter} was filed late, on ${late.caseId}`),
          (lateErr) => console.error(`slack interactivity: the report from ${report.reporter} was not filed: ${(lateErr as Error)?.message ?? lateErr}`),
        );
        return respond(res, tryAgain('Warden did not get a confirmation in time. Please press Report again: if the first try went through, it will not be filed twice.'));
      }
      console.error(`slack interactivity: the report from ${report.reporter} was not filed`, err instanceof Error ? err.message : err);
      return respond(res, tryAgain('Warden could not file this report just now. Your text is still here: please press Report again in a minute.'));
    } finally {
      clearTimeout(timer);
    }
  }

  return async (req, res) => {
    const received = await receive(req, res);
    if (!received) return;
    const { payload, raw } = received;
    if (payload.type === 'view_submission' && payload.view?.callback_id === REPORT_VIEW) {
      try {
        return await submitReport(payload, raw, res);
      } catch (err) {
        console.error('slack interactivity: report submission error', err instanceof Error ? err.message : err);
        return respond(res, tryAgain('Warden could not file this report just now. Please press Report again in a minute.'));
      }
    }
    acknowledge(res); // other interactions: acknowledged first; unknown ones are ignored
    if (payload.type === 'shortcut' && payload.callback_id === SHORTCUT_REPORT) return openReportForm(payload);
    if (payload.type === 'message_action' && payload.callback_id === SHORTCUT_REPORT_MESSAGE) return openReportForm(payload);
    if (payload.type !== 'block_actions' || !Array.isArray(payload.actions)) return;
    for (const action of payload.actions) {
      const verb = VERBS[String(action?.action_id)];
      if (verb) await act(payload, action, verb);
    }
  };
}
