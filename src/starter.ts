/**
 * The intake: an HTTP server that turns reports into case workflows (signalWithStart).
 * Wiring only: configuration, policy check, Temporal client, server, shutdown.
 */
import { loadConfig, loadPolicyFile, mailAuthservIds } from './config';
import { connectClient } from './temporal';
import { startCodecServerFromEnv } from './codec';
import { ReportFiler } from './intake/filing';
import { TASK_QUEUE } from './workflows/definitions';
import { describeEvidenceStore, evidenceStoreFromConfig } from './evidence/store';
import { startMailboxPoller } from './intake/mailbox';
import { createIntakeServer } from './intake/server';
import type { Report } from './domain';
import { webhookSources } from './intake/webhooks';
import { apiAuthFromEnv } from './api/auth';
import { partyLinksFromEnv } from './party-links';
import { closeServer, collectProcessMetrics, countedFiling, createJsonLogger, errorFields, intakeInFlight, intakeRegistry, type JsonLogger, trackInFlight } from './observability';

async function main(): Promise<void> {
  const config = loadConfig();
  const policy = loadPolicyFile(config.policyPath);
  const logger = createJsonLogger({ level: process.env.WARDEN_LOG_LEVEL, fields: { component: 'intake' } });
  const { client, connection } = await connectClient();
  // With the Slack app's signing secret, card buttons reach Warden at POST /slack/interactivity.
  const list = (value?: string) => value?.split(',').map((v) => v.trim()).filter(Boolean);
  const sources = webhookSources({
    signedSecrets: list(process.env.WARDEN_WEBHOOK_SECRETS),
    alertmanagerToken: list(process.env.WARDEN_ALERTMANAGER_TOKEN),
    toolToken: list(process.env.WARDEN_TOOL_TOKEN),
    splunkToken: list(process.env.WARDEN_SPLUNK_TOKEN),
  });
  // Every report's full canonical JSON goes to the evidence store before it is signalled (src/intake/filing.ts).
  const evidence = evidenceStoreFromConfig(config);
  logger.info(`warden intake: evidence store ${describeEvidenceStore(evidence)}`);
  const filer = new ReportFiler(client, policy, TASK_QUEUE, { evidence, logger });
  // The HTTP API under /api/v1, when WARDEN_API_TOKENS or WARDEN_OIDC_* configure who may call it.
  const api = apiAuthFromEnv();
  const server = createIntakeServer({
    client,
    policy,
    sources,
    filer,
    // Slack: card buttons and the "report a security concern" shortcut (needs the signing secret; the shortcut also the bot token).
    slackSigningSecret: process.env.SLACK_SIGNING_SECRET,
    slackBotToken: process.env.SLACK_BOT_TOKEN,
    slackApiUrl: process.env.SLACK_API_URL,
    api,
    // Third parties acknowledge by the signed link in their notice (same secret as the worker's).
    partyLinks: partyLinksFromEnv(),
    logger,
  });
  // GET /metrics (Warden's intake counters and process metrics), /readyz, /healthz; requests in flight for shutdown.
  collectProcessMetrics(intakeRegistry);
  const inFlight = trackInFlight(server, (n) => intakeInFlight.set(n));
  server.listen(config.httpPort, config.httpHost, () =>
    logger.info(`warden intake: http://${config.httpHost}:${config.httpPort} (POST /webhooks/generic${api ? ', API /api/v1' : ''}), policy ${policy.version}`, {
      policyVersion: policy.version,
    }),
  );
  const mailbox = mailboxFromEnv(countedFiling('mailbox', filer.file), logger);
  // With WARDEN_CODEC_KEYS: the Web UI's codec endpoint (--ui-codec-endpoint), on its own port.
  const codecServer = startCodecServerFromEnv(config.httpHost);
  // Graceful shutdown: stop accepting, let requests in flight finish (each answers once its report is
  // durably filed) up to WARDEN_SHUTDOWN_GRACE_MS, stop the mailbox, then close the connection.
  const graceMs = Number(process.env.WARDEN_SHUTDOWN_GRACE_MS ?? 10_000);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, inFlight: inFlight.count(), graceMs });
    codecServer?.close();
    setTimeout(() => process.exit(1), graceMs + 5_000).unref();
    void (async () => {
      const [finished] = await Promise.all([closeServer(server, graceMs), mailbox?.stop()]);
      if (!finished) logger.warn('shutdown deadline passed: requests still in flight were cut', { graceMs });
      await connection.close();
      logger.info('stopped');
      process.exit(0);
    })().catch((err) => {
      logger.error('shutdown failed', errorFields(err));
      process.exit(1);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The security mailbox poller, when WARDEN_IMAP_HOST is set. */
function mailboxFromEnv(file: (report: Report) => Promise<unknown>, logger: JsonLogger, env = process.env) {
  if (!env.WARDEN_IMAP_HOST) return undefined;
  const port = Number(env.WARDEN_IMAP_PORT ?? 993);
  const poller = startMailboxPoller({
    imap: {
      host: env.WARDEN_IMAP_HOST,
      port,
      secure: env.WARDEN_IMAP_SECURE ? env.WARDEN_IMAP_SECURE === 'true' : port === 993,
      auth: { user: env.WARDEN_IMAP_USER ?? '', pass: env.WARDEN_IMAP_PASSWORD ?? '' },
    },
    mailbox: env.WARDEN_IMAP_MAILBOX,
    address: env.WARDEN_MAILBOX_ADDRESS,
    internalDomains: env.WARDEN_MAILBOX_INTERNAL_DOMAINS?.split(',').map((d) => d.trim()).filter(Boolean),
    // Our own mail servers' authserv-ids: only their Authentication-Results verify a sender.
    authservIds: mailAuthservIds(env),
    intervalMs: env.WARDEN_IMAP_POLL_MS ? Number(env.WARDEN_IMAP_POLL_MS) : undefined,
    file,
  });
  logger.info(`warden intake: reading the security mailbox ${env.WARDEN_IMAP_USER}@${env.WARDEN_IMAP_HOST}`);
  return poller;
}

main().catch((err) => {
  createJsonLogger({ fields: { component: 'intake' } }).error('warden intake: could not start', errorFields(err));
  process.exit(1);
});
