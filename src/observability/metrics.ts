/**
 * Warden's own Prometheus metrics (prom-client). Two registries, one per process role: the
 * intake's (reports accepted, deduplicated and refused) and the worker's (vendor call outcomes,
 * escalations, SLA breaches, operator alerts, open cases by stage and severity). The Temporal
 * SDK's runtime metrics are exported separately by the worker's Runtime (see src/worker.ts).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RATE_LIMITED, REJECTED, UNAVAILABLE } from '../activities/failures';
import type { ActivityDeps, WardenActivities } from '../activities';
import type { FilingResult } from '../intake/filing';
import type { InjectedSinks } from '@temporalio/worker';
import type { CaseMetricsSinks } from '../workflows/definitions';

// ── Intake ─────────────────────────────────────────────────────────────────────────────────────

export const intakeRegistry = new Registry();

export const intakeReports = new Counter({
  name: 'warden_intake_reports_total',
  help: 'Reports durably filed, by source (intake route) and outcome: accepted (opened a case) or deduplicated (joined an open case).',
  labelNames: ['source', 'outcome'] as const,
  registers: [intakeRegistry],
});

export const intakeRefused = new Counter({
  name: 'warden_intake_refused_total',
  help: 'Intake requests refused (nothing filed), by source and reason class: invalid, unauthorized, too_large, method_not_allowed, not_found, unavailable, error.',
  labelNames: ['source', 'reason'] as const,
  registers: [intakeRegistry],
});

export const intakeInFlight = new Gauge({
  name: 'warden_intake_requests_in_flight',
  help: 'Intake HTTP requests being handled.',
  registers: [intakeRegistry],
});

/** The metric label for an intake route: "/webhooks/alertmanager" → "alertmanager", "/slack/…" → "slack". */
export function intakeSource(pathname: string): string {
  const webhook = /^\/webhooks\/([a-z0-9-]+)$/.exec(pathname);
  if (webhook) return webhook[1];
  if (pathname.startsWith('/slack/')) return 'slack';
  return 'none';
}

/** The reason class of a refusal, from the HTTP status it was answered with. */
export function refusalReason(status: number): string {
  if (status === 400 || status === 422) return 'invalid';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  if (status === 413) return 'too_large';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'refused' : 'error';
}

export function countFiled(source: string, results: FilingResult | FilingResult[]): void {
  for (const r of Array.isArray(results) ? results : [results])
    intakeReports.inc({ source, outcome: r.deduplicated ? 'deduplicated' : 'accepted' });
}

export function countRefused(source: string, status: number): void {
  intakeRefused.inc({ source, reason: refusalReason(status) });
}

/** A filing function that counts what it files (the mailbox, Slack's report form). */
export function countedFiling<A extends unknown[]>(source: string, file: (...args: A) => Promise<FilingResult>): (...args: A) => Promise<FilingResult> {
  return async (...args) => {
    const result = await file(...args);
    countFiled(source, result);
    return result;
  };
}

// ── Worker ─────────────────────────────────────────────────────────────────────────────────────

export const workerRegistry = new Registry();

export const vendorCalls = new Counter({
  name: 'warden_vendor_calls_total',
  help: 'Calls to vendor connectors (live or dry-run), by vendor and outcome: ok, rate_limited, unavailable, rejected, error (unclassified).',
  labelNames: ['vendor', 'outcome'] as const,
  registers: [workerRegistry],
});

export const escalations = new Counter({
  name: 'warden_escalations_total',
  help: 'Escalations carried out (escalation summary posted), by case severity.',
  labelNames: ['severity'] as const,
  registers: [workerRegistry],
});

export const slaBreaches = new Counter({
  name: 'warden_sla_breaches_total',
  help: 'SLA clocks that passed without their human action, by clock (acknowledge, respond) and case severity.',
  labelNames: ['clock', 'severity'] as const,
  registers: [workerRegistry],
});

export const regulatoryDeadlinesMissed = new Counter({
  name: 'warden_regulatory_deadlines_missed_total',
  help: 'Regulatory notification deadlines that passed without a recorded filing, by regime.',
  labelNames: ['regime'] as const,
  registers: [workerRegistry],
});

/** The cases' metric sink, registered with the worker: counted as it happens, never again on replay. */
export const caseMetricsSinks: InjectedSinks<CaseMetricsSinks> = {
  caseMetrics: {
    slaBreached: { fn: (_info, clock, severity) => slaBreaches.inc({ clock, severity }) },
    deadlineMissed: { fn: (_info, regime) => regulatoryDeadlinesMissed.inc({ regime }) },
  },
};

export const operatorAlerts = new Counter({
  name: 'warden_operator_alerts_total',
  help: 'Operator alerts: a connector step failed for good on a case, by step.',
  labelNames: ['what'] as const,
  registers: [workerRegistry],
});

export const casesGauge = new Gauge({
  name: 'warden_cases',
  help: 'Open cases by stage and severity (visibility count; severity "none" before triage).',
  labelNames: ['stage', 'severity'] as const,
  registers: [workerRegistry],
});

export const caseCountErrors = new Counter({
  name: 'warden_case_count_errors_total',
  help: 'Visibility count queries for the case gauges that failed.',
  registers: [workerRegistry],
});

/** The outcome class of a vendor call that threw (src/activities/failures.ts). */
export function vendorOutcome(err: unknown): string {
  const type = err instanceof ApplicationFailure ? err.type : undefined;
  if (type === RATE_LIMITED) return 'rate_limited';
  if (type === UNAVAILABLE) return 'unavailable';
  if (type === REJECTED) return 'rejected';
  return 'error';
}

/** Wrap every method of a port so each call counts its outcome under `vendor`. */
export function instrumentPort<T extends object>(vendor: string, port: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(port)) {
    if (typeof value !== 'function') {
      out[name] = value;
      continue;
    }
    out[name] = async (...args: unknown[]) => {
      try {
        const result = await (value as (...a: unknown[]) => unknown).apply(port, args);
        vendorCalls.inc({ vendor, outcome: 'ok' });
        return result;
      } catch (err) {
        vendorCalls.inc({ vendor, outcome: vendorOutcome(err) });
        throw err;
      }
    };
  }
  return out as T;
}

/** The four vendor ports, each counted. */
export function instrumentPorts<D extends Pick<ActivityDeps, 'slack' | 'pager' | 'incidents' | 'mail'>>(deps: D): D {
  return {
    ...deps,
    slack: instrumentPort('slack', deps.slack),
    pager: instrumentPort('pagerduty', deps.pager),
    incidents: instrumentPort('incidentio', deps.incidents),
    mail: instrumentPort('mail', deps.mail),
  };
}

/** True on an activity's first attempt (and outside an activity): a retry is not a new event. */
function firstAttempt(): boolean {
  try {
    return Context.current().info.attempt <= 1;
  } catch {
    return true;
  }
}

/** Count escalations at the escalation summary, operator alerts at the alert. */
export function instrumentActivities(activities: WardenActivities): WardenActivities {
  return {
    ...activities,
    async postEscalationSummary(input) {
      if (firstAttempt()) {
        escalations.inc({ severity: input.summary.severity ?? 'none' });
      }
      return activities.postEscalationSummary(input);
    },
    async alertOperators(input) {
      if (firstAttempt()) operatorAlerts.inc({ what: input.what });
      return activities.alertOperators(input);
    },
  };
}

/** Process metrics (CPU, memory, event loop) for a registry: the entry points call this, tests do not. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}
