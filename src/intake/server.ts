/**
 * The intake HTTP server: health, and one route per report source. A route verifies and parses
 * its source into a Report, then files it; nothing is started for a request that is refused.
 */
import { createServer, type Server } from 'node:http';
import { PARTY_ACK_PATH, type PartyLinkSettings } from '../party-links';
import { createPartyAckHandler } from './party-ack';
import type { Client } from '@temporalio/client';
import type { Policy } from '../domain';
import { ReportFiler } from './filing';
import type { EvidenceStore } from '../evidence/store';
import { HttpError, parseJson, readBody, send } from './http';
import { normalizedReport, type WebhookSource } from './sources';
import { createSlackInteractivityHandler } from './slack-interactivity';
import type { ApiAuthConfig } from '../api/auth';
import { createApiRouter } from '../api/router';
import { countedFiling, countFiled, countRefused, createJsonLogger, errorFields, intakeRegistry, intakeSource, type JsonLogger, type ReadinessCheck, sendMetrics, sendReadiness, temporalReadiness } from '../observability';

export interface IntakeOptions {
  client: Client;
  policy: Policy;
  taskQueue?: string;
  /**
   * The Slack app's signing secret; with it, the server takes button clicks and the "Report a
   * security concern" shortcuts and form at POST /slack/interactivity.
   */
  slackSigningSecret?: string;
  /** The bot token the report shortcuts open their form with (views.open); without it they cannot. */
  slackBotToken?: string;
  /** The Slack Web API base URL (default Slack's). */
  slackApiUrl?: string;
  /** Further report sources (tool webhooks), each on its own path. */
  sources?: WebhookSource[];
  /** The filer to share with other sources (the mailbox); one is made when absent. */
  filer?: ReportFiler;
  /** The evidence store for the filer made here when none is given (src/evidence/store.ts; default: WARDEN_EVIDENCE_*). */
  evidence?: EvidenceStore;
  /** GET /readyz: default, Temporal answers getSystemInfo (cached a few seconds). */
  readiness?: ReadinessCheck;
  /** The structured log (default: JSON lines on stdout, secrets redacted). */
  logger?: JsonLogger;
  /** The HTTP API's credentials (src/api); without any, /api/v1 is not served. */
  api?: ApiAuthConfig;
  /** Third parties' acknowledgement links (src/party-links.ts); without, the route is not served. */
  partyLinks?: PartyLinkSettings;
}

export function createIntakeServer(options: IntakeOptions): Server {
  const { client, policy, taskQueue, slackSigningSecret, slackBotToken, slackApiUrl, sources = [] } = options;
  const byPath = new Map(sources.map((source) => [source.path, source]));
  // One filer for every route (and the mailbox, when it shares it): group commit across requests.
  const filer = options.filer ?? new ReportFiler(client, policy, taskQueue, { evidence: options.evidence, logger: options.logger });
  const slack = slackSigningSecret
    ? createSlackInteractivityHandler({ client, policy, signingSecret: slackSigningSecret, taskQueue, botToken: slackBotToken, apiUrl: slackApiUrl, file: countedFiling('slack', filer.file) })
    : undefined;
  // Observability: readiness, metrics, the structured error log.
  const readiness = options.readiness ?? temporalReadiness(client);
  const logger = options.logger ?? createJsonLogger({ level: process.env.WARDEN_LOG_LEVEL, fields: { component: 'intake' } });
  const routeSource = (path: string) => (path === '/webhooks/generic' || byPath.has(path) || (slack && path === '/slack/interactivity') ? intakeSource(path) : 'none');
  const api = createApiRouter({ client, policy, auth: options.api });
  const partyAck = options.partyLinks ? createPartyAckHandler({ client, policy, links: options.partyLinks }) : undefined;
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://intake');
    try {
      if (api && url.pathname.startsWith('/api/')) return await api(req, res, url);
      if (partyAck && url.pathname === PARTY_ACK_PATH) return await partyAck(req, res, url);
      if (url.pathname === '/healthz' && req.method === 'GET') return send(res, 200, { status: 'ok', policyVersion: policy.version });
      if (url.pathname === '/readyz' && req.method === 'GET') return await sendReadiness(res, readiness);
      if (url.pathname === '/metrics' && req.method === 'GET') return await sendMetrics(res, intakeRegistry);
      if (url.pathname === '/webhooks/generic') {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST');
        // Warden's own report JSON (README, "The generic report"): validated with the reasons per field.
        const raw = await readBody(req);
        const report = normalizedReport(parseJson(raw), raw);
        const filed = await filer.file(report);
        countFiled('generic', filed);
        return send(res, 202, filed);
      }
      const source = byPath.get(url.pathname);
      if (source) {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST');
        const reports = await source.parse(await readBody(req), req.headers, url);
        const filed = await Promise.all(reports.map((report) => filer.file(report)));
        countFiled(intakeSource(url.pathname), filed);
        return send(res, 202, { reports: filed });
      }
      if (slack && url.pathname === '/slack/interactivity') {
        if (req.method !== 'POST') throw new HttpError(405, 'use POST');
        return await slack(req, res);
      }
      throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    } catch (err) {
      const source = routeSource(url.pathname);
      if (source !== 'none') countRefused(source, err instanceof HttpError ? err.status : 503);
      if (err instanceof HttpError) return send(res, err.status, { error: err.message, reasons: err.reasons });
      logger.error('intake error', { path: url.pathname, ...errorFields(err) });
      // Temporal unreachable or similar: the sender should retry, nothing was accepted.
      return send(res, 503, { error: 'report not accepted; retry later' });
    }
  });
}
