/**
 * The intake: an HTTP server that turns reports into case workflows (signalWithStart).
 * Wiring only: configuration, policy check, Temporal client, server, shutdown.
 */
import { loadConfig, loadPolicyFile } from './config';
import { connectClient } from './temporal';
import { ReportFiler } from './intake/filing';
import { startMailboxPoller } from './intake/mailbox';
import { createIntakeServer } from './intake/server';
import type { Report } from './domain';
import { webhookSources } from './intake/webhooks';

async function main(): Promise<void> {
  const config = loadConfig();
  const policy = loadPolicyFile(config.policyPath);
  const { client, connection } = await connectClient();
  // With the Slack app's signing secret, card buttons reach Warden at POST /slack/interactivity.
  const list = (value?: string) => value?.split(',').map((v) => v.trim()).filter(Boolean);
  const sources = webhookSources({
    signedSecrets: list(process.env.WARDEN_WEBHOOK_SECRETS),
    alertmanagerToken: list(process.env.WARDEN_ALERTMANAGER_TOKEN),
    toolToken: list(process.env.WARDEN_TOOL_TOKEN),
    splunkToken: list(process.env.WARDEN_SPLUNK_TOKEN),
  });
  const filer = new ReportFiler(client, policy);
  const server = createIntakeServer({
    client,
    policy,
    sources,
    filer,
    // Slack: card buttons and the "report a security concern" shortcut (needs the signing secret; the shortcut also the bot token).
    slackSigningSecret: process.env.SLACK_SIGNING_SECRET,
    slackBotToken: process.env.SLACK_BOT_TOKEN,
    slackApiUrl: process.env.SLACK_API_URL,
  });
  server.listen(config.httpPort, config.httpHost, () =>
    console.log(`warden intake: http://${config.httpHost}:${config.httpPort} (POST /webhooks/generic), policy ${policy.version}`),
  );
  const mailbox = mailboxFromEnv(filer.file);
  const stop = () => {
    server.close(() => void (mailbox?.stop() ?? Promise.resolve()).then(() => connection.close()).then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The security mailbox poller, when WARDEN_IMAP_HOST is set. */
function mailboxFromEnv(file: (report: Report) => Promise<unknown>, env = process.env) {
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
    intervalMs: env.WARDEN_IMAP_POLL_MS ? Number(env.WARDEN_IMAP_POLL_MS) : undefined,
    file,
  });
  console.log(`warden intake: reading the security mailbox ${env.WARDEN_IMAP_USER}@${env.WARDEN_IMAP_HOST}`);
  return poller;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
