/**
 * Trust that builds: how much Warden may do alone, per category, decided by how often its
 * automated decisions held when a human looked (`warden audit` measures the same thing).
 *
 * A case's automated category counts as judged when a human confirmed it, overrode it, or worked
 * the case to its end with the category left standing; it agreed unless a human changed it.
 * Over at least `minCases` judged cases of a category, an agreement at or above `bar` lets Warden
 * act alone (auto-close false alarms, page on its own reading); below the bar it proposes and a
 * human confirms. Until a category has that many judged cases, the policy's `untilMeasured` mode
 * applies: a team decides before the bad day whether Warden starts trusted or on probation.
 */
import type { Policy } from './policy';

export type TrustMode = 'act' | 'propose';

export interface MeasuredAgreement {
  /** Judged cases of the category (confirmed, overridden, or worked with the category standing). */
  cases: number;
  /** Of those, how many a human left as Warden had them. */
  agreed: number;
}

export interface TrustDecision {
  mode: TrustMode;
  category: string;
  cases: number;
  agreed: number;
  /** One sentence a responder can read: which figures, against which bar. */
  why: string;
}

export function trustFor(category: string, measured: MeasuredAgreement | undefined, policy: Pick<Policy, 'trust'>): TrustDecision {
  const { bar, minCases, untilMeasured } = policy.trust;
  const cases = measured?.cases ?? 0;
  const agreed = measured?.agreed ?? 0;
  const rate = cases ? agreed / cases : 0;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  if (cases < minCases)
    return {
      mode: untilMeasured,
      category,
      cases,
      agreed,
      why: `${category}: ${cases} judged case(s), fewer than the ${minCases} the policy needs to measure agreement; until then the policy says ${untilMeasured}`,
    };
  const mode: TrustMode = rate >= bar ? 'act' : 'propose';
  return {
    mode,
    category,
    cases,
    agreed,
    why: `${category}: humans agreed with ${agreed} of ${cases} automated decisions (${pct(rate)}), ${mode === 'act' ? 'at or above' : 'below'} the bar of ${pct(bar)}: Warden ${mode === 'act' ? 'acts alone' : 'proposes and a human confirms'}`,
  };
}
