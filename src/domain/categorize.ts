/**
 * The rules classifier: deterministic keyword matching of the report's text against the
 * taxonomy in policy. Works offline, explains which rules fired. It is the default classifier
 * and the fallback for any other.
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
}

export const RULES_CLASSIFIER_VERSION = '1';

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

export function classifyByRules(report: ClassifiableText, policy: Pick<Policy, 'taxonomy' | 'defaultCategory'>): Classification {
  const text = `${report.title}\n${report.description}`.toLowerCase();
  let best: { id: string; matched: string[] } | undefined;
  for (const category of policy.taxonomy) {
    const matched = category.keywords.filter((k) => new RegExp(`\\b${escape(k.toLowerCase())}\\b`).test(text));
    if (report.source && (category.sources ?? []).includes(report.source)) matched.push(`source:${report.source}`);
    if (report.categoryHint === category.id) matched.push(`hint:${category.id}`);
    if (matched.length && (!best || matched.length > best.matched.length)) best = { id: category.id, matched };
  }
  const base = { classifier: 'rules', classifierVersion: RULES_CLASSIFIER_VERSION };
  if (!best)
    return {
      ...base,
      category: policy.defaultCategory,
      confidence: 0.2,
      rationale: `no taxonomy keyword matched; default category ${policy.defaultCategory}`,
      matched: [],
    };
  return {
    ...base,
    category: best.id,
    confidence: Math.min(0.95, 0.4 + 0.15 * best.matched.length),
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
