/**
 * PagerDuty Events API v2: trigger, acknowledge and resolve, always with a dedup key derived
 * from the case so a retried or replayed call never pages twice.
 */
import type { Outbox } from './outbox';

export type PagerAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerEvent {
  event_action: PagerAction;
  dedup_key: string;
  payload?: { summary: string; source: string; severity: PagerSeverity; custom_details?: Record<string, unknown> };
  links?: { href: string; text: string }[];
}

export interface PagerPort {
  /** Send one Events API v2 event, routed to the queue's integration (routing key from the environment). */
  enqueue(event: PagerEvent, queue?: string): Promise<void>;
}

export function dryRunPager(outbox: Outbox): PagerPort {
  return {
    async enqueue(event) {
      await outbox.deliver({
        system: 'pagerduty',
        kind: event.event_action,
        key: `${event.dedup_key}:${event.event_action}`,
        body: event as unknown as Record<string, unknown>,
      });
    },
  };
}
