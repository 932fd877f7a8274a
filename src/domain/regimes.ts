/**
 * Which regulatory regimes a case's facts trigger, by the policy's conditions: the data involved,
 * where the case is (jurisdiction), what kind of entity the organization is, how many people are
 * affected, and determinations only a human can make (e.g. "material"). Pure: the triage, the
 * case workflow and `warden triage` share it. What a regime requires is what the policy says;
 * nothing here is legal advice.
 */
import { findAsset, type Policy } from './policy';

export interface RegimeFacts {
  dataClasses: string[];
  /** Where the case is: the organization's establishment, its assets', and any a responder recorded. */
  jurisdictions: string[];
  entityTypes: string[];
  /** Determinations decided so far: true (made), false (decided against). Undecided ones are absent. */
  determinations: Record<string, boolean>;
  /** Individuals affected, once a responder has counted them. */
  affected?: number;
  /** Whether the case is a declared incident (escalated at least once). */
  declared: boolean;
}

export interface RegulatoryFlag {
  regime: string;
  name: string;
  deadline: string;
  because: string;
}

/** A determination a flagged-to-be regime waits on: every other condition of the regime holds. */
export interface PendingDetermination {
  determination: string;
  question: string;
  deciders: string[];
  regimes: string[];
}

/** The jurisdictions of a case: the organization's, its assets' and those recorded on it. */
export function caseJurisdictions(policy: Policy, assets: string[], recorded: string[] = []): string[] {
  const fromAssets = assets.flatMap((id) => findAsset(policy, id)?.jurisdictions ?? []);
  return [...new Set([...policy.regulatoryProfile.jurisdictions, ...fromAssets, ...recorded])];
}

/** "EU" covers "EU" and "EU-DE"; "US-NY" covers only "US-NY" (and "US-NY-…"). */
export function jurisdictionCovers(condition: string, fact: string): boolean {
  const c = condition.toUpperCase();
  const f = fact.toUpperCase();
  return f === c || f.startsWith(`${c}-`);
}

interface ConditionResult {
  holds: boolean;
  because?: string;
  /** The condition cannot be judged yet: the determinations still undecided. */
  undecided?: string[];
}

function conditions(regime: Policy['regulatory'][number], facts: RegimeFacts): ConditionResult[] {
  const w = regime.when;
  const results: ConditionResult[] = [];
  if (w.dataClasses) {
    const hit = w.dataClasses.filter((c) => facts.dataClasses.includes(c));
    results.push({ holds: hit.length > 0, because: `involves ${hit.join(', ')} data` });
  }
  if (w.jurisdictions) {
    const hit = facts.jurisdictions.filter((j) => w.jurisdictions!.some((c) => jurisdictionCovers(c, j)));
    results.push({ holds: hit.length > 0, because: `in ${hit.join(', ')}` });
  }
  if (w.entityTypes) {
    const hit = w.entityTypes.filter((t) => facts.entityTypes.includes(t));
    results.push({ holds: hit.length > 0, because: `the organization is a ${hit.join(', ')}` });
  }
  if (w.minAffected !== undefined)
    results.push({ holds: (facts.affected ?? 0) >= w.minAffected, because: `${facts.affected} individuals affected (${w.minAffected} or more)` });
  if (w.declared) results.push({ holds: facts.declared, because: 'a declared incident' });
  if (w.determinations) {
    const undecided = w.determinations.filter((d) => facts.determinations[d] === undefined);
    const made = w.determinations.every((d) => facts.determinations[d] === true);
    results.push({ holds: made, because: `determined ${w.determinations.join(', ')}`, undecided });
  }
  return results;
}

/** The regimes the facts trigger, each with why. */
export function regulatoryFlags(facts: RegimeFacts, policy: Policy): RegulatoryFlag[] {
  return policy.regulatory.flatMap((regime) => {
    const results = conditions(regime, facts);
    if (!results.length || !results.every((r) => r.holds)) return [];
    return [{ regime: regime.id, name: regime.name, deadline: regime.deadline, because: results.map((r) => r.because).join('; ') }];
  });
}

/**
 * Determinations a human still has to make: those of regimes whose every other condition holds
 * (a public company's materiality decision, once an incident is in front of it).
 */
export function pendingDeterminations(facts: RegimeFacts, policy: Policy): PendingDetermination[] {
  const pending = new Map<string, PendingDetermination>();
  for (const regime of policy.regulatory) {
    const results = conditions(regime, facts);
    const others = results.filter((r) => !r.undecided);
    const waiting = results.flatMap((r) => r.undecided ?? []);
    if (!waiting.length || !others.every((r) => r.holds)) continue;
    // Decided against on one determination: the regime does not apply, whatever the others say.
    if ((regime.when.determinations ?? []).some((d) => facts.determinations[d] === false)) continue;
    for (const id of waiting) {
      const def = policy.determinations.find((d) => d.id === id)!;
      const entry = pending.get(id) ?? { determination: id, question: def.question, deciders: def.deciders, regimes: [] };
      entry.regimes.push(regime.name);
      pending.set(id, entry);
    }
  }
  return [...pending.values()];
}

/** A determination a human recorded on a case; the latest for an id stands. */
export interface DeterminationRecord {
  id: string;
  decision: boolean;
  /** When the determination was made (may be earlier than when it was recorded). */
  at: string;
  by: string;
  reason: string;
}

/** The regulatory facts of a case, from what it knows and what responders recorded. */
export function regimeFacts(
  policy: Policy,
  c: { dataClasses: string[]; assets: string[]; jurisdictions?: string[]; determinations?: DeterminationRecord[]; affected?: number; escalations?: unknown[] },
): RegimeFacts {
  return {
    dataClasses: c.dataClasses,
    jurisdictions: caseJurisdictions(policy, c.assets, c.jurisdictions),
    entityTypes: policy.regulatoryProfile.entityTypes,
    determinations: Object.fromEntries((c.determinations ?? []).map((d) => [d.id, d.decision])),
    affected: c.affected,
    declared: (c.escalations?.length ?? 0) > 0,
  };
}
