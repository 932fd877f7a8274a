/**
 * The rules classifier: deterministic keyword matching of the report's text against the
 * taxonomy in policy. Works offline, explains which rules fired. It is the default classifier
 * and the fallback for any other.
 *
 * Its confidence is a measured precision, not a formula: how often the rules' answer was the
 * primary category, by category and by margin (how many more keywords the winning category
 * matched than the runner-up), looked up in RULES_CALIBRATION. The table below was measured over
 * the HHS OCR dev split (bench/classify-dataset.ts prints it again as "rules calibration"). The
 * keyword lists were themselves tuned on that split, so these precisions are tuned-on-dev
 * figures: on other reports expect them to be somewhat lower.
 */
import { findAsset, type Policy } from './policy';

export interface Classification {
  category: string;
  classifier: string;
  classifierVersion: string;
  confidence: number;
  rationale: string;
  matched: string[];
  /** Set when another classifier failed and this answer is the rules engine's fallback. */
  fallbackFrom?: string;
  /** The votes behind a combined answer: each classifier's category, confidence and weight. */
  votes?: {
    classifier: string;
    classifierVersion: string;
    category: string;
    confidence: number;
    /** The weight the vote carried in the combination (0: it did not count). */
    weight: number;
    /** Why the vote carried no weight (e.g. the report holds instruction-like text an LLM may have followed). */
    discounted?: string;
  }[];
  /** The ranked candidates (the top few), shown to the human who confirms. */
  candidates?: { category: string; confidence: number }[];
  /** Set when a human must decide: the votes disagree or the confidence is low (why, in words). */
  needsHuman?: string;
}

/** 2: the confidence is the measured precision (RULES_CALIBRATION). */
export const RULES_CLASSIFIER_VERSION = '2';

export interface ClassifiableText {
  title: string;
  description: string;
  categoryHint?: string;
  /** The report's source (a category may name sources that imply it, e.g. the phishing mailbox). */
  source?: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The margin bands the rules' precision is measured in: a tie, one keyword ahead, two or more. */
export type RulesMargin = 'tie' | 'one' | 'more';

/**
 * The rules engine's measured precision. `byCategory` holds a category's own figure per margin
 * band, smoothed towards the band's overall figure (`byMargin`), for the categories the
 * measurement saw; any other category (a custom taxonomy) gets the band's overall figure.
 */
export interface RulesCalibration {
  /** What the figures were measured on. */
  measuredOn: string;
  byMargin: Record<RulesMargin, number>;
  byCategory: Record<string, Partial<Record<RulesMargin, number>>>;
  /** How often the default category was right when no keyword matched. */
  noMatch: number;
}

/** Measured over the 1,184 HHS OCR dev records with the keyword lists of config/policy.yaml (tuned on that split). */
export const RULES_CALIBRATION: RulesCalibration = {
  measuredOn: 'hhs-ocr-dev.jsonl (1184 records; keyword lists tuned on this split)',
  byMargin: { tie: 0.36, one: 0.81, more: 0.89 },
  byCategory: {
    'credential-compromise': { one: 0.86 },
    'data-exposure': { tie: 0.18, one: 0.66, more: 0.87 },
    'improper-disposal': { one: 0.91, more: 0.84 },
    'insider-misuse': { tie: 0.3, one: 0.76, more: 0.75 },
    'lost-device': { tie: 0.54, one: 0.95, more: 0.97 },
    malware: { tie: 0.35, one: 0.69, more: 0.88 },
    phishing: { tie: 0.6, one: 0.99 },
  },
  noMatch: 0.03,
};

/** What the keywords say: the best category, what it matched, and its lead over the runner-up. */
export function matchRules(report: ClassifiableText, policy: Pick<Policy, 'taxonomy'>): { id: string; matched: string[]; margin: number } | undefined {
  const text = `${report.title}\n${report.description}`.toLowerCase();
  let best: { id: string; matched: string[] } | undefined;
  let runnerUp = 0;
  for (const category of policy.taxonomy) {
    const matched = category.keywords.filter((k) => new RegExp(`\\b${escape(k.toLowerCase())}\\b`).test(text));
    if (report.source && (category.sources ?? []).includes(report.source)) matched.push(`source:${report.source}`);
    if (report.categoryHint === category.id) matched.push(`hint:${category.id}`);
    if (!matched.length) continue;
    if (!best || matched.length > best.matched.length) {
      runnerUp = best?.matched.length ?? 0;
      best = { id: category.id, matched };
    } else runnerUp = Math.max(runnerUp, matched.length);
  }
  return best && { ...best, margin: best.matched.length - runnerUp };
}

export function marginBand(margin: number): RulesMargin {
  return margin <= 0 ? 'tie' : margin === 1 ? 'one' : 'more';
}

/** The measured precision of a rules answer for this category at this margin. */
export function rulesConfidence(category: string, margin: number, calibration: RulesCalibration = RULES_CALIBRATION): number {
  const band = marginBand(margin);
  return calibration.byCategory[category]?.[band] ?? calibration.byMargin[band];
}

/**
 * Measure the rules engine's precision over labeled reports (the bench does, per fold, and for
 * the table above). Each category's figure is pulled towards its band's by `prior` pseudo-cases.
 */
export function fitRulesCalibration(
  examples: { report: ClassifiableText; label: string }[],
  policy: Pick<Policy, 'taxonomy' | 'defaultCategory'>,
  measuredOn: string,
  prior = 5,
): RulesCalibration {
  const bands: Record<RulesMargin, { n: number; right: number }> = { tie: { n: 0, right: 0 }, one: { n: 0, right: 0 }, more: { n: 0, right: 0 } };
  const cells: Record<string, Partial<Record<RulesMargin, { n: number; right: number }>>> = {};
  let none = 0;
  let noneRight = 0;
  for (const { report, label } of examples) {
    const m = matchRules(report, policy);
    if (!m) {
      none++;
      if (label === policy.defaultCategory) noneRight++;
      continue;
    }
    const band = marginBand(m.margin);
    const cell = ((cells[m.id] ??= {})[band] ??= { n: 0, right: 0 });
    bands[band].n++;
    cell.n++;
    if (m.id === label) {
      bands[band].right++;
      cell.right++;
    }
  }
  const r2 = (x: number) => Math.min(0.99, Math.max(0.01, Math.round(x * 100) / 100));
  const byMargin = Object.fromEntries(Object.entries(bands).map(([b, { n, right }]) => [b, r2((right + 1) / (n + 2))])) as Record<RulesMargin, number>;
  const byCategory = Object.fromEntries(
    Object.entries(cells)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, perBand]) => [
        id,
        Object.fromEntries(
          (['tie', 'one', 'more'] as const).filter((b) => perBand[b]).map((b) => [b, r2((perBand[b]!.right + prior * byMargin[b]) / (perBand[b]!.n + prior))]),
        ),
      ]),
  );
  return { measuredOn, byMargin, byCategory, noMatch: r2((noneRight + 1) / (none + 2)) };
}

export function classifyByRules(
  report: ClassifiableText,
  policy: Pick<Policy, 'taxonomy' | 'defaultCategory'>,
  calibration: RulesCalibration = RULES_CALIBRATION,
): Classification {
  const best = matchRules(report, policy);
  const base = { classifier: 'rules', classifierVersion: RULES_CLASSIFIER_VERSION };
  if (!best)
    return {
      ...base,
      category: policy.defaultCategory,
      confidence: calibration.noMatch,
      rationale: `no taxonomy keyword matched; default category ${policy.defaultCategory}`,
      matched: [],
    };
  return {
    ...base,
    category: best.id,
    confidence: rulesConfidence(best.id, best.margin, calibration),
    rationale: `matched ${best.matched.map((m) => `"${m}"`).join(', ')}`,
    matched: best.matched,
  };
}

/** The owning queue: the first affected asset's queue, else the category's, else the default. */
export function routeToQueue(policy: Policy, category: string, assets: string[]): { queue: string; why: string } {
  for (const asset of assets) {
    const queue = findAsset(policy, asset)?.queue;
    if (queue) return { queue, why: `asset ${asset} is owned by queue ${queue}` };
  }
  const byCategory = policy.taxonomy.find((c) => c.id === category)?.queue;
  if (byCategory) return { queue: byCategory, why: `category ${category} belongs to queue ${byCategory}` };
  return { queue: policy.defaultQueue, why: `default queue ${policy.defaultQueue}` };
}
