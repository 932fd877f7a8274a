/**
 * The intake: an HTTP server that turns reports into case workflows (signalWithStart).
 * Wiring only: configuration, policy check, Temporal client, server, shutdown.
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig, loadPolicyFile } from './config';
import { createIntakeServer } from './intake/server';
import { webhookSources } from './intake/webhooks';

async function main(): Promise<void> {
  const config = loadConfig();
  const policy = loadPolicyFile(config.policyPath);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.namespace });
  // With the Slack app's signing secret, card buttons reach Warden at POST /slack/interactivity.
  const list = (value?: string) => value?.split(',').map((v) => v.trim()).filter(Boolean);
  const sources = webhookSources({
    signedSecrets: list(process.env.WARDEN_WEBHOOK_SECRETS),
    alertmanagerToken: list(process.env.WARDEN_ALERTMANAGER_TOKEN),
    toolToken: list(process.env.WARDEN_TOOL_TOKEN),
    splunkToken: list(process.env.WARDEN_SPLUNK_TOKEN),
  });
  const server = createIntakeServer({
    client,
    policy,
    sources,
    // Slack: card buttons and the "report a security concern" shortcut (needs the signing secret; the shortcut also the bot token).
    slackSigningSecret: process.env.SLACK_SIGNING_SECRET,
    slackBotToken: process.env.SLACK_BOT_TOKEN,
    slackApiUrl: process.env.SLACK_API_URL,
  });
  server.listen(config.httpPort, config.httpHost, () =>
    console.log(`warden intake: http://${config.httpHost}:${config.httpPort} (POST /webhooks/generic), policy ${policy.version}`),
  );
  const stop = () => {
    server.close(() => void connection.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
