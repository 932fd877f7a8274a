/**
 * Microsoft Graph security alerts (alerts_v2: Defender XDR, Sentinel), `POST /webhooks/defender`.
 * Graph does not push alerts itself; whatever forwards them (a Logic App, a Sentinel playbook, a
 * poller of GET /security/alerts_v2) posts the alert resource as Graph returns it: one alert, or
 * a Graph list answer `{ "value": [alert, ...] }`. Authenticated like the other tool webhooks:
 * `X-Warden-Token: <token>` whenever a token is configured.
 *
 * Graph's enums are evolvable (new members appear), so status, severity, category and the like
 * are read as open strings. Every alert is filed, whatever its status or classification: a
 * forwarded alert that is already resolved still happened, and the case records it.
 *
 * One alert, one report:
 *   title        title
 *   description  description, recommendedActions (verbatim, U+FFFD bullets and all), severity,
 *                status, category, MITRE techniques, the alert's link
 *   assets       deviceEvidence.deviceDnsName
 *   users        userEvidence.userAccount: userPrincipalName, else accountName
 *   indicators   ipEvidence.ipAddress, urlEvidence.url, fileEvidence.fileDetails.sha256
 *   externalId   id; fingerprint "defender:" + (providerAlertId or id)
 *   observedAt   firstActivityDateTime, else createdDateTime
 *   sourceType   category (MITRE tactic style: Execution, CredentialAccess, Ransomware...), for the
 *                policy's sourceTypes.defender; sourceTypes adds "<serviceSource>/<category>"
 *                (the same category means different things from Defender for Endpoint and from
 *                Defender for Cloud Apps) and "technique:<id>" for each of mitreTechniques. The
 *                table decides the category; the adapter sends no categoryHint of its own.
 *   reporter     "defender:<serviceSource>", source "defender"
 */
import { z } from 'zod';
import type { Report } from '../../domain';
import { parseJson } from '../http';
import { normalizedReport, type WebhookSource } from '../sources';
import {
  assetNames,
  clip,
  dedupeKey,
  firstText,
  header,
  IndicatorSet,
  isoFromText,
  LIMITS,
  oneLine,
  optionalText,
  paragraphs,
  parseValue,
  sourceTypeFields,
  TOKEN_HEADER,
  tokenCheck,
  type TokenOptions,
  userNames,
} from './shared';

export const DEFENDER_PATH = '/webhooks/defender';
export const DEFENDER_SOURCE = 'defender';

const ODATA = '@odata.type';
const evidenceType = (name: string) => `#microsoft.graph.security.${name}`;

const Evidence = z
  .object({
    [ODATA]: optionalText,
    deviceDnsName: optionalText,
    userAccount: z.object({ accountName: optionalText, userPrincipalName: optionalText }).passthrough().nullish(),
    ipAddress: optionalText,
    url: optionalText,
    fileDetails: z.object({ sha256: optionalText }).passthrough().nullish(),
  })
  .passthrough();

const Alert = z
  .object({
    id: z.string().trim().min(1),
    providerAlertId: optionalText,
    title: optionalText,
    description: optionalText,
    recommendedActions: optionalText,
    category: optionalText,
    severity: optionalText,
    status: optionalText,
    serviceSource: optionalText,
    detectionSource: optionalText,
    mitreTechniques: z.array(z.string()).nullish(),
    alertWebUrl: optionalText,
    createdDateTime: optionalText,
    firstActivityDateTime: optionalText,
    evidence: z.array(Evidence).nullish(),
  })
  .passthrough();
type Alert = z.infer<typeof Alert>;

const AlertList = z.object({ value: z.array(z.unknown()) }).passthrough();

export type DefenderOptions = TokenOptions;

export function defenderSource(options: DefenderOptions = {}): WebhookSource {
  const authenticate = tokenCheck(options, `an ${TOKEN_HEADER} header`);
  return {
    path: DEFENDER_PATH,
    parse(raw, headers) {
      authenticate(header(headers, TOKEN_HEADER));
      const body = parseJson(raw);
      const isList = !!body && typeof body === 'object' && !Array.isArray(body) && 'value' in body && !('id' in body);
      const alerts = isList
        ? parseValue(body, AlertList, 'Graph security alert list').value.map((item, i) => parseValue(item, Alert, 'Graph security alert', ['value', i]))
        : [parseValue(body, Alert, 'Graph security alert')];
      return alerts.map((alert): Report => normalizedReport(toReport(alert), raw));
    },
  };
}

function toReport(alert: Alert) {
  const evidence = alert.evidence ?? [];
  const ofType = (name: string) => evidence.filter((e) => e[ODATA] === evidenceType(name));
  const indicators = new IndicatorSet();
  for (const e of ofType('ipEvidence')) indicators.ip(e.ipAddress);
  for (const e of ofType('urlEvidence')) indicators.url(e.url);
  for (const e of ofType('fileEvidence')) indicators.hash(e.fileDetails?.sha256);
  const facts = [
    alert.severity && `severity ${alert.severity}`,
    alert.status && `status ${alert.status}`,
    alert.category && `category ${alert.category}`,
    alert.mitreTechniques?.length ? `MITRE ${alert.mitreTechniques.join(', ')}` : undefined,
    alert.serviceSource && `from ${alert.serviceSource}${alert.detectionSource ? ` (${alert.detectionSource})` : ''}`,
  ].filter(Boolean);
  return {
    title: oneLine(firstText(alert.title) ?? `Microsoft security alert ${alert.id}`, LIMITS.title),
    description: paragraphs(
      alert.description,
      alert.recommendedActions && `Recommended actions:\n${alert.recommendedActions}`,
      facts.length ? `Microsoft security alert: ${facts.join(', ')}.` : undefined,
      alert.alertWebUrl && `Alert: ${alert.alertWebUrl}`,
    ),
    source: DEFENDER_SOURCE,
    reporter: clip(`defender:${firstText(alert.serviceSource, alert.detectionSource) ?? 'graph'}`, LIMITS.reporter),
    assets: assetNames(ofType('deviceEvidence').map((e) => e.deviceDnsName)),
    users: userNames(ofType('userEvidence').map((e) => firstText(e.userAccount?.userPrincipalName, e.userAccount?.accountName))),
    indicators: indicators.toJSON(),
    observedAt: isoFromText(alert.firstActivityDateTime) ?? isoFromText(alert.createdDateTime) ?? new Date().toISOString(),
    externalId: clip(alert.id, LIMITS.externalId),
    fingerprint: dedupeKey(DEFENDER_SOURCE, firstText(alert.providerAlertId, alert.id)),
    ...sourceTypeFields([
      alert.category,
      alert.category && alert.serviceSource ? `${alert.serviceSource}/${alert.category}` : undefined,
      ...(alert.mitreTechniques ?? []).map((t) => (t.trim() ? `technique:${t.trim()}` : undefined)),
    ]),
  };
}
