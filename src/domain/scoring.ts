/**
 * Severity scoring: a documented, deterministic function of asset criticality, data sensitivity
 * and spread. It returns the score and every factor behind it, so a responder (or an auditor)
 * can see why a case is SEV2 and not SEV3.
 *
 *   score = criticality(most critical affected asset)
 *         + sensitivity(most sensitive data involved)
 *         + min(spread.max, extraAssets × perAdditionalAsset + users × perAffectedUser
 *                           + extraReports × perAdditionalReport)
 *
 * Severity is the highest level whose threshold the score reaches (SEV4 below SEV3's).
 */
import { CRITICALITIES, type Criticality, findAsset, type Policy, SENSITIVITIES, type Sensitivity, type Severity } from './policy';

export interface ScoringFacts {
  assets: string[];
  users: string[];
  dataClasses: string[];
  reportCount: number;
}

export interface ScoreFactor {
  factor: 'asset-criticality' | 'data-sensitivity' | 'spread';
  points: number;
  why: string;
}

export interface SeverityAssessment {
  score: number;
  severity: Severity;
  factors: ScoreFactor[];
  regulatedData: string[];
}

export function assessSeverity(facts: ScoringFacts, policy: Policy): SeverityAssessment {
  const s = policy.scoring;

  let criticality: Criticality = facts.assets.length ? 'low' : s.unknownAssetCriticality;
  let criticalAsset = facts.assets.length ? '' : '(no asset named)';
  let sensitivity: Sensitivity = 'public';
  let sensitiveBecause = 'no classified data involved';
  for (const id of facts.assets) {
    const asset = findAsset(policy, id);
    const c = asset?.criticality ?? s.unknownAssetCriticality;
    if (CRITICALITIES.indexOf(c) > CRITICALITIES.indexOf(criticality) || !criticalAsset) {
      criticality = c;
      criticalAsset = asset ? id : `${id} (not in inventory)`;
    }
    const d = asset?.dataClassification;
    if (d && SENSITIVITIES.indexOf(d) > SENSITIVITIES.indexOf(sensitivity)) {
      sensitivity = d;
      sensitiveBecause = `${id} holds ${d} data`;
    }
  }
  const regulatedData = facts.dataClasses.filter((c) => s.regulatedDataClasses.includes(c));
  if (regulatedData.length) {
    sensitivity = 'regulated';
    sensitiveBecause = `regulated data involved: ${regulatedData.join(', ')}`;
  } else {
    for (const c of facts.dataClasses)
      if ((SENSITIVITIES as readonly string[]).includes(c) && SENSITIVITIES.indexOf(c as Sensitivity) > SENSITIVITIES.indexOf(sensitivity)) {
        sensitivity = c as Sensitivity;
        sensitiveBecause = `report names ${c} data`;
      }
  }

  const extraAssets = Math.max(0, facts.assets.length - 1);
  const extraReports = Math.max(0, facts.reportCount - 1);
  const rawSpread =
    extraAssets * s.spread.perAdditionalAsset +
    facts.users.length * s.spread.perAffectedUser +
    extraReports * s.spread.perAdditionalReport;
  const spread = Math.min(s.spread.max, rawSpread);

  const factors: ScoreFactor[] = [
    { factor: 'asset-criticality', points: s.assetCriticality[criticality] ?? 0, why: `${criticality}: ${criticalAsset}` },
    { factor: 'data-sensitivity', points: s.dataSensitivity[sensitivity] ?? 0, why: `${sensitivity}: ${sensitiveBecause}` },
    {
      factor: 'spread',
      points: spread,
      why: `${facts.assets.length} asset(s), ${facts.users.length} user(s), ${facts.reportCount} report(s)${rawSpread > spread ? ` (capped at ${s.spread.max})` : ''}`,
    },
  ];
  const score = factors.reduce((sum, f) => sum + f.points, 0);
  const t = s.severityAt;
  const severity: Severity = score >= t.SEV1 ? 'SEV1' : score >= t.SEV2 ? 'SEV2' : score >= t.SEV3 ? 'SEV3' : 'SEV4';
  return { score, severity, factors, regulatedData };
}
