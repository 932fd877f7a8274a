/**
 * The worker's Temporal Runtime logger: SDK, workflow and activity logs (and core logs, when
 * forwarded) as Warden's JSON lines. Kept apart from ./log so the intake never loads the worker SDK.
 */
import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { JsonLogger, Level } from './log';

/** The Temporal Runtime logger (SDK, workflow and activity logs, forwarded core logs) as JSON lines. */
export function temporalLogger(json: JsonLogger): DefaultLogger {
  return new DefaultLogger(json.level.toUpperCase() as LogLevel, (entry: LogEntry) =>
    json.log(
      entry.level.toLowerCase() as Level,
      entry.message,
      entry.meta,
      new Date(Number(entry.timestampNanos / 1_000_000n)),
    ),
  );
}
