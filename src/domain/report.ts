/**
 * Report: what reaches Warden from a tool, a person or the mailbox, normalized to one shape.
 * Every intake adapter produces this; the case workflow consumes it as evidence.
 */
import { z } from 'zod';
import { entryFor, type Policy } from './policy';
import type { IndicatorCounts } from './indicators';

const MAX_TEXT = 20_000;

export const Indicators = z
  .object({
    ips: z.array(z.string().ip({ message: 'not an IP address' })).default([]),
    domains: z.array(z.string().min(1).max(253)).default([]),
    urls: z.array(z.string().url()).default([]),
    hashes: z
      .array(z.string().regex(/^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64})$/, 'an MD5, SHA-1 or SHA-256 hex digest'))
      .default([]),
  })
  .strict();
export type Indicators = z.infer<typeof Indicators>;

/** The generic webhook body, documented in the README. */
export const ReportInput = z
  .object({
    title: z.string().trim().min(1).max(300),
    description: z.string().max(MAX_TEXT).default(''),
    source: z.string().trim().min(1).max(100),
    reporter: z.string().trim().min(1).max(200),
    assets: z.array(z.string().trim().min(1).max(200)).max(1_000),
    observedAt: z.string().datetime({ offset: true, message: 'an ISO-8601 timestamp, e.g. 2026-11-25T08:00:00Z' }),
    indicators: Indicators.default({}),
    /** Accounts affected (user names or e-mail addresses). */
    users: z.array(z.string().trim().min(1).max(200)).max(100_000).default([]),
    /** People or records affected, as the sender counts them (else triage reads it from the text). */
    affected: z.number().int().nonnegative().max(10_000_000_000).optional(),
    /** Kinds of data involved: personal, health, payment, credentials, confidential... */
    dataClasses: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
    /** The sending tool's own id for this alert (rule id, alert id). */
    externalId: z.string().max(300).optional(),
    /** The sending tool's own type for the finding, matched against the policy's sourceTypes table. */
    sourceType: z.string().trim().min(1).max(200).optional(),
    /**
     * Further types of the finding for that table (an OCSF finding's ATT&CK techniques and
     * tactics, a Defender alert's service with its category): the most specific entry wins.
     */
    sourceTypes: z.array(z.string().trim().min(1).max(200)).max(20).optional(),
    /** An explicit dedupe key chosen by the sender; overrides the policy's fingerprint fields. */
    fingerprint: z.string().trim().min(1).max(300).optional(),
    /** A category the sender believes applies; the classifier still decides and says why. */
    categoryHint: z.string().max(100).optional(),
    /** Where the reporter wants replies (e-mail address or Slack user). */
    replyTo: z.string().max(300).optional(),
    /** The Message-ID of the reporter's mail, when the report came by mail: replies thread to it. */
    messageId: z.string().max(998).optional(),
  })
  .strict();
export type ReportInput = z.input<typeof ReportInput>;

export type Report = z.infer<typeof ReportInput> & {
  /** Unique per received report (intake-assigned). */
  reportId: string;
  /** When Warden accepted it (intake clock). */
  receivedAt: string;
  /** The raw payload it came from: its SHA-256, and where a copy is kept when one is. */
  raw?: { sha256: string; ref?: string };
  /**
   * Facts Warden itself established about the reported message. Set only by the intake's own
   * adapters (the mailbox, Slack), after `normalizedReport`: never part of ReportInput, so no
   * webhook body can claim them. A false-alarm rule's `senderDomainIn` matches `senderDomain` only.
   */
  verified?: VerifiedFacts;
  /** Every indicator seen, kept and dropped by the adapter that read the report (src/domain/indicators.ts). */
  indicatorCounts?: IndicatorCounts;
  /** The report's campaign anchors (src/domain/campaign.ts), set by the filer: reports sharing one fold into one case. */
  campaign?: string[];
  /**
   * Where the report's full canonical JSON (the report as filed, without this field) is kept: the
   * evidence store's ref, by SHA-256 (src/evidence/store.ts EvidenceRef). Set by the filer only,
   * like `campaign`: never part of ReportInput. Absent when the store could not take it in time
   * (the report is filed all the same) and on reports filed before the store existed.
   */
  evidence?: { sha256: string; bytes: number; store: string };
};

export interface VerifiedFacts {
  /** The suspicious message's sender domain, as the organisation's own mail servers authenticated it. */
  senderDomain?: string;
  /** Which of those servers (its authserv-id) and which result did: "mx.corp.example: dmarc=pass header.from=…". */
  by?: string;
  /** The sender domain the suspicious message claims (its From), verified or not. */
  claimedSenderDomain?: string;
  /** Why the claimed sender is not verified, in words. */
  notVerified?: string;
}

/** Explain a zod failure as one reason per problem, with the field path. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

/**
 * The canonical text two reports share exactly when they describe the same thing, by the
 * policy's fingerprint fields for the report's source. An explicit `fingerprint` wins.
 * Intake hashes this into the case id, which is also the workflow id: dedupe is then Temporal's
 * own guarantee that only one open workflow has an id.
 */
export function fingerprintText(report: Pick<Report, 'source'> & Partial<Report>, policy: Policy): string {
  if (report.fingerprint) return `explicit|${report.fingerprint}`;
  const fields = entryFor(policy.intake.fingerprint, report.source) ?? ['source', 'title', 'assets'];
  const parts = fields.map((field) => {
    const value = (report as Record<string, unknown>)[field];
    if (Array.isArray(value)) return `${field}=${[...new Set(value.map((v) => normalize(String(v))))].sort().join(',')}`;
    if (value && typeof value === 'object') return `${field}=${JSON.stringify(value)}`;
    return `${field}=${normalize(String(value ?? ''))}`;
  });
  return parts.join('|');
}

function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, ' ');
}
