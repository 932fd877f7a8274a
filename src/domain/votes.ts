/**
 * Votes: several classifiers' answers (the rules engine, the trained text model, an LLM) made
 * into one category, with a confidence, the candidates a person would look at, and whether a
 * person must decide. Pure: the same votes and settings always give the same answer.
 *
 * Which votes count. A vote weighs what the policy's `classification.weights` gives its family
 * (rules, model, llm). It counts for nothing, and says why in `discounted`, when:
 *   - it is the LLM's and the report holds text addressed to a model (src/domain/prompt-
 *     injection.ts): the LLM may have followed it, so it never decides, alone or in part;
 *   - it is the rules engine's and no keyword matched (its "default category" is no opinion);
 *   - it is another classifier's fallback (it failed; the answer is the rules engine's again);
 *   - the policy weighs its family 0.
 *
 * The category. Each counted vote is a distribution over the categories: its ranked candidates
 * when it gives them (the model does), else its confidence on its category and the rest spread
 * evenly. The category is the one with the highest weighted mean (a linear pool: one vote's
 * near-zero never vetoes the others), with one rule over it: when two or more votes that are not
 * the LLM's agree, their category stands, so the LLM alone can never outvote rules and model.
 *
 * The confidence. Averaging calibrated votes understates agreement (two votes of 0.8 that agree
 * were right 96% of the time on the dev split) and naive Bayes overstates it (the rules and the
 * model read the same words, so they are not independent). The confidence is the weighted
 * geometric pool normalised over the categories, q(c) ∝ Π p_i(c)^(E·w_i/Σw), where E = 1 +
 * FURTHER_VOTE_EVIDENCE·(n − 1) for n counted votes: a single vote keeps its own calibrated
 * confidence, and each further vote counts as half an independent witness. That factor was
 * measured on the dev split's out-of-fold predictions; bench/classify-dataset.ts reports the
 * ensemble's calibration error on held-out folds.
 *
 * A person decides (`needsHuman`, with the reason in words) when no vote counts, when the
 * counted votes disagree, or when the confidence is below the policy's `minConfidence`. The
 * case then waits in triage with `candidates`, the top few categories by confidence.
 */
import type { Classification } from './categorize';
import { describeInstructions, type InstructionFinding } from './prompt-injection';

export const ENSEMBLE_CLASSIFIER_VERSION = '1';

/** In the confidence, each vote after the first counts as this fraction of an independent one. */
export const FURTHER_VOTE_EVIDENCE = 0.5;

export interface VoteSettings {
  /** Below this combined confidence a person decides. */
  minConfidence: number;
  /** Weight per classifier family (rules, model, llm); a family not named weighs 1. */
  weights: Record<string, number>;
  /** The taxonomy's category ids, in policy order (ties go to the earlier one). */
  categories: string[];
  defaultCategory: string;
  /** Instruction-like text found in the report: LLM votes do not count. */
  instructions?: InstructionFinding[];
  /** What else the rationale must say (e.g. the model file is missing, the LLM failed). */
  notes?: string[];
  /** How many candidates to keep (default 3). */
  keep?: number;
}

type Vote = NonNullable<Classification['votes']>[number];

/** rules, model or llm (the family the policy's weights name), from a classifier's name. */
export function familyOf(classifier: string): string {
  if (classifier.startsWith('llm')) return 'llm';
  if (classifier.startsWith('model')) return 'model';
  return classifier;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function discountOf(vote: Classification, weight: number, settings: VoteSettings): string | undefined {
  const family = familyOf(vote.classifier);
  if (vote.fallbackFrom) return `${vote.fallbackFrom} failed; this is its fallback's answer`;
  if (family === 'llm' && settings.instructions?.length) return `${describeInstructions(settings.instructions)}, which an LLM may follow`;
  if (family === 'rules' && vote.matched.length === 0) return 'no keyword matched';
  if (!(weight > 0)) return 'the policy gives it no weight';
  return undefined;
}

/** A vote as a distribution over the categories. */
function distribution(vote: Classification, categories: string[]): number[] {
  const given = new Map<string, number>();
  for (const c of vote.candidates ?? []) given.set(c.category, Math.max(0, Math.min(1, c.confidence)));
  if (!given.has(vote.category)) given.set(vote.category, Math.max(0, Math.min(1, vote.confidence)));
  const mass = [...given.values()].reduce((s, p) => s + p, 0);
  const rest = categories.filter((c) => !given.has(c));
  const each = mass < 1 && rest.length ? (1 - mass) / rest.length : 0;
  const p = categories.map((c) => given.get(c) ?? each);
  const total = p.reduce((s, x) => s + x, 0) || 1;
  return p.map((x) => x / total);
}

function say(vote: Pick<Classification, 'classifier' | 'category' | 'confidence'>): string {
  return `${vote.classifier} ${vote.category} (${vote.confidence.toFixed(2)})`;
}

function listed(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** One category from several classifiers' votes: see the module's description for how. */
export function combineVotes(votes: Classification[], settings: VoteSettings): Classification {
  const keep = settings.keep ?? 3;
  const categories = [...settings.categories];
  for (const v of votes) for (const c of [v.category, ...(v.candidates ?? []).map((x) => x.category)]) if (!categories.includes(c)) categories.push(c);
  if (!categories.includes(settings.defaultCategory)) categories.push(settings.defaultCategory);

  const cast = votes.map((vote) => {
    const weight = settings.weights[familyOf(vote.classifier)] ?? 1;
    const discounted = discountOf(vote, weight, settings);
    return { vote, weight: discounted ? 0 : weight, discounted };
  });
  const recorded: Vote[] = cast.map(({ vote, weight, discounted }) => ({
    classifier: vote.classifier,
    classifierVersion: vote.classifierVersion,
    category: vote.category,
    confidence: r3(vote.confidence),
    weight,
    ...(discounted ? { discounted } : {}),
  }));
  const counted = cast.filter((c) => c.weight > 0);
  const notCounted = cast.filter((c) => c.discounted).map((c) => `${c.vote.classifier} not counted: ${c.discounted}`);
  const notes = [...notCounted, ...(settings.notes ?? [])];
  const base = { classifier: 'ensemble', classifierVersion: ENSEMBLE_CLASSIFIER_VERSION, votes: recorded };

  if (!counted.length) {
    const rules = votes.find((v) => v.classifier === 'rules');
    const reason = `no classifier gave an answer that counts${notes.length ? ` (${notes.join('; ')})` : ''}`;
    return {
      ...base,
      category: settings.defaultCategory,
      confidence: r3(rules && rules.category === settings.defaultCategory ? rules.confidence : 0),
      rationale: `${reason}; default category ${settings.defaultCategory}`,
      matched: [],
      candidates: [],
      needsHuman: `${reason}: a person decides the category`,
    };
  }

  const totalWeight = counted.reduce((s, c) => s + c.weight, 0);
  const dists = counted.map((c) => distribution(c.vote, categories));
  const linear = categories.map((_, k) => counted.reduce((s, c, i) => s + c.weight * dists[i][k], 0) / totalWeight);
  let winner = linear.reduce((best, p, k) => (p > linear[best] + 1e-12 ? k : best), 0);

  const grounded = counted.filter((c) => familyOf(c.vote.classifier) !== 'llm');
  const groundedAgree = grounded.length >= 2 && grounded.every((c) => c.vote.category === grounded[0].vote.category);
  let heldAgainstLlm = false;
  if (groundedAgree && categories[winner] !== grounded[0].vote.category) {
    winner = categories.indexOf(grounded[0].vote.category);
    heldAgainstLlm = true;
  }

  const exponent = 1 + FURTHER_VOTE_EVIDENCE * (counted.length - 1);
  const logq = categories.map((_, k) => counted.reduce((s, c, i) => s + ((exponent * c.weight) / totalWeight) * Math.log(Math.max(1e-4, dists[i][k])), 0));
  const maxLog = Math.max(...logq);
  const q = logq.map((l) => Math.exp(l - maxLog));
  const qSum = q.reduce((s, x) => s + x, 0);
  const confidence = q[winner] / qSum;
  const category = categories[winner];

  const ranked = categories
    .map((c, k) => ({ category: c, confidence: q[k] / qSum }))
    .sort((a, b) => (a.category === category ? -1 : b.category === category ? 1 : b.confidence - a.confidence))
    .slice(0, keep)
    .map((c) => ({ category: c.category, confidence: r3(c.confidence) }));

  const agreeing = counted.every((c) => c.vote.category === category);
  const reasons: string[] = [];
  if (!agreeing) reasons.push(`the votes disagree: ${counted.map((c) => say(c.vote)).join(', ')}`);
  if (confidence < settings.minConfidence) reasons.push(`the combined confidence ${confidence.toFixed(2)} is below the policy's minimum ${settings.minConfidence}`);

  const explain = (c: (typeof counted)[number]) => {
    const why = c.vote.rationale.length > 100 ? `${c.vote.rationale.slice(0, 99)}…` : c.vote.rationale;
    return `${say(c.vote)}: ${why}`;
  };
  const head = agreeing
    ? counted.length > 1
      ? `${listed(counted.map((c) => c.vote.classifier))} agree on ${category}`
      : `${counted[0].vote.classifier} alone decides ${category}`
    : heldAgainstLlm
      ? `${listed(grounded.map((c) => c.vote.classifier))} agree on ${category}; the LLM alone does not outvote them`
      : `${category} by weighted vote`;
  const rationale = [`${head} (confidence ${confidence.toFixed(2)})`, ...counted.map(explain), ...notes].join('; ');

  return {
    ...base,
    category,
    confidence: r3(confidence),
    rationale,
    matched: [...new Set(counted.flatMap((c) => c.vote.matched))],
    candidates: ranked,
    ...(reasons.length ? { needsHuman: `${reasons.join('; ')}: a person decides the category` } : {}),
  };
}
