/**
 * The generic webhook: Warden's own JSON report format (documented in the README).
 * Parse with zod; every problem comes back as a reason with its field path.
 */
import { describeIssues, type Report, ReportInput } from '../domain';
import { toReport } from './filing';
import { HttpError } from './http';

export function parseGenericReport(body: unknown): Report {
  const result = ReportInput.safeParse(body);
  if (!result.success) throw new HttpError(400, 'invalid report', describeIssues(result.error));
  return toReport(result.data);
}
