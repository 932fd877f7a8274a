/**
 * How well does triage categorize real incidents? Scores the rules engine, the trained text
 * model and their ensemble on the labeled HHS OCR breach reports in
 * ../shared/datasets/hhs-ocr-dev.jsonl (1,184 records; see that directory's README), and the
 * triage answer's severity, regulated data and affected count.
 *
 *   npm run bench:classify        (npm run bench -- classify writes bench/results/classify.json)
 *
 * Honesty rules:
 *   - The model and the ensemble are scored out-of-fold: stratified 5-fold cross-validation
 *     (seed OUTER_SEED), and for each fold the whole training procedure, the choice of the L2
 *     penalty by inner 5-fold cross-validation, the temperature calibration, the final fit,
 *     sees only the other four folds. No record is ever scored by a model that trained on it.
 *   - The rules engine has nothing to train, but its keyword lists (config/policy.yaml) were
 *     tuned on this very split: its figures, and the ensemble's in so far as the rules vote, are
 *     tuned-on-dev figures, flagged so. Its calibration table (how often each answer is right)
 *     is refitted on the training folds for the ensemble; the committed table, measured on the
 *     whole split, is printed at the end ("rules calibration") and its own figures are in-sample.
 *   - The feature set (word unigrams and bigrams, minimum document frequency 3), the class
 *     weighting ("balanced"), the grid of L2 values and the vote's confidence factor were chosen
 *     while developing, by comparing a handful of settings under cross-validation on this split:
 *     a mild selection effect on the model's and the ensemble's figures. The held-out incidents
 *     the team checks are the real test.
 *
 * Figures, each over all records unless said: accuracy (prediction === labels.category),
 * macro-F1 over the classes with at least 30 records, coarse compatibility (prediction in
 * labels.categories_compatible, over the records where that is not null), per-class precision,
 * recall and F1, the confusion matrix, and the expected calibration error (10 equal-width
 * confidence bins). For the ensemble also: how many cases it would hand to a person
 * (needsHuman), and its accuracy on the rest. From the pure triage() with the ensemble's
 * out-of-fold classification: severity exact and within one level of labels.severity, recall of
 * regulated data (every record is PHI), and affected-count extraction over the texts that state
 * the label's count (written with or without thousands separators).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { classifierFromEnv, DEFAULT_CLASSIFICATION, modelVote } from '../src/activities/classifier';
import { firstSentence } from '../src/cli-classifier';
import { loadPolicyFile } from '../src/config';
import {
  type Classification,
  classifyByRules,
  fitRulesCalibration,
  type Policy,
  RULES_CALIBRATION,
  SEVERITIES,
  triage,
  type TriageFacts,
} from '../src/domain';
import { findInstructions } from '../src/domain/prompt-injection';
import { classificationScores, type TextModel, stratifiedFolds, trainTextModel } from '../src/domain/text-model';
import { combineVotes } from '../src/domain/votes';
import { emitResult, round } from './result';

const DATASET = resolve(__dirname, '../../shared/datasets/hhs-ocr-dev.jsonl');
const FOLDS = 5;
const OUTER_SEED = 2024;
const MIN_SUPPORT = 30;

interface DatasetRecord {
  id: string;
  text: string;
  labels: { category: string; categories_compatible: string[] | null; severity: string; individuals_affected: number };
}

interface Scored {
  category: string;
  confidence: number;
  needsHuman?: string;
}

function factsOf(r: DatasetRecord): TriageFacts {
  return { title: firstSentence(r.text), description: r.text, source: 'hhs-ocr', assets: [], users: [], dataClasses: [] };
}

/** Expected calibration error: |mean confidence − accuracy| per 10 equal-width bins, weighted by the bin's share. */
function calibrationError(records: DatasetRecord[], scored: Scored[]): number {
  const bins = Array.from({ length: 10 }, () => ({ n: 0, confidence: 0, right: 0 }));
  scored.forEach((s, i) => {
    const b = bins[Math.min(9, Math.floor(s.confidence * 10))];
    b.n++;
    b.confidence += s.confidence;
    if (s.category === records[i].labels.category) b.right++;
  });
  return bins.reduce((e, b) => e + Math.abs(b.confidence - b.right), 0) / Math.max(1, scored.length);
}

function evaluate(name: string, note: string, records: DatasetRecord[], scored: Scored[], categories: string[], seconds: number, lines: string[]): Record<string, unknown> {
  const truth = records.map((r) => r.labels.category);
  const predicted = scored.map((s) => s.category);
  const scores = classificationScores(truth, predicted, MIN_SUPPORT);
  const compatibleOf = records.map((r) => r.labels.categories_compatible);
  const withCompatible = compatibleOf.map((c, i) => (c ? i : -1)).filter((i) => i >= 0);
  const compatible = withCompatible.filter((i) => compatibleOf[i]!.includes(predicted[i])).length / withCompatible.length;
  const confusion: Record<string, Record<string, number>> = {};
  truth.forEach((t, i) => {
    confusion[t] ??= {};
    confusion[t][predicted[i]] = (confusion[t][predicted[i]] ?? 0) + 1;
  });
  const ece = calibrationError(records, scored);
  const human = scored.map((s, i) => (s.needsHuman ? i : -1)).filter((i) => i >= 0);
  const decided = scored.map((s, i) => (s.needsHuman ? -1 : i)).filter((i) => i >= 0);
  const decidedRight = decided.filter((i) => predicted[i] === truth[i]).length;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

  lines.push('', `== ${name}: ${note}`);
  lines.push(
    `accuracy ${pct(scores.accuracy)}   macro-F1 (classes with ≥${MIN_SUPPORT} records: ${scores.macroF1Classes.length}) ${scores.macroF1.toFixed(3)}   compatible ${pct(compatible)} (of ${withCompatible.length})   calibration error ${ece.toFixed(3)}   (${seconds.toFixed(1)}s)`,
  );
  if (scored.some((s) => s.needsHuman !== undefined) || name.startsWith('ensemble'))
    lines.push(`hands to a person: ${human.length} (${pct(human.length / records.length)}); accuracy on the ${decided.length} it decides alone: ${pct(decided.length ? decidedRight / decided.length : 0)}`);
  lines.push('class                        n  precision  recall     F1');
  for (const [c, v] of Object.entries(scores.perClass))
    lines.push(`${c.padEnd(26)} ${String(v.support).padStart(4)}     ${v.precision.toFixed(3)}   ${v.recall.toFixed(3)}  ${v.f1.toFixed(3)}`);
  const columns = categories.filter((c) => truth.includes(c) || predicted.includes(c));
  lines.push(`confusion (rows: label, columns: prediction): ${columns.map((c, i) => `${i + 1}=${c}`).join(' ')}`);
  for (const [i, c] of columns.entries())
    if (truth.includes(c)) lines.push(`${String(i + 1).padStart(2)} ${c.padEnd(26)} ${columns.map((p) => String(confusion[c]?.[p] ?? 0).padStart(4)).join('')}`);

  return {
    classifier: name,
    note,
    records: records.length,
    seconds: round(seconds, 1),
    accuracy: round(scores.accuracy),
    macroF1: round(scores.macroF1),
    macroF1Classes: scores.macroF1Classes,
    compatible: round(compatible),
    compatibleOf: withCompatible.length,
    calibrationError: round(ece),
    ...(name.startsWith('ensemble')
      ? { needsHuman: human.length, needsHumanShare: round(human.length / records.length), accuracyWhenDecidedAlone: round(decided.length ? decidedRight / decided.length : 0) }
      : {}),
    perClass: Object.fromEntries(
      Object.entries(scores.perClass).map(([c, v]) => [c, { n: v.support, precision: round(v.precision), recall: round(v.recall), f1: round(v.f1) }]),
    ),
    confusion,
  };
}

/** Does the text state this count, as 640436 or 640,436? */
function statesCount(text: string, n: number): boolean {
  const plain = String(n);
  const grouped = n.toLocaleString('en-US');
  const digits = (s: string) => new RegExp(`(^|[^\\d,.])${s.replace(/[.,]/g, '\\$&')}(?![\\d]|[.,]\\d)`).test(text);
  return digits(plain) || digits(grouped);
}

function triageFigures(records: DatasetRecord[], classifications: Classification[], policy: Policy, lines: string[]): Record<string, unknown> {
  let exact = 0;
  let withinOne = 0;
  let regulated = 0;
  let stating = 0;
  let extractedRight = 0;
  let extractedAny = 0;
  let extractedWrong = 0;
  const bySeverity: Record<string, Record<string, number>> = {};
  records.forEach((r, i) => {
    const answer = triage(factsOf(r), policy, classifications[i]) as ReturnType<typeof triage> & { affected?: { count: number; from: string } };
    const got = answer.assessment.severity;
    const want = r.labels.severity as (typeof SEVERITIES)[number];
    if (got === want) exact++;
    if (Math.abs(SEVERITIES.indexOf(got) - SEVERITIES.indexOf(want)) <= 1) withinOne++;
    (bySeverity[want] ??= {})[got] = (bySeverity[want][got] ?? 0) + 1;
    if (answer.assessment.regulatedData.length) regulated++;
    const affected = answer.affected;
    if (affected) extractedAny++;
    if (statesCount(r.text, r.labels.individuals_affected)) {
      stating++;
      if (affected?.count === r.labels.individuals_affected) extractedRight++;
      else if (affected) extractedWrong++;
    }
  });
  const n = records.length;
  const withAffectedField = extractedAny > 0; // triage() without `affected` yet: nothing to score
  const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`;
  lines.push('', '== triage() with the ensemble\'s out-of-fold category, over every record');
  lines.push(`severity: exact ${pct(exact, n)}, within one level ${pct(withinOne, n)} (vs labels.severity, a banding of individuals affected)`);
  lines.push(`severity (rows: label, columns: triage): ${SEVERITIES.map((s) => `${s} ${JSON.stringify(bySeverity[s] ?? {})}`).join('  ')}`);
  lines.push(`regulated data recall: ${pct(regulated, n)} (every record is PHI; precision cannot be measured on positives only)`);
  lines.push(
    withAffectedField
      ? `affected count: right in ${pct(extractedRight, stating)} of the ${stating} texts that state the label's count (${extractedWrong} wrong there); a count read from ${pct(extractedAny, n)} of all texts`
      : 'affected count: triage() does not report one yet (answer.affected missing)',
  );
  return {
    severityExact: round(exact / n),
    severityWithinOne: round(withinOne / n),
    severityConfusion: bySeverity,
    regulatedDataRecall: round(regulated / n),
    affected: withAffectedField
      ? { textsStatingCount: stating, right: round(extractedRight / Math.max(1, stating)), wrongWhereStated: extractedWrong, readFromAnyText: round(extractedAny / n) }
      : null,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));
  const settings = policy.classification ?? DEFAULT_CLASSIFICATION;
  const categories = policy.taxonomy.map((c) => c.id);
  const records = readFileSync(DATASET, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DatasetRecord);
  const facts = records.map(factsOf);
  const labels = records.map((r) => r.labels.category);
  const folds = stratifiedFolds(labels, FOLDS, OUTER_SEED);
  const lines: string[] = [`${records.length} HHS OCR breach reports, ${FOLDS}-fold stratified cross-validation (seed ${OUTER_SEED})`];

  // The rules engine alone, with the committed calibration.
  let t = Date.now();
  const rulesAlone = facts.map((f) => classifyByRules(f, policy));
  const rulesSeconds = (Date.now() - t) / 1000;

  // The model and the ensemble, out-of-fold.
  t = Date.now();
  const model: Classification[] = new Array(records.length);
  const ensemble: Classification[] = new Array(records.length);
  const abstained: string[] = [];
  const chosen: { fold: number; l2: number; temperature: number; vocabulary: number; version: string }[] = [];
  for (let k = 0; k < FOLDS; k++) {
    const train = records.map((_, i) => i).filter((i) => folds[i] !== k);
    const trained: TextModel = trainTextModel(train.map((i) => ({ text: records[i].text, label: labels[i], source: 'hhs-ocr' })));
    const calibration = fitRulesCalibration(train.map((i) => ({ report: facts[i], label: labels[i] })), policy, `training folds of fold ${k}`);
    chosen.push({ fold: k, l2: trained.training.l2, temperature: trained.temperature, vocabulary: trained.vocabulary.length, version: trained.version });
    for (let i = 0; i < records.length; i++) {
      if (folds[i] !== k) continue;
      const rules = classifyByRules(facts[i], policy, calibration);
      const answer = modelVote(trained, facts[i], categories, { minCoverage: settings.minCoverage });
      const vote = 'vote' in answer ? answer.vote : undefined;
      if (!vote) abstained.push(`${records[i].id}: ${'abstains' in answer ? answer.abstains : ''}`);
      model[i] = vote ?? rules;
      ensemble[i] = combineVotes(vote ? [rules, vote] : [rules], {
        minConfidence: settings.minConfidence,
        weights: settings.weights,
        categories,
        defaultCategory: policy.defaultCategory,
        instructions: findInstructions(`${facts[i].title}\n${facts[i].description}`),
      });
    }
    process.stderr.write(`fold ${k + 1}/${FOLDS}: l2 ${trained.training.l2}, temperature ${trained.temperature}\n`);
  }
  const cvSeconds = (Date.now() - t) / 1000;

  const results = [
    evaluate('rules engine', 'keyword lists tuned on this split; confidence from the committed table (in-sample)', records, rulesAlone, categories, rulesSeconds, lines),
    evaluate('text model', `out-of-fold (${FOLDS} folds, L2 chosen by inner 5-fold CV on the training folds)`, records, model, categories, cvSeconds, lines),
    evaluate('ensemble (rules + model)', 'out-of-fold model and rules calibration; keyword lists tuned on this split', records, ensemble, categories, cvSeconds, lines),
  ];

  // An LLM as a third vote, when one is configured (slow: one request per record).
  const configured = process.env.WARDEN_LLM_URL && process.env.WARDEN_LLM_MODEL ? classifierFromEnv() : undefined;
  if (configured) {
    t = Date.now();
    const withLlm: Classification[] = [];
    for (const f of facts) withLlm.push(await configured.classify(f, policy));
    results.push(evaluate(`ensemble with LLM ${process.env.WARDEN_LLM_MODEL}`, 'the committed model (trained on this whole split: NOT out-of-fold) + rules + LLM', records, withLlm, categories, (Date.now() - t) / 1000, lines));
  }

  const triageResults = triageFigures(records, ensemble, policy, lines);
  const flagged = facts.filter((f) => findInstructions(`${f.title}\n${f.description}`).length).length;
  lines.push('', `instruction-like text (src/domain/prompt-injection.ts) found in ${flagged} of ${records.length} dev reports (false positives: every record is a plain breach summary)`);
  lines.push(`the model abstained (too few known words, under minCoverage ${settings.minCoverage}) on ${abstained.length} of ${records.length} held-out reports${abstained.length ? `: ${abstained.slice(0, 5).join('; ')}` : ''}; where it abstains, "text model" above counts the rules' answer`);
  lines.push(`per fold: ${chosen.map((c) => `l2 ${c.l2}, T ${c.temperature}, ${c.vocabulary} features`).join('; ')}`);
  const refit = fitRulesCalibration(records.map((r, i) => ({ report: facts[i], label: r.labels.category })), policy, RULES_CALIBRATION.measuredOn);
  lines.push(`rules calibration (whole split; RULES_CALIBRATION in src/domain/categorize.ts): ${JSON.stringify(refit)}`);
  if (JSON.stringify(refit) !== JSON.stringify(RULES_CALIBRATION)) lines.push('  the committed table differs from this refit: keyword lists changed since it was measured');
  lines.push(`total ${((Date.now() - started) / 1000).toFixed(1)}s`);
  for (const line of lines) console.log(line);

  emitResult({
    dataset: 'hhs-ocr-dev.jsonl',
    records: records.length,
    folds: FOLDS,
    seed: OUTER_SEED,
    minSupport: MIN_SUPPORT,
    classifiers: results,
    triage: triageResults,
    instructionFalsePositives: flagged,
    modelAbstained: abstained.length,
    perFold: chosen,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
