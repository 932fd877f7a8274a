/**
 * The learned text classifier: multinomial logistic regression (softmax) over the words of a
 * report, trained on labeled incidents (the HHS OCR dev split, and the team's own closed cases
 * where a person set or confirmed the category). Small, explainable, deterministic, and pure: no
 * I/O, no clock, no randomness but a seeded generator, so workflows, activities, the CLI and
 * the bench can all import it, and the same examples always give the same model, byte for byte.
 *
 * Features. The text is lower-cased, curly quotes are straightened, a possessive 's dropped, and
 * it is cut into words (runs of letters) and numbers (every number is the one token "#", since a
 * count of individuals says nothing about the kind of incident). The features are the word
 * n-grams up to `wordNgrams` (1: unigrams, 2: unigrams and bigrams) and, when `charNgrams` is
 * set, the character n-grams of each word padded with spaces ("c: ran", "c:rans"…). A feature
 * seen in fewer than `minDf` training documents is dropped: that prunes the vocabulary to what
 * generalises and keeps the model file small. Each document is a sublinear tf-idf vector,
 * (1 + ln tf) × (ln((1 + N) / (1 + df)) + 1), scaled to unit length.
 *
 * Training. The weights minimise the mean cross-entropy (each example weighted, by default so
 * that every class weighs the same in total: "balanced") plus (l2 / 2)·‖W‖², the biases not
 * regularised, by L-BFGS from zero in a fixed order of examples: no randomness at all. When
 * several `l2` or `classWeight` values are given, each is scored by stratified k-fold cross-
 * validation over the training examples only (macro-F1 over the classes with at least
 * `minSupport` examples, ties to the lower log-loss), and the best is trained on all of them.
 *
 * Calibration. A softmax's probabilities are usually over- or under-confident. `trainTextModel`
 * collects the out-of-fold logits of the chosen setting (the same k folds) and fits one
 * temperature T by minimising their negative log-likelihood (golden-section search over log T):
 * `predict` answers softmax(logits / T). The argmax does not change, the confidence becomes a
 * probability one can act on: of the predictions made with confidence 0.8, about 80% are right
 * on data like the training data. bench/classify-dataset.ts reports the calibration error
 * measured on held-out folds.
 *
 * The model is JSON (`TextModel`): classes, vocabulary, idf, weights rounded to `weightDigits`
 * decimals, biases, the temperature, how it was trained and on what (`trainedOn`: counts per
 * source and class, datasets with their SHA-256), and `version`, a content hash of everything
 * that decides a prediction, so a case records exactly which model categorized it.
 */
import { z } from 'zod';
import { sha256Hex } from './sha256';

export const TEXT_MODEL_FORMAT = 'warden-text-model/1';

export interface FeatureSpec {
  /** Word n-grams up to this length: 1 unigrams, 2 unigrams and bigrams, 3 adds trigrams. */
  wordNgrams: number;
  /** Character n-grams of each word (padded with a space each side), lengths min..max; none when absent. */
  charNgrams?: [number, number];
  /** A feature must occur in at least this many training documents. */
  minDf: number;
}

export const DEFAULT_FEATURES: FeatureSpec = { wordNgrams: 2, minDf: 3 };

export type ClassWeighting = 'balanced' | 'none';

export interface TextExample {
  text: string;
  label: string;
  /** Where the example comes from (e.g. "hhs-ocr", "cases"), counted in the provenance. */
  source?: string;
}

export interface TrainOptions {
  features: FeatureSpec;
  /** L2 penalty; several: chosen by inner cross-validation over the examples. */
  l2: number | number[];
  classWeight: ClassWeighting | ClassWeighting[];
  /** Folds of the inner cross-validation (selection and calibration); 0 or 1: none, temperature 1. */
  folds: number;
  /** Seed of the fold assignment (the only thing a seed decides here). */
  seed: number;
  maxIterations: number;
  /** Selection scores macro-F1 over the classes with at least this many examples. */
  minSupport: number;
  /** Decimals the weights are rounded to in the model. */
  weightDigits: number;
  /** Datasets the examples came from, for the provenance (hashes computed by whoever read them). */
  datasets: { name: string; sha256: string; records: number }[];
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  features: DEFAULT_FEATURES,
  l2: [3e-5, 1e-4, 3e-4],
  classWeight: 'balanced',
  folds: 5,
  seed: 13,
  maxIterations: 300,
  minSupport: 30,
  weightDigits: 2,
  datasets: [],
};

const FeatureSpecSchema = z.object({
  wordNgrams: z.number().int().min(1).max(4),
  charNgrams: z.tuple([z.number().int().min(1), z.number().int().min(1)]).optional(),
  minDf: z.number().int().min(1),
});

export const TextModelSchema = z.object({
  format: z.literal(TEXT_MODEL_FORMAT),
  /** sha256:<16 hex> over the fields that decide a prediction. */
  version: z.string().regex(/^sha256:[0-9a-f]{16}$/),
  classes: z.array(z.string().min(1)).min(1),
  features: FeatureSpecSchema,
  vocabulary: z.array(z.string()),
  idf: z.array(z.number()),
  /** weights[c][j]: class c, feature j of the vocabulary. */
  weights: z.array(z.array(z.number())),
  bias: z.array(z.number()),
  temperature: z.number().positive(),
  training: z.object({
    l2: z.number(),
    classWeight: z.enum(['balanced', 'none']),
    folds: z.number().int(),
    seed: z.number().int(),
    iterations: z.number().int(),
    /** Each setting tried by the inner cross-validation, with its out-of-fold scores. */
    candidates: z.array(z.object({ l2: z.number(), classWeight: z.string(), macroF1: z.number(), accuracy: z.number(), logLoss: z.number() })),
    /** Out-of-fold log-loss before and after the temperature. */
    calibration: z.object({ logLossBefore: z.number(), logLossAfter: z.number() }).optional(),
  }),
  trainedOn: z.object({
    records: z.number().int(),
    bySource: z.record(z.number().int()),
    byClass: z.record(z.number().int()),
    datasets: z.array(z.object({ name: z.string(), sha256: z.string(), records: z.number().int() })),
  }),
});

export type TextModel = z.infer<typeof TextModelSchema>;

export interface Prediction {
  /**
   * The share of the text's content words (three letters or more, not a stop word) the model
   * knows. A model trained on other kinds of reports knows few of a report's words: its answer
   * is then a guess whatever its confidence says, and the ensemble leaves it out.
   */
  coverage: number;
  category: string;
  /** The calibrated probability of `category`. */
  confidence: number;
  /** Every class, most probable first. */
  ranked: { category: string; p: number }[];
  /** The features of the text that pushed hardest towards `category`, strongest first. */
  evidence: string[];
}

// ---------------------------------------------------------------------------------------------
// Text → features

/** Words (letters) and numbers (all "#"), lower-cased; quotes straightened, possessive 's dropped. */
export function tokenize(text: string): string[] {
  const normal = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`´]/g, "'")
    .replace(/'s\b/g, '');
  return (normal.match(/[a-z]+|\d+(?:[.,]\d+)*/g) ?? []).map((t) => (t.charCodeAt(0) < 97 ? '#' : t));
}

/** Function words: not counted in `coverage`, and never shown as a prediction's evidence. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'the a an and or of to in on at by for from with as is was were be been being has have had it its this that these those which who whom ' +
    'their his her they them he she we our you your not no but if then than so such into onto upon about after before during between over ' +
    'under also may might can could would should will shall did do does any all each other some more most very'
  ).split(' '),
);

/** The share of a text's content words that are in a vocabulary (0 for a text with none). */
export function vocabularyCoverage(text: string, known: { has(term: string): boolean }): number {
  const words = tokenize(text).filter((t) => t !== '#' && t.length >= 3 && !STOP_WORDS.has(t));
  return words.length ? words.filter((w) => known.has(w)).length / words.length : 0;
}

/** The text a model reads for a report: the title and the description, the title once. */
export function modelInput(report: { title: string; description: string }): string {
  const title = report.title.trim();
  const description = report.description.trim();
  if (!title) return description;
  if (description.startsWith(title)) return description;
  return `${title}\n${description}`;
}

/** The features of a text with their counts. */
export function featureCounts(text: string, spec: FeatureSpec): Map<string, number> {
  const tokens = tokenize(text);
  const counts = new Map<string, number>();
  const add = (t: string) => counts.set(t, (counts.get(t) ?? 0) + 1);
  for (let n = 1; n <= spec.wordNgrams; n++)
    for (let i = 0; i + n <= tokens.length; i++) add(n === 1 ? tokens[i] : tokens.slice(i, i + n).join(' '));
  if (spec.charNgrams) {
    const [min, max] = spec.charNgrams;
    for (const token of tokens) {
      if (token === '#') continue;
      const padded = ` ${token} `;
      for (let n = min; n <= max; n++) for (let i = 0; i + n <= padded.length; i++) add(`c:${padded.slice(i, i + n)}`);
    }
  }
  return counts;
}

interface Sparse {
  idx: Int32Array;
  val: Float64Array;
}

interface Vocabulary {
  terms: string[];
  index: Map<string, number>;
  idf: Float64Array;
}

function buildVocabulary(docs: Map<string, number>[], minDf: number): Vocabulary {
  const df = new Map<string, number>();
  for (const doc of docs) for (const term of doc.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const terms = [...df.entries()]
    .filter(([, n]) => n >= minDf)
    .map(([t]) => t)
    .sort();
  const idf = Float64Array.from(terms, (t) => Math.log((1 + docs.length) / (1 + df.get(t)!)) + 1);
  return { terms, index: new Map(terms.map((t, i) => [t, i])), idf };
}

function vectorize(counts: Map<string, number>, index: Map<string, number>, idf: ArrayLike<number>): Sparse {
  const entries: [number, number][] = [];
  for (const [term, tf] of counts) {
    const j = index.get(term);
    if (j !== undefined) entries.push([j, (1 + Math.log(tf)) * idf[j]]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  const norm = Math.sqrt(entries.reduce((s, [, v]) => s + v * v, 0)) || 1;
  return { idx: Int32Array.from(entries, (e) => e[0]), val: Float64Array.from(entries, (e) => e[1] / norm) };
}

// ---------------------------------------------------------------------------------------------
// Deterministic folds

/** A small seeded generator (mulberry32): the same seed, the same sequence, everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Stratified k-fold assignment: fold[i] for example i. Each class is shuffled with the seeded
 * generator and dealt round-robin, continuing where the previous class stopped, so every fold
 * gets a near-equal share of every class and of the whole.
 */
export function stratifiedFolds(labels: string[], k: number, seed: number): number[] {
  const random = seededRandom(seed);
  const byClass = new Map<string, number[]>();
  labels.forEach((label, i) => (byClass.get(label) ?? byClass.set(label, []).get(label)!).push(i));
  const fold = new Array<number>(labels.length).fill(0);
  let next = 0;
  for (const label of [...byClass.keys()].sort()) {
    const members = byClass.get(label)!;
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    for (const i of members) fold[i] = next++ % k;
  }
  return fold;
}

// ---------------------------------------------------------------------------------------------
// Softmax regression by L-BFGS

interface Problem {
  x: Sparse[];
  y: Int32Array;
  w: Float64Array;
  classes: number;
  features: number;
  l2: number;
}

/** Parameters, feature-major: class c's weight for feature j at j·C + c, its bias at F·C + c. */
function logits(theta: Float64Array, x: Sparse, classes: number, features: number, out: Float64Array): void {
  const biases = features * classes;
  for (let c = 0; c < classes; c++) out[c] = theta[biases + c];
  for (let k = 0; k < x.idx.length; k++) {
    const base = x.idx[k] * classes;
    const v = x.val[k];
    for (let c = 0; c < classes; c++) out[c] += theta[base + c] * v;
  }
}

function softmaxInPlace(z: Float64Array | number[]): number {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp(z[c] - max);
    sum += z[c];
  }
  for (let c = 0; c < z.length; c++) z[c] /= sum;
  return max + Math.log(sum);
}

export const evalCount = { n: 0 };
function objective(p: Problem, theta: Float64Array, grad: Float64Array): number {
  evalCount.n++;
  const { classes, features } = p;
  const biases = features * classes;
  grad.fill(0);
  const z = new Float64Array(classes);
  let loss = 0;
  let total = 0;
  for (let i = 0; i < p.x.length; i++) {
    const x = p.x[i];
    const wi = p.w[i];
    const yi = p.y[i];
    total += wi;
    logits(theta, x, classes, features, z);
    const zy = z[yi];
    const lse = softmaxInPlace(z);
    loss += wi * (lse - zy);
    for (let c = 0; c < classes; c++) {
      z[c] = wi * (z[c] - (c === yi ? 1 : 0));
      grad[biases + c] += z[c];
    }
    for (let k = 0; k < x.idx.length; k++) {
      const base = x.idx[k] * classes;
      const v = x.val[k];
      for (let c = 0; c < classes; c++) grad[base + c] += z[c] * v;
    }
  }
  const scale = total > 0 ? 1 / total : 0;
  let penalty = 0;
  for (let i = 0; i < biases; i++) {
    const t = theta[i];
    penalty += t * t;
    grad[i] = grad[i] * scale + p.l2 * t;
  }
  for (let c = 0; c < classes; c++) grad[biases + c] *= scale;
  return loss * scale + 0.5 * p.l2 * penalty;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Minimise by L-BFGS (memory 10, backtracking Armijo line search); returns the iterations used. */
function lbfgs(p: Problem, theta: Float64Array, maxIterations: number): number {
  const n = theta.length;
  const memory = 10;
  const s: Float64Array[] = [];
  const yv: Float64Array[] = [];
  const rho: number[] = [];
  let grad = new Float64Array(n);
  let f = objective(p, theta, grad);
  const next = new Float64Array(n);
  let nextGrad = new Float64Array(n);
  const dir = new Float64Array(n);
  const alpha = new Array<number>(memory);
  let it = 0;
  for (; it < maxIterations; it++) {
    // Two-loop recursion: dir = −H·grad.
    for (let i = 0; i < n; i++) dir[i] = -grad[i];
    for (let m = s.length - 1; m >= 0; m--) {
      alpha[m] = rho[m] * dot(s[m], dir);
      const ym = yv[m];
      for (let i = 0; i < n; i++) dir[i] -= alpha[m] * ym[i];
    }
    if (s.length) {
      const last = s.length - 1;
      const gamma = dot(s[last], yv[last]) / dot(yv[last], yv[last]);
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    }
    for (let m = 0; m < s.length; m++) {
      const beta = rho[m] * dot(yv[m], dir);
      const sm = s[m];
      for (let i = 0; i < n; i++) dir[i] += (alpha[m] - beta) * sm[i];
    }
    let slope = dot(grad, dir);
    if (!(slope < 0)) {
      s.length = yv.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -grad[i];
      slope = dot(grad, dir);
    }
    let step = s.length ? 1 : 1 / Math.max(1, Math.sqrt(-slope));
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) next[i] = theta[i] + step * dir[i];
      fNext = objective(p, next, nextGrad);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext < f)) break; // no progress possible at this precision
    const sNew = new Float64Array(n);
    const yNew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sNew[i] = next[i] - theta[i];
      yNew[i] = nextGrad[i] - grad[i];
    }
    const sy = dot(sNew, yNew);
    if (sy > 1e-12) {
      s.push(sNew);
      yv.push(yNew);
      rho.push(1 / sy);
      if (s.length > memory) {
        s.shift();
        yv.shift();
        rho.shift();
      }
    }
    theta.set(next);
    [grad, nextGrad] = [nextGrad, grad];
    const decrease = f - fNext;
    f = fNext;
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(grad[i]));
    if (gmax < 1e-5 || decrease < 1e-8 * Math.max(1, Math.abs(f))) {
      it++;
      break;
    }
  }
  return it;
}

// ---------------------------------------------------------------------------------------------
// Training, selection, calibration

interface Fitted {
  classes: string[];
  vocabulary: Vocabulary;
  theta: Float64Array;
  iterations: number;
}

function classWeights(y: Int32Array, classes: number, weighting: ClassWeighting): Float64Array {
  if (weighting === 'none') return new Float64Array(y.length).fill(1);
  const count = new Float64Array(classes);
  for (const c of y) count[c]++;
  const present = count.filter((n) => n > 0).length;
  return Float64Array.from(y, (c) => y.length / (present * count[c]));
}

function fitOn(docs: Map<string, number>[], labels: string[], classes: string[], spec: FeatureSpec, l2: number, weighting: ClassWeighting, maxIterations: number): Fitted {
  const vocabulary = buildVocabulary(docs, spec.minDf);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const x = docs.map((d) => vectorize(d, vocabulary.index, vocabulary.idf));
  const y = Int32Array.from(labels, (l) => classIndex.get(l)!);
  const problem: Problem = { x, y, w: classWeights(y, classes.length, weighting), classes: classes.length, features: vocabulary.terms.length, l2 };
  const theta = new Float64Array(classes.length * (vocabulary.terms.length + 1));
  const iterations = lbfgs(problem, theta, maxIterations);
  return { classes, vocabulary, theta, iterations };
}

function fittedLogits(model: Fitted, doc: Map<string, number>): Float64Array {
  const z = new Float64Array(model.classes.length);
  logits(model.theta, vectorize(doc, model.vocabulary.index, model.vocabulary.idf), model.classes.length, model.vocabulary.terms.length, z);
  return z;
}

function nll(scores: Float64Array[], y: number[], temperature: number): number {
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const z = Array.from(scores[i], (v) => v / temperature);
    const zy = z[y[i]];
    total += softmaxInPlace(z) - zy;
  }
  return total / Math.max(1, scores.length);
}

/** The temperature minimising the negative log-likelihood of these logits (golden-section over ln T in [ln 0.05, ln 20]). */
export function fitTemperature(scores: Float64Array[], y: number[]): number {
  if (!scores.length) return 1;
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = nll(scores, y, Math.exp(a));
  let fb = nll(scores, y, Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = nll(scores, y, Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = nll(scores, y, Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

/** Per-class precision, recall and F1, and macro-F1 over the classes with at least `minSupport` true examples. */
export function classificationScores(truth: string[], predicted: string[], minSupport = 1) {
  const classes = [...new Set(truth)].sort();
  const perClass: Record<string, { support: number; precision: number; recall: number; f1: number }> = {};
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < truth.length; i++) {
      if (predicted[i] === c && truth[i] === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (truth[i] === c) fn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    perClass[c] = { support: tp + fn, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
  }
  const scored = classes.filter((c) => perClass[c].support >= minSupport);
  const macroF1 = scored.length ? scored.reduce((s, c) => s + perClass[c].f1, 0) / scored.length : 0;
  const accuracy = truth.length ? truth.filter((t, i) => t === predicted[i]).length / truth.length : 0;
  return { accuracy, macroF1, macroF1Classes: scored, perClass };
}

function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

/** What decides a prediction, canonically: the input of the version hash. */
function decisionContent(m: Pick<TextModel, 'classes' | 'features' | 'vocabulary' | 'idf' | 'weights' | 'bias' | 'temperature'>): string {
  return JSON.stringify([TEXT_MODEL_FORMAT, m.classes, m.features, m.vocabulary, m.idf, m.weights, m.bias, m.temperature]);
}

/** The model's version: sha256 over what decides its predictions (first 16 hex digits). */
export function textModelVersion(m: Pick<TextModel, 'classes' | 'features' | 'vocabulary' | 'idf' | 'weights' | 'bias' | 'temperature'>): string {
  return `sha256:${sha256Hex(decisionContent(m)).slice(0, 16)}`;
}

/** Train (and, given several settings, select by inner cross-validation) and calibrate a model. */
export function trainTextModel(examples: TextExample[], options: Partial<TrainOptions> = {}): TextModel {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  if (!examples.length) throw new Error('trainTextModel: no examples');
  const spec = o.features;
  const labels = examples.map((e) => e.label);
  const classes = [...new Set(labels)].sort();
  const docs = examples.map((e) => featureCounts(e.text, spec));
  const l2s = [...new Set(Array.isArray(o.l2) ? o.l2 : [o.l2])].sort((a, b) => b - a);
  const weightings = [...new Set(Array.isArray(o.classWeight) ? o.classWeight : [o.classWeight])];
  const settings = weightings.flatMap((classWeight) => l2s.map((l2) => ({ l2, classWeight })));
  const folds = o.folds > 1 && examples.length >= o.folds ? stratifiedFolds(labels, o.folds, o.seed) : undefined;

  // Out-of-fold logits for each setting (each fold's vocabulary and idf from its training part only).
  const y = labels.map((l) => classes.indexOf(l));
  const candidates: TextModel['training']['candidates'] = [];
  let best: { setting: (typeof settings)[number]; oof: Float64Array[]; macroF1: number; logLoss: number } | undefined;
  if (folds) {
    for (const setting of settings) {
      const oof = new Array<Float64Array>(examples.length);
      for (let k = 0; k < o.folds; k++) {
        const train = examples.map((_, i) => i).filter((i) => folds[i] !== k);
        const fitted = fitOn(train.map((i) => docs[i]), train.map((i) => labels[i]), classes, spec, setting.l2, setting.classWeight, o.maxIterations);
        examples.forEach((_, i) => {
          if (folds[i] === k) oof[i] = fittedLogits(fitted, docs[i]);
        });
      }
      const predicted = oof.map((z) => classes[argmax(z)]);
      const scores = classificationScores(labels, predicted, o.minSupport);
      const logLoss = nll(oof, y, fitTemperature(oof, y));
      candidates.push({ l2: setting.l2, classWeight: setting.classWeight, macroF1: roundTo(scores.macroF1, 4), accuracy: roundTo(scores.accuracy, 4), logLoss: roundTo(logLoss, 4) });
      if (!best || scores.macroF1 > best.macroF1 + 1e-9 || (Math.abs(scores.macroF1 - best.macroF1) <= 1e-9 && logLoss < best.logLoss))
        best = { setting, oof, macroF1: scores.macroF1, logLoss };
    }
  }
  const chosen = best?.setting ?? settings[0];
  const temperature = best ? fitTemperature(best.oof, y) : 1;
  const fitted = fitOn(docs, labels, classes, spec, chosen.l2, chosen.classWeight, o.maxIterations);

  const features = fitted.vocabulary.terms.length;
  const C = classes.length;
  const weights = classes.map((_, c) => Array.from({ length: features }, (_, j) => roundTo(fitted.theta[j * C + c], o.weightDigits)));
  const bias = classes.map((_, c) => roundTo(fitted.theta[features * C + c], o.weightDigits));
  const content = {
    classes,
    features: spec,
    vocabulary: fitted.vocabulary.terms,
    idf: Array.from(fitted.vocabulary.idf, (v) => roundTo(v, 4)),
    weights,
    bias,
    temperature: roundTo(temperature, 4),
  };
  const count = (key: (e: TextExample) => string) => {
    const counts: Record<string, number> = {};
    for (const e of examples) counts[key(e)] = (counts[key(e)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
  };
  return {
    format: TEXT_MODEL_FORMAT,
    version: textModelVersion(content),
    ...content,
    training: {
      l2: chosen.l2,
      classWeight: chosen.classWeight,
      folds: folds ? o.folds : 0,
      seed: o.seed,
      iterations: fitted.iterations,
      candidates,
      ...(best ? { calibration: { logLossBefore: roundTo(nll(best.oof, y, 1), 4), logLossAfter: roundTo(best.logLoss, 4) } } : {}),
    },
    trainedOn: { records: examples.length, bySource: count((e) => e.source ?? 'unknown'), byClass: count((e) => e.label), datasets: o.datasets },
  };
}

function argmax(z: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < z.length; c++) if (z[c] > z[best]) best = c;
  return best;
}

// ---------------------------------------------------------------------------------------------
// Prediction

const indexes = new WeakMap<TextModel, Map<string, number>>();

function indexOf(model: TextModel): Map<string, number> {
  let index = indexes.get(model);
  if (!index) {
    index = new Map(model.vocabulary.map((t, i) => [t, i]));
    indexes.set(model, index);
  }
  return index;
}

/** Classify a text: the calibrated distribution over the model's classes, and why. */
export function predict(model: TextModel, text: string): Prediction {
  const x = vectorize(featureCounts(text, model.features), indexOf(model), model.idf);
  const z = model.classes.map((_, c) => {
    let s = model.bias[c];
    const w = model.weights[c];
    for (let k = 0; k < x.idx.length; k++) s += w[x.idx[k]] * x.val[k];
    return s / model.temperature;
  });
  softmaxInPlace(z);
  const order = model.classes.map((_, c) => c).sort((a, b) => z[b] - z[a] || a - b);
  const top = order[0];
  const contributions: [string, number][] = [];
  for (let k = 0; k < x.idx.length; k++) contributions.push([model.vocabulary[x.idx[k]], model.weights[top][x.idx[k]] * x.val[k]]);
  const telling = (term: string) => term.startsWith('c:') || term.split(' ').some((t) => t !== '#' && !STOP_WORDS.has(t));
  const evidence = contributions
    .filter(([t, v]) => v > 0 && telling(t))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([t]) => (t.startsWith('c:') ? `"${t.slice(2).trim()}…"` : `"${t}"`));
  return {
    coverage: vocabularyCoverage(text, indexOf(model)),
    category: model.classes[top],
    confidence: z[top],
    ranked: order.map((c) => ({ category: model.classes[c], p: z[c] })),
    evidence,
  };
}

/** Validate a parsed model file; the reason when it is not a model, or its content does not match its version. */
export function checkTextModel(raw: unknown): { model: TextModel } | { problem: string } {
  const parsed = TextModelSchema.safeParse(raw);
  if (!parsed.success) return { problem: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  const m = parsed.data;
  const F = m.vocabulary.length;
  if (m.idf.length !== F || m.weights.length !== m.classes.length || m.bias.length !== m.classes.length || m.weights.some((w) => w.length !== F))
    return { problem: 'the weights do not match the classes and the vocabulary' };
  const version = textModelVersion(m);
  if (version !== m.version) return { problem: `its content hashes to ${version}, not to its recorded version ${m.version}` };
  return { model: m };
}
