/**
 * incident.io: declare an incident when a case escalates (idempotency key derived from the case
 * and the escalation), and update it as the case moves.
 */
import type { Outbox } from './outbox';

export interface IncidentDeclaration {
  idempotency_key: string;
  name: string;
  summary: string;
  severity: string;
  visibility: 'public' | 'private';
}

export interface IncidentPort {
  declare(incident: IncidentDeclaration): Promise<{ id: string }>;
  update(id: string, change: { status?: string; severity?: string; summary?: string }, key: string): Promise<void>;
}

export function dryRunIncidents(outbox: Outbox): IncidentPort {
  return {
    async declare(incident) {
      const id = `dry-run-${incident.idempotency_key}`;
      await outbox.deliver({ system: 'incidentio', kind: 'incidents.create', key: incident.idempotency_key, body: { ...incident, id } });
      return { id };
    },
    async update(id, change, key) {
      await outbox.deliver({ system: 'incidentio', kind: 'incidents.edit', key, body: { id, ...change } });
    },
  };
}
