/**
 * A report source on the intake server: a path, and a handler that verifies the request (401 on
 * a bad signature), parses it (400 with reasons) and normalizes it into one or more Reports.
 * The server files what the handler returns; a handler that throws starts nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describeIssues, type Report, ReportInput } from '../domain';
import { HttpError } from './http';

export interface WebhookSource {
  /** e.g. "/webhooks/alertmanager" */
  path: string;
  /** Verify and parse the raw body; the reports to file (an Alertmanager group can carry many). */
  parse(raw: Buffer, headers: IncomingHttpHeaders, url: URL): Report[] | Promise<Report[]>;
}

/** Validate a normalized report and stamp it with its id, time and the raw payload's hash. */
export function normalizedReport(input: unknown, raw?: Buffer): Report {
  const result = ReportInput.safeParse(input);
  if (!result.success) throw new HttpError(400, 'invalid report', describeIssues(result.error));
  return {
    ...result.data,
    reportId: randomUUID(),
    receivedAt: new Date().toISOString(),
    ...(raw ? { raw: { sha256: createHash('sha256').update(raw).digest('hex') } } : {}),
  };
}
