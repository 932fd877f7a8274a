/**
 * AWS GuardDuty findings through Amazon EventBridge, `POST /webhooks/guardduty`: an EventBridge
 * rule on `source: aws.guardduty`, `detail-type: GuardDuty Finding` with an API destination
 * pointing here. API destinations authenticate with an API-key header: Warden requires
 * `X-Warden-Token: <token>` whenever a token is configured.
 *
 * The body is the EventBridge event (the finding is its `detail`); a bare finding is accepted
 * too, for rules whose input transformer sends `$.detail` only. An event of another detail-type
 * or source is refused (400): the rule is sending more than it should.
 *
 * One finding, one report:
 *   title        finding title (else its type)
 *   description  finding description, then type, severity, account, region, count, ARN
 *   assets       resource: instance id, access key user name, S3 bucket names, and the EKS
 *                cluster, Lambda function, RDS instance or ECS cluster names when present
 *   users        resource.accessKeyDetails.userName
 *   indicators   service.action: every remoteIpDetails.ipAddressV4/V6, and domains
 *                (dnsRequestAction.domain, awsApiCallAction.domainDetails.domain)
 *   sourceType   the finding type (ThreatPurpose:ResourceTypeAffected/ThreatFamilyVariant.Artifact,
 *                e.g. "Exfiltration:S3/AnomalousBehavior"), for the policy's sourceTypes.guardduty
 *   externalId   finding id
 *   fingerprint  "guardduty:" + finding id: a re-occurrence keeps the id (GuardDuty updates the
 *                finding and counts it), so it joins the same case as further evidence
 *   observedAt   service.eventLastSeen, else updatedAt
 *   dataClasses  none: the finding does not say what data is involved, so Warden does not guess
 *   reporter     "guardduty:<account>/<region>", source "guardduty"
 */
import { z } from 'zod';
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

export const GUARDDUTY_PATH = '/webhooks/guardduty';
export const GUARDDUTY_SOURCE = 'guardduty';

const Named = (field: string) => z.object({ [field]: optionalText }).passthrough();

const Resource = z
  .object({
    resourceType: optionalText,
    instanceDetails: z.object({ instanceId: optionalText }).passthrough().nullish(),
    accessKeyDetails: z.object({ userName: optionalText, accessKeyId: optionalText }).passthrough().nullish(),
    s3BucketDetails: z.array(z.object({ name: optionalText, arn: optionalText }).passthrough()).nullish(),
    eksClusterDetails: Named('name').nullish(),
    lambdaDetails: Named('functionName').nullish(),
    rdsDbInstanceDetails: Named('dbInstanceIdentifier').nullish(),
    ecsClusterDetails: Named('name').nullish(),
  })
  .passthrough();

const Service = z
  .object({
    action: z.record(z.unknown()).nullish(),
    eventFirstSeen: optionalText,
    eventLastSeen: optionalText,
    count: z.number().nullish(),
    archived: z.boolean().nullish(),
  })
  .passthrough();

export const GuardDutyFinding = z
  .object({
    schemaVersion: optionalText,
    accountId: optionalText,
    region: optionalText,
    id: z.string().min(1),
    arn: optionalText,
    type: z.string().min(1),
    // A number in EventBridge events; some exports carry it as a string.
    severity: z.union([z.number(), z.string()]).nullish(),
    title: optionalText,
    description: optionalText,
    createdAt: optionalText,
    updatedAt: optionalText,
    resource: Resource.default({}),
    service: Service.default({}),
  })
  .passthrough();
type Finding = z.infer<typeof GuardDutyFinding>;

const Envelope = z
  .object({
    'detail-type': z.literal('GuardDuty Finding', { errorMap: () => ({ message: 'expected "GuardDuty Finding"' }) }),
    source: z.literal('aws.guardduty', { errorMap: () => ({ message: 'expected "aws.guardduty"' }) }),
    id: optionalText,
    account: optionalText,
    region: optionalText,
    time: optionalText,
    detail: GuardDutyFinding,
  })
  .passthrough();

/** GuardDuty's bands: Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0. */
export function severityBand(severity: number): string {
  if (severity >= 9) return 'Critical';
  if (severity >= 7) return 'High';
  if (severity >= 4) return 'Medium';
  return 'Low';
}

export type GuardDutyOptions = TokenOptions;

export function guardDutySource(options: GuardDutyOptions = {}): WebhookSource {
  const authenticate = tokenCheck(options, `an ${TOKEN_HEADER} header`);
  return {
    path: GUARDDUTY_PATH,
    parse(raw, headers) {
      authenticate(header(headers, TOKEN_HEADER));
      const body = parseJson(raw);
      const isEnvelope = !!body && typeof body === 'object' && !Array.isArray(body) && ('detail-type' in body || 'detail' in body);
      const finding = isEnvelope ? parseValue(body, Envelope, 'GuardDuty event').detail : parseValue(body, GuardDutyFinding, 'GuardDuty finding');
      const envelopeTime = isEnvelope ? (body as { time?: unknown }).time : undefined;
      return [normalizedReport(toReport(finding, typeof envelopeTime === 'string' ? envelopeTime : undefined), raw)];
    },
  };
}

function toReport(finding: Finding, eventTime: string | undefined) {
  const { resource, service } = finding;
  const severity = typeof finding.severity === 'string' ? Number(finding.severity) : finding.severity;
  const facts = [
    `GuardDuty finding ${finding.type}`,
    severity !== undefined && severity !== null && Number.isFinite(severity) ? `severity ${severity} (${severityBand(severity)})` : undefined,
    finding.accountId ? `account ${finding.accountId}` : undefined,
    finding.region ? `region ${finding.region}` : undefined,
    service.count ? `seen ${service.count} time(s)${service.eventFirstSeen ? ` since ${service.eventFirstSeen}` : ''}` : undefined,
    service.archived ? 'archived in GuardDuty' : undefined,
  ].filter(Boolean);
  const indicators = new IndicatorSet();
  collectActionIndicators(service.action, indicators);
  const userName = resource.accessKeyDetails?.userName;
  return {
    title: oneLine(firstText(finding.title, finding.type)!, LIMITS.title),
    description: paragraphs(finding.description, `${facts.join(', ')}.`, finding.arn && `Finding: ${finding.arn}`),
    source: GUARDDUTY_SOURCE,
    reporter: clip(`guardduty:${[finding.accountId, finding.region].filter(Boolean).join('/') || 'aws'}`, LIMITS.reporter),
    assets: assetNames([
      resource.instanceDetails?.instanceId,
      userName,
      ...(resource.s3BucketDetails ?? []).map((b) => b.name),
      resource.eksClusterDetails?.name as string | null | undefined,
      resource.lambdaDetails?.functionName as string | null | undefined,
      resource.rdsDbInstanceDetails?.dbInstanceIdentifier as string | null | undefined,
      resource.ecsClusterDetails?.name as string | null | undefined,
    ]),
    users: userNames([userName]),
    indicators: indicators.toJSON(),
    observedAt: isoFromText(service.eventLastSeen) ?? isoFromText(finding.updatedAt) ?? isoFromText(eventTime) ?? new Date().toISOString(),
    ...sourceTypeFields([finding.type]),
    externalId: clip(finding.id, LIMITS.externalId),
    fingerprint: dedupeKey(GUARDDUTY_SOURCE, finding.id),
  };
}

/**
 * The remote side of whatever the action was (network connection, API call, DNS request, port
 * probe, Kubernetes API call, RDS login...): each action type nests `remoteIpDetails` and domains
 * in its own place, so the action is walked rather than listed type by type. `localIpDetails`
 * (the resource's own address) is not an indicator and is not read.
 */
function collectActionIndicators(value: unknown, into: IndicatorSet, depth = 0): void {
  if (depth > 8 || !value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectActionIndicators(item, into, depth + 1);
    return;
  }
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'remoteIpDetails' && child && typeof child === 'object') {
      const details = child as Record<string, unknown>;
      into.ip(details.ipAddressV4).ip(details.ipAddressV6);
    } else if (key === 'domain' && typeof child === 'string') {
      into.domain(child);
    } else if (key !== 'localIpDetails') {
      collectActionIndicators(child, into, depth + 1);
    }
  }
}
