/**
 * Escalation criteria (RS.MA-04): priority, blast radius, regulated data, response time
 * exceeded. Pure functions of the case's facts and the policy; the workflow records which fired.
 */
import { atOrAbove, type Policy, type Severity } from './policy';

export type EscalationCriterion = 'priority' | 'blast-radius' | 'regulated-data' | 'response-time-exceeded' | 'manual';

export interface EscalationTrigger {
  criterion: EscalationCriterion;
  /** "criteria" when evaluated on facts, "timer" for an SLA, "human" for a request. */
  source: 'criteria' | 'timer' | 'human';
  detail: string;
}

export interface EscalationFacts {
  severity?: Severity;
  assets: string[];
  users: string[];
  regulatedData: string[];
}

export function escalationTriggers(facts: EscalationFacts, policy: Policy): EscalationTrigger[] {
  const e = policy.escalation;
  const fired: EscalationTrigger[] = [];
  if (e.priority && facts.severity && atOrAbove(facts.severity, e.priority.atOrAbove))
    fired.push({ criterion: 'priority', source: 'criteria', detail: `severity ${facts.severity} is at or above ${e.priority.atOrAbove}` });
  const br = e.blastRadius;
  if (br?.assets && facts.assets.length >= br.assets)
    fired.push({ criterion: 'blast-radius', source: 'criteria', detail: `${facts.assets.length} assets affected (threshold ${br.assets})` });
  else if (br?.users && facts.users.length >= br.users)
    fired.push({ criterion: 'blast-radius', source: 'criteria', detail: `${facts.users.length} users affected (threshold ${br.users})` });
  if (e.regulatedData && facts.regulatedData.length)
    fired.push({ criterion: 'regulated-data', source: 'criteria', detail: `regulated data involved: ${facts.regulatedData.join(', ')}` });
  return fired;
}
