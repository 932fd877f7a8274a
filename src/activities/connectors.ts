/**
 * Which connectors are live: each vendor whose credentials are in the environment gets its real
 * client; the others stay in dry-run mode and write what they would send to the outbox. Base
 * URLs can be overridden for proxies (and the tests' simulators). Secrets are read here and
 * handed to the clients; they never reach activity inputs, workflow history or logs.
 */
import { readFileSync } from 'node:fs';
import { classifierFromEnv } from './classifier';
import { httpFailure, unavailable } from './failures';
import { createIncidentPort, dryRunIncidents } from './incidentio';
import type { ActivityDeps } from './index';
import { createMailPort, dryRunMail } from './mail';
import { Outbox } from './outbox';
import { createPagerPort, dryRunPager } from './pagerduty';
import { createSlackPort, dryRunSlack } from './slack';

export type ConnectorMode = 'live' | 'dry-run';

export interface Connectors {
  deps: Pick<ActivityDeps, 'slack' | 'pager' | 'incidents' | 'mail' | 'operatorAlerts' | 'classifier' | 'webhooks'>;
  modes: Record<'slack' | 'pagerduty' | 'incidentio' | 'mail', ConnectorMode>;
}

/** PAGERDUTY_ROUTING_KEY_<QUEUE> (queue id upper-cased, dashes as underscores) routes a queue to its own service. */
function queueRoutingKeys(env: NodeJS.ProcessEnv): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const m = /^PAGERDUTY_ROUTING_KEY_(.+)$/.exec(name);
    if (m && value) keys[m[1].toLowerCase().replace(/_/g, '-')] = value;
  }
  return keys;
}

export function connectorsFromEnv(outboxPath: string, env: NodeJS.ProcessEnv = process.env): Connectors {
  const outbox = new Outbox(outboxPath);
  const timeoutMs = env.WARDEN_VENDOR_TIMEOUT_MS ? Number(env.WARDEN_VENDOR_TIMEOUT_MS) : undefined;

  const slack = env.SLACK_BOT_TOKEN ? createSlackPort({ token: env.SLACK_BOT_TOKEN, apiUrl: env.SLACK_API_URL, timeoutMs }) : dryRunSlack(outbox);
  const pager = env.PAGERDUTY_ROUTING_KEY
    ? createPagerPort({
        routingKey: env.PAGERDUTY_ROUTING_KEY,
        routingKeys: queueRoutingKeys(env),
        eventsUrl: env.PAGERDUTY_EVENTS_URL,
        ca: env.PAGERDUTY_CA_FILE ? readFileSync(env.PAGERDUTY_CA_FILE, 'utf8') : undefined,
        timeoutMs,
      })
    : dryRunPager(outbox);
  const incidents = env.INCIDENTIO_API_KEY
    ? createIncidentPort({ apiKey: env.INCIDENTIO_API_KEY, apiUrl: env.INCIDENTIO_API_URL, timeoutMs })
    : dryRunIncidents(outbox);
  const mail =
    env.SMTP_URL && env.WARDEN_MAIL_FROM ? createMailPort({ smtpUrl: env.SMTP_URL, from: env.WARDEN_MAIL_FROM, timeoutMs }) : dryRunMail(outbox);

  const operatorChannel = env.WARDEN_OPERATOR_CHANNEL;
  const operatorAlerts = async (text: string, key: string) => {
    // Always on file; in the operators' channel too when Slack is live (it may be Slack that failed).
    await outbox.deliver({ system: 'operator', kind: 'alert', key, body: { text } });
    if (env.SLACK_BOT_TOKEN && operatorChannel) await slack.postMessage(operatorChannel, text, key).catch(() => undefined);
  };

  // Third parties' webhooks are only called for real when WARDEN_WEBHOOKS_LIVE=true.
  const webhooks =
    env.WARDEN_WEBHOOKS_LIVE === 'true'
      ? async (url: string, body: Record<string, unknown>, key: string) => {
          let res: Response;
          try {
            res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs ?? 10_000) });
          } catch (err) {
            throw unavailable('webhook', new URL(url).host, (err as Error).name === 'TimeoutError' ? 'timed out' : 'network error');
          }
          if (!res.ok) throw httpFailure('webhook', new URL(url).host, res.status, res.statusText, res.headers.get('retry-after'));
        }
      : async (url: string, body: Record<string, unknown>, key: string) => void (await outbox.deliver({ system: 'webhook', kind: 'post', key, body: { url, ...body } }));

  return {
    deps: { slack, pager, incidents, mail, operatorAlerts, webhooks, classifier: classifierFromEnv(env) },
    modes: {
      slack: env.SLACK_BOT_TOKEN ? 'live' : 'dry-run',
      pagerduty: env.PAGERDUTY_ROUTING_KEY ? 'live' : 'dry-run',
      incidentio: env.INCIDENTIO_API_KEY ? 'live' : 'dry-run',
      mail: env.SMTP_URL && env.WARDEN_MAIL_FROM ? 'live' : 'dry-run',
    },
  };
}
