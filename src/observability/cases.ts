/**
 * The case gauges: open cases by stage and severity, from Temporal visibility every 30 s.
 * One `GROUP BY WardenStatus, WardenSeverity` count when the server supports it; otherwise a
 * count per stage, and per severity only for the stages that have cases.
 */
import type { Client } from '@temporalio/client';
import { SEVERITIES, STAGES } from '../domain';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import type { JsonLogger } from './log';
import { caseCountErrors, casesGauge } from './metrics';
import { errorFields } from './log';

export const NO_SEVERITY = 'none';

export interface CaseGaugeOptions {
  /** Default 30 s. */
  intervalMs?: number;
  /** Narrows the count, e.g. "TaskQueue = 'warden'" (ANDed with the workflow type and Running). */
  filter?: string;
  logger?: JsonLogger;
}

/** Open cases counted by "stage|severity". */
export async function countCases(client: Client, filter?: string, state: { groupBy?: boolean } = {}): Promise<Map<string, number>> {
  const base = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'${filter ? ` AND (${filter})` : ''}`;
  const counts = new Map<string, number>();
  if (state.groupBy !== false) {
    try {
      const { groups } = await client.workflow.count(`${base} GROUP BY WardenStatus, WardenSeverity`);
      for (const g of groups) {
        const [stage, severity] = g.groupValues.map((v) => (v === null || v === undefined ? undefined : String(v)));
        const key = `${stage ?? 'received'}|${severity ?? NO_SEVERITY}`;
        counts.set(key, (counts.get(key) ?? 0) + g.count);
      }
      state.groupBy = true;
      return counts;
    } catch (err) {
      if (state.groupBy === true) throw err; // it worked before: a real failure
      state.groupBy = false; // this server's visibility store does not group by search attributes
    }
  }
  await Promise.all(
    STAGES.map(async (stage) => {
      const inStage = `${base} AND WardenStatus = '${stage}'`;
      const { count } = await client.workflow.count(inStage);
      if (!count) return;
      let rest = count;
      await Promise.all(
        SEVERITIES.map(async (severity) => {
          const n = (await client.workflow.count(`${inStage} AND WardenSeverity = '${severity}'`)).count;
          rest -= n;
          if (n) counts.set(`${stage}|${severity}`, n);
        }),
      );
      if (rest > 0) counts.set(`${stage}|${NO_SEVERITY}`, rest);
    }),
  );
  return counts;
}

/** Refresh the `warden_cases` gauge now and every interval; returns a stop function. */
export function startCaseGauges(client: Client, options: CaseGaugeOptions = {}): { refresh(): Promise<void>; stop(): void } {
  const state: { groupBy?: boolean } = {};
  let running: Promise<void> | undefined;
  const refresh = () =>
    (running ??= (async () => {
      try {
        const counts = await countCases(client, options.filter, state);
        for (const stage of STAGES)
          for (const severity of [...SEVERITIES, NO_SEVERITY]) casesGauge.set({ stage, severity }, counts.get(`${stage}|${severity}`) ?? 0);
      } catch (err) {
        caseCountErrors.inc();
        options.logger?.warn('case count failed', errorFields(err));
      } finally {
        running = undefined;
      }
    })());
  void refresh();
  const timer = setInterval(() => void refresh(), options.intervalMs ?? 30_000);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
