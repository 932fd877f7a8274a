/** What the case machine's tests use: the domain, and a report as the intake would have made it. */
import type { Report, ReportInput } from '../../src/domain';
import { toReport } from '../../src/intake/filing';

export * from '../../src/domain';

let n = 0;
/** A report as the intake makes it from a webhook body, with a fixed receipt time. */
export function toReportForTest(input: ReportInput & { reportId?: string }): Report {
  const { reportId, ...rest } = input;
  n += 1;
  return { ...toReport(rest), reportId: reportId ?? `report-${n}`, receivedAt: '2026-12-01T03:00:00.000Z' };
}
