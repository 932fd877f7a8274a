/**
 * OCSF Detection Finding (class_uid 2004), `POST /webhooks/ocsf`: one finding as a JSON object,
 * or a JSON array of them (as OCSF producers often batch). Authenticated like the other tool
 * webhooks: `X-Warden-Token: <token>` whenever a token is configured.
 *
 * Checked, beyond JSON types: the fields OCSF requires of the class (class_uid 2004,
 * category_uid 2, activity_id, type_uid = class_uid × 100 + activity_id, time in epoch ms,
 * severity_id, metadata.product, metadata.version, finding_info.uid), and the `cloud` and `osint`
 * objects when metadata.profiles declares those profiles. Everything else passes through.
 *
 * One finding, one report; a Close (activity_id 3) files nothing (resolution is not yet acted on):
 *   title        finding_info.title, else message, else the first of finding_info.types
 *   description  finding_info.desc or message, then severity, product and finding link
 *   assets       resources[].name (else .uid), device.hostname (else .name)
 *   indicators   observables by type_id: 1 Hostname → domains, 2 IP Address → ips,
 *                6 URL String → urls, 8 Hash → hashes (others are not indicators here)
 *   sourceType   for the policy's sourceTypes.ocsf, the first of these, and sourceTypes the rest:
 *                each of finding_info.types (as the producer wrote it, e.g. Security Hub's
 *                "TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled"); then, from
 *                finding_info.attacks and attacks, "technique:<uid>" of each sub-technique and
 *                technique and "tactic:<name>" and "tactic:<uid>" of each tactic; then
 *                "analytic:<finding_info.analytic.name>". class_uid and type_uid are not among
 *                them: this source takes Detection Findings only, so they say nothing of the kind.
 *                ATT&CK values are read leniently: one that is not text is skipped, not refused.
 *   externalId   finding_info.uid; fingerprint "ocsf:" + finding_info.uid
 *   observedAt   time (epoch ms)
 *   reporter     "ocsf:<vendor> <product>", source "ocsf"
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
  isoFromMs,
  LIMITS,
  oneLine,
  optionalText,
  paragraphs,
  parseValue,
  sourceTypeFields,
  TOKEN_HEADER,
  tokenCheck,
  type TokenOptions,
} from './shared';

export const OCSF_PATH = '/webhooks/ocsf';
export const OCSF_SOURCE = 'ocsf';
export const DETECTION_FINDING = 2004;
export const ACTIVITY_CLOSE = 3;

/** Observable type_id values Warden reads (OCSF observable.type_id). */
export const OBSERVABLE = { hostname: 1, ip: 2, urlString: 6, hash: 8 } as const;

const SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99];
const SEVERITY_NAMES: Record<number, string> = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };

const int = z.number().int();

const Finding = z
  .object({
    class_uid: z.literal(DETECTION_FINDING, { errorMap: () => ({ message: `expected ${DETECTION_FINDING} (Detection Finding)` }) }),
    category_uid: z.literal(2, { errorMap: () => ({ message: 'expected 2 (Findings)' }) }),
    activity_id: int,
    type_uid: int,
    time: z.number().nonnegative({ message: 'epoch milliseconds' }).max(8.64e15, { message: 'epoch milliseconds' }),
    severity_id: int.refine((id) => SEVERITY_IDS.includes(id), { message: `one of ${SEVERITY_IDS.join(', ')}` }),
    severity: optionalText,
    message: optionalText,
    metadata: z
      .object({
        product: z.object({ name: optionalText, vendor_name: optionalText }).passthrough(),
        version: z.string().min(1),
        profiles: z.array(z.string()).nullish(),
      })
      .passthrough(),
    finding_info: z
      .object({
        uid: z.string().trim().min(1),
        title: optionalText,
        desc: optionalText,
        types: z.array(z.string()).nullish(),
        src_url: optionalText,
      })
      .passthrough(),
    cloud: z.object({ provider: z.string().min(1) }).passthrough().nullish(),
    osint: z.array(z.object({}).passthrough()).nullish(),
    resources: z.array(z.object({ name: optionalText, uid: optionalText }).passthrough()).nullish(),
    device: z.object({ hostname: optionalText, name: optionalText }).passthrough().nullish(),
    observables: z
      .array(
        z
          .object({
            type_id: int,
            // string_t in the schema; a producer may print a number (a port, a pid) bare.
            value: z.union([z.string(), z.number()]).nullish(),
            name: optionalText,
          })
          .passthrough(),
      )
      .nullish(),
  })
  .passthrough()
  .superRefine((finding, ctx) => {
    const expected = finding.class_uid * 100 + finding.activity_id;
    if (finding.type_uid !== expected)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['type_uid'], message: `expected ${expected} (class_uid × 100 + activity_id)` });
    const profiles = finding.metadata.profiles ?? [];
    if (profiles.includes('cloud') && !finding.cloud)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cloud'], message: 'Required by the cloud profile (metadata.profiles)' });
    if (profiles.includes('osint') && !finding.osint)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['osint'], message: 'Required by the osint profile (metadata.profiles)' });
  });
type Finding = z.infer<typeof Finding>;

export type OcsfOptions = TokenOptions;

export function ocsfSource(options: OcsfOptions = {}): WebhookSource {
  const authenticate = tokenCheck(options, `an ${TOKEN_HEADER} header`);
  return {
    path: OCSF_PATH,
    parse(raw, headers) {
      authenticate(header(headers, TOKEN_HEADER));
      const body = parseJson(raw);
      const findings = Array.isArray(body)
        ? body.map((item, i) => parseValue(item, Finding, 'OCSF Detection Finding', [i]))
        : [parseValue(body, Finding, 'OCSF Detection Finding')];
      return findings.filter((f) => f.activity_id !== ACTIVITY_CLOSE).map((f): Report => normalizedReport(toReport(f), raw));
    },
  };
}

function toReport(finding: Finding) {
  const info = finding.finding_info;
  const product = [finding.metadata.product.vendor_name, finding.metadata.product.name].filter(Boolean).join(' ');
  const indicators = new IndicatorSet();
  for (const observable of finding.observables ?? []) {
    const value = observable.value === null || observable.value === undefined ? undefined : String(observable.value);
    if (observable.type_id === OBSERVABLE.hostname) indicators.domain(value);
    else if (observable.type_id === OBSERVABLE.ip) indicators.ip(value);
    else if (observable.type_id === OBSERVABLE.urlString) indicators.url(value);
    else if (observable.type_id === OBSERVABLE.hash) indicators.hash(value);
  }
  const severity = finding.severity ?? SEVERITY_NAMES[finding.severity_id];
  return {
    title: oneLine(firstText(info.title, finding.message, info.types?.[0]) ?? 'OCSF detection finding', LIMITS.title),
    description: paragraphs(
      firstText(info.desc, finding.message),
      [`OCSF Detection Finding, severity ${severity}`, product && `from ${product}`].filter(Boolean).join(' ') + '.',
      info.types?.length ? `Types: ${info.types.join(', ')}` : undefined,
      info.src_url && `Finding: ${info.src_url}`,
    ),
    source: OCSF_SOURCE,
    reporter: clip(`ocsf:${product || 'unknown product'}`, LIMITS.reporter),
    assets: assetNames([
      ...(finding.resources ?? []).map((r) => firstText(r.name, r.uid)),
      firstText(finding.device?.hostname, finding.device?.name),
    ]),
    indicators: indicators.toJSON(),
    observedAt: isoFromMs(finding.time),
    externalId: clip(info.uid, LIMITS.externalId),
    fingerprint: dedupeKey(OCSF_SOURCE, info.uid),
    ...sourceTypeFields(findingTypes(finding)),
  };
}

/** The finding's source types, most telling first (see the header). */
export function findingTypes(finding: Pick<Finding, 'finding_info'> & { attacks?: unknown }): string[] {
  const info = finding.finding_info;
  const analytic = text(field(info.analytic, 'name'));
  return [...(info.types ?? []), ...attackTypes([...list(info.attacks), ...list(finding.attacks)]), ...(analytic ? [`analytic:${analytic}`] : [])];
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
const field = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;

/**
 * ATT&CK source types of OCSF attack objects: the sub-techniques and techniques first (the most
 * telling), then the tactics, by name and by uid (OCSF 1.0's `tactics` list as well as `tactic`).
 */
export function attackTypes(attacks: unknown[]): string[] {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const attack of attacks) {
    for (const t of [field(attack, 'sub_technique'), field(attack, 'technique')]) {
      const uid = text(field(t, 'uid'));
      if (uid) techniques.push(`technique:${uid}`);
    }
    for (const t of [field(attack, 'tactic'), ...list(field(attack, 'tactics'))]) {
      const name = text(field(t, 'name'));
      const uid = text(field(t, 'uid'));
      if (name) tactics.push(`tactic:${name}`);
      if (uid) tactics.push(`tactic:${uid}`);
    }
  }
  return [...techniques, ...tactics];
}
