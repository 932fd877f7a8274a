/**
 * The severity model: what happened, to what, and how much. A documented, deterministic function
 * of the case's facts and the policy; it returns the score and every factor behind it, so a
 * responder (or an auditor) can see why a case is SEV2 and not SEV3.
 *
 *   what happened = min(whatHappenedMax, impact[category] + Σ points of the activity signals found)
 *   score         = what happened
 *                 + assetCriticality[most critical affected asset]   (none named: 0)
 *                 + dataSensitivity[most sensitive data involved]     (regulated data: the highest)
 *                 + min(spread.max, extra assets × perAdditionalAsset + named accounts × perAffectedUser
 *                                   + extra reports × perAdditionalReport)
 *   severity      = the highest level whose threshold the score reaches (SEV4 below SEV3's),
 *                   raised to the floor of the highest scale tier the people or records affected reach.
 *
 * The cap on what happened keeps a report's words from outweighing what the inventory knows: with
 * the default policy, a report that names no asset scores at most SEV3 by itself, and only its
 * scale (500 / 10,000 / 100,000 people, the counts breach-notification laws use) lifts it higher.
 */
import { CRITICALITIES, type Criticality, findAsset, type Policy, SENSITIVITIES, type Sensitivity, type Severity, severityRank } from './policy';

export interface ScoringFacts {
  assets: string[];
  users: string[];
  dataClasses: string[];
  reportCount: number;
  /** The case's category, for the impact of what happened. */
  category?: string;
  /** Activity signals found (ids from the policy's severity.signals), with where each came from. */
  signals?: { signal: string; from: string }[];
  /** People or records affected, and where the count came from. */
  affected?: { count: number; from: string };
}

export type ScoreFactorName = 'what-happened' | 'asset-criticality' | 'data-sensitivity' | 'spread' | 'scale';

export interface ScoreFactor {
  factor: ScoreFactorName;
  points: number;
  why: string;
}

export interface SeverityAssessment {
  score: number;
  severity: Severity;
  factors: ScoreFactor[];
  regulatedData: string[];
  /** The severity the score alone gives, before a scale tier's floor. */
  scoredSeverity?: Severity;
}

function whatHappened(facts: ScoringFacts, policy: Policy): ScoreFactor {
  const s = policy.severity;
  const category = facts.category ? policy.taxonomy.find((c) => c.id === facts.category) : undefined;
  const impact = category?.impact ?? 0;
  const parts = [category ? `${category.id} impact ${impact}` : 'category not yet decided'];
  let points = impact;
  for (const found of facts.signals ?? []) {
    const signal = s.signals.find((x) => x.id === found.signal);
    if (!signal) continue;
    points += signal.points;
    parts.push(`${signal.id} ${signal.points >= 0 ? '+' : ''}${signal.points} (${found.from})`);
  }
  const capped = Math.max(0, Math.min(s.whatHappenedMax, points));
  return { factor: 'what-happened', points: capped, why: `${parts.join(', ')}${points > s.whatHappenedMax ? ` (capped at ${s.whatHappenedMax})` : ''}` };
}

export function assessSeverity(facts: ScoringFacts, policy: Policy): SeverityAssessment {
  const s = policy.severity;

  let criticality: Criticality | undefined;
  let criticalAsset = '(no asset named)';
  let sensitivity: Sensitivity = 'public';
  let sensitiveBecause = 'no classified data involved';
  for (const id of facts.assets) {
    const asset = findAsset(policy, id);
    const c = asset?.criticality ?? s.unknownAssetCriticality;
    if (criticality === undefined || CRITICALITIES.indexOf(c) > CRITICALITIES.indexOf(criticality)) {
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
  const rawSpread = extraAssets * s.spread.perAdditionalAsset + facts.users.length * s.spread.perAffectedUser + extraReports * s.spread.perAdditionalReport;
  const spread = Math.min(s.spread.max, rawSpread);

  const factors: ScoreFactor[] = [
    whatHappened(facts, policy),
    {
      factor: 'asset-criticality',
      points: criticality === undefined ? 0 : (s.assetCriticality[criticality] ?? 0),
      why: criticality === undefined ? criticalAsset : `${criticality}: ${criticalAsset}`,
    },
    { factor: 'data-sensitivity', points: s.dataSensitivity[sensitivity] ?? 0, why: `${sensitivity}: ${sensitiveBecause}` },
    {
      factor: 'spread',
      points: spread,
      why: `${facts.assets.length} asset(s), ${facts.users.length} account(s), ${facts.reportCount} report(s)${rawSpread > spread ? ` (capped at ${s.spread.max})` : ''}`,
    },
  ];
  const score = factors.reduce((sum, f) => sum + f.points, 0);
  const t = s.thresholds;
  const scored: Severity = score >= t.SEV1 ? 'SEV1' : score >= t.SEV2 ? 'SEV2' : score >= t.SEV3 ? 'SEV3' : 'SEV4';

  let severity = scored;
  const count = facts.affected?.count;
  const tier = count === undefined ? undefined : [...s.scale.tiers].filter((x) => count >= x.atLeast).sort((a, b) => severityRank(a.severity) - severityRank(b.severity))[0];
  if (facts.affected) {
    const raises = tier && severityRank(tier.severity) < severityRank(scored);
    if (raises) severity = tier.severity;
    factors.push({
      factor: 'scale',
      points: 0,
      why: `${count!.toLocaleString('en-US')} people or records affected (${facts.affected.from})${tier ? `: at least ${tier.atLeast.toLocaleString('en-US')}, so at least ${tier.severity}${raises ? ` (raised from ${scored})` : ''}` : ': below the first scale tier'}`,
    });
  }
  return { score, severity, factors, regulatedData, scoredSeverity: scored };
}
