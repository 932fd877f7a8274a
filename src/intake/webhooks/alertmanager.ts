/**
 * Prometheus Alertmanager, `POST /webhooks/alertmanager`: the webhook receiver's JSON (version 4),
 * one notification per alert group.
 *
 * Alertmanager does not sign its webhooks; it authenticates through the receiver's http_config.
 * Warden takes a bearer token (`http_config: { authorization: { credentials: <token> } }`, sent
 * as `Authorization: Bearer <token>`) and requires it whenever one is configured.
 *
 * Each firing alert in `alerts[]` becomes one report:
 *   title        annotations.summary, else labels.alertname
 *   description  annotations.description, then the labels and the links back
 *   assets       labels instance (without its :port), host, pod, service
 *   sourceType   labels.alertname (the alerting rule's name, e.g. "SSHBruteForce"), for the
 *                policy's sourceTypes.alertmanager: the rule is the alert's type, and its name is
 *                the one label every alert carries
 *   externalId   the alert's fingerprint (Alertmanager's hash of its label set)
 *   fingerprint  "alertmanager:" + groupKey | alertname | instance (one case per alert of a group)
 *   observedAt   startsAt
 *   reporter     "alertmanager:<receiver>", source "alertmanager"
 */
import { z } from 'zod';
import type { Report } from '../../domain';
import { normalizedReport, type WebhookSource } from '../sources';
import { assetNames, clip, dedupeKey, firstText, header, isoFromText, LIMITS, oneLine, paragraphs, parseBody, rfc3339, sourceTypeFields, tokenCheck, type TokenOptions } from './shared';

export const ALERTMANAGER_PATH = '/webhooks/alertmanager';
export const ALERTMANAGER_SOURCE = 'alertmanager';

/** Labels and annotations: Alertmanager always sends string values (Go map[string]string). */
const KV = z.record(z.string());

const Alert = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: KV,
    annotations: KV.default({}),
    startsAt: rfc3339,
    endsAt: z.string().optional(),
    generatorURL: z.string().optional(),
    // Required by v4; older senders may lack it, and Warden only uses it as the external id.
    fingerprint: z.string().optional(),
  })
  .passthrough();

const Message = z
  .object({
    version: z.literal('4', { errorMap: () => ({ message: 'expected webhook payload version "4"' }) }),
    groupKey: z.string(),
    truncatedAlerts: z.number().int().nonnegative().default(0),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string().min(1),
    groupLabels: KV.default({}),
    commonLabels: KV.default({}),
    commonAnnotations: KV.default({}),
    externalURL: z.string().optional(),
    alerts: z.array(Alert),
  })
  .passthrough();
type Message = z.infer<typeof Message>;
type Alert = z.infer<typeof Alert>;

/** "bastion-01:9100" → "bastion-01", "[2001:db8::1]:9100" → "2001:db8::1"; anything else as is. */
export function instanceHost(instance: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(instance);
  if (bracketed) return bracketed[1];
  const hostPort = /^([^:/\s]+):\d+$/.exec(instance);
  return hostPort ? hostPort[1] : instance;
}

export type AlertmanagerOptions = TokenOptions;

export function alertmanagerSource(options: AlertmanagerOptions = {}): WebhookSource {
  const authenticate = tokenCheck(options, 'an Authorization: Bearer <token> header');
  return {
    path: ALERTMANAGER_PATH,
    parse(raw, headers) {
      const authorization = header(headers, 'authorization');
      authenticate(authorization === undefined ? undefined : (/^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? ''));
      const message = parseBody(raw, Message, 'Alertmanager webhook');
      // Resolution is not yet acted on: a resolved alert files nothing (its case stays as the
      // humans leave it; eradication is verified by the case's own quiet-period check).
      return message.alerts.filter((alert) => alert.status === 'firing').map((alert): Report => normalizedReport(toReport(message, alert), raw));
    },
  };
}

function toReport(message: Message, alert: Alert) {
  const labels = alert.labels;
  const annotations = { ...message.commonAnnotations, ...alert.annotations };
  const alertname = labels.alertname ?? message.commonLabels.alertname ?? 'alert';
  const labelLine = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return {
    title: oneLine(firstText(annotations.summary, alertname) ?? 'Alertmanager alert', LIMITS.title),
    description: paragraphs(
      annotations.description,
      labelLine && `Labels: ${labelLine}`,
      alert.generatorURL && `Source: ${alert.generatorURL}`,
      annotations.runbook_url && `Runbook: ${annotations.runbook_url}`,
      message.truncatedAlerts > 0 && `Alertmanager left out ${message.truncatedAlerts} further alert(s) of this group (max_alerts).`,
    ),
    source: ALERTMANAGER_SOURCE,
    reporter: clip(`alertmanager:${message.receiver}`, LIMITS.reporter),
    assets: assetNames([labels.instance && instanceHost(labels.instance), labels.host, labels.pod, labels.service]),
    observedAt: isoFromText(alert.startsAt),
    ...sourceTypeFields([labels.alertname ?? message.commonLabels.alertname]),
    ...(alert.fingerprint ? { externalId: clip(alert.fingerprint, LIMITS.externalId) } : {}),
    fingerprint: dedupeKey(ALERTMANAGER_SOURCE, message.groupKey, alertname, labels.instance),
  };
}
