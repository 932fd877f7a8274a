/** The learned text classifier (src/domain/text-model.ts): pure, deterministic, calibrated, checked. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256Hex } from '../src/domain/sha256';
import {
  checkTextModel,
  classificationScores,
  featureCounts,
  fitTemperature,
  modelInput,
  predict,
  seededRandom,
  stratifiedFolds,
  type TextExample,
  type TextModel,
  textModelVersion,
  tokenize,
  trainTextModel,
  vocabularyCoverage,
} from '../src/domain/text-model';
import { testPolicy } from './support/warden';

const ROOT = resolve(__dirname, '..');

/** A small corpus in three kinds, with enough variety that held-out wording still classifies. */
function corpus(): TextExample[] {
  const random = seededRandom(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const kinds: Record<string, { verbs: string[]; objects: string[] }> = {
    malware: { verbs: ['ransomware encrypted', 'malware infected', 'a virus hit', 'ransomware locked'], objects: ['the file server', 'two workstations', 'the billing server', 'the imaging system'] },
    phishing: { verbs: ['a phishing email fooled', 'a spoofed invoice tricked', 'a phishing link caught', 'a phishing message targeted'], objects: ['an accountant', 'the front desk', 'two nurses', 'a manager'] },
    'lost-device': { verbs: ['someone stole', 'staff lost', 'a thief took', 'an employee misplaced'], objects: ['an unencrypted laptop', 'a backup drive', 'a phone', 'a box of paper records'] },
  };
  const examples: TextExample[] = [];
  for (const [label, { verbs, objects }] of Object.entries(kinds))
    for (let i = 0; i < 24; i++)
      examples.push({ text: `The covered entity reported that ${pick(verbs)} ${pick(objects)}, affecting ${500 + i * 37} individuals.`, label, source: i % 4 ? 'dataset' : 'cases' });
  return examples;
}

describe('sha256Hex', () => {
  test.each(['', 'abc', 'The covered entity (CE) — “quoted” ☃ 𝄞', 'x'.repeat(1_000), 'y'.repeat(55), 'z'.repeat(64)])('matches node:crypto for %p', (text) => {
    expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
  });
});

describe('features', () => {
  test('tokens are lower-case words; every number is "#"; quotes straightened, possessives dropped', () => {
    expect(tokenize('The CE’s server held 640,436 records (ePHI) on 12/22/2011.')).toEqual(['the', 'ce', 'server', 'held', '#', 'records', 'ephi', 'on', '#', '#', '#']);
  });

  test('unigrams and bigrams, with counts; character n-grams only when asked', () => {
    const counts = featureCounts('ransomware attack, ransomware note', { wordNgrams: 2, minDf: 1 });
    expect(counts.get('ransomware')).toBe(2);
    expect(counts.get('ransomware attack')).toBe(1);
    expect(counts.get('attack ransomware')).toBe(1);
    expect([...counts.keys()].some((k) => k.startsWith('c:'))).toBe(false);
    expect(featureCounts('virus', { wordNgrams: 1, charNgrams: [3, 3], minDf: 1 }).get('c: vi')).toBe(1);
  });

  test("coverage: the share of a text's content words a vocabulary knows (function words and numbers aside)", () => {
    expect(vocabularyCoverage('The laptop of the nurse was stolen in 2019', new Set(['laptop', 'stolen']))).toBe(2 / 3);
    expect(vocabularyCoverage('of the 2019', new Set())).toBe(0);
  });

  test('the model reads the title once: a description that starts with it is the whole text', () => {
    expect(modelInput({ title: 'Laptop stolen.', description: 'Laptop stolen. It held PHI.' })).toBe('Laptop stolen. It held PHI.');
    expect(modelInput({ title: 'Laptop stolen', description: 'It held PHI.' })).toBe('Laptop stolen\nIt held PHI.');
  });
});

describe('stratified folds', () => {
  test('deterministic for a seed, different for another, and every class spread over every fold', () => {
    const labels = [...Array(30).fill('a'), ...Array(10).fill('b'), ...Array(5).fill('c')];
    const folds = stratifiedFolds(labels, 5, 1);
    expect(stratifiedFolds(labels, 5, 1)).toEqual(folds);
    expect(stratifiedFolds(labels, 5, 2)).not.toEqual(folds);
    for (const label of ['a', 'b', 'c'])
      for (let k = 0; k < 5; k++) expect(labels.filter((l, i) => l === label && folds[i] === k).length).toBe({ a: 6, b: 2, c: 1 }[label]);
  });
});

describe('training', () => {
  const examples = corpus();
  let model: TextModel;
  beforeAll(() => {
    model = trainTextModel(examples, { features: { wordNgrams: 2, minDf: 1 }, l2: [1e-3, 1e-2], folds: 3 });
  });

  test('the same examples give the same model, byte for byte', () => {
    const again = trainTextModel(examples, { features: { wordNgrams: 2, minDf: 1 }, l2: [1e-3, 1e-2], folds: 3 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(model));
    expect(model.version).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  test('it classifies wording it never saw, with a distribution that sums to one', () => {
    const p = predict(model, 'A thief stole a laptop from a car.');
    expect(p.category).toBe('lost-device');
    expect(p.ranked.map((r) => r.category).sort()).toEqual(['lost-device', 'malware', 'phishing']);
    expect(p.ranked.reduce((s, r) => s + r.p, 0)).toBeCloseTo(1, 6);
    expect(p.confidence).toBe(p.ranked[0].p);
    expect(p.evidence.length).toBeGreaterThan(0);
    expect(p.evidence.every((e) => !['"a"', '"from"', '"#"'].includes(e))).toBe(true); // function words are no evidence
    expect(p.coverage).toBe(0.75); // thief, stole, laptop known; car not
    expect(predict(model, 'Suspicious beaconing to a command-and-control host').coverage).toBe(0);
    expect(predict(model, 'Ransomware encrypted the payroll server.').category).toBe('malware');
    expect(predict(model, 'An accountant clicked a phishing email.').category).toBe('phishing');
  });

  test('its provenance, the settings tried, and the temperature are recorded', () => {
    expect(model.trainedOn).toMatchObject({ records: 72, bySource: { cases: 18, dataset: 54 }, byClass: { 'lost-device': 24, malware: 24, phishing: 24 } });
    expect(model.training.candidates.map((c) => c.l2)).toEqual([1e-2, 1e-3]);
    expect(model.training.folds).toBe(3);
    expect(model.temperature).toBeGreaterThan(0);
    expect(model.training.calibration!.logLossAfter).toBeLessThanOrEqual(model.training.calibration!.logLossBefore + 1e-9);
  });

  test('a model file is checked: its shape, and its content against its version', () => {
    const roundTrip = JSON.parse(JSON.stringify(model));
    expect(checkTextModel(roundTrip)).toEqual({ model: roundTrip });
    const tampered = JSON.parse(JSON.stringify(model));
    tampered.weights[0][0] += 1;
    expect(checkTextModel(tampered)).toEqual({ problem: expect.stringMatching(/^its content hashes to sha256:[0-9a-f]{16}, not to its recorded version/) });
    expect(checkTextModel({ format: 'something else' })).toEqual({ problem: expect.stringContaining('format') });
    expect(textModelVersion(tampered)).not.toBe(model.version);
  });
});

describe('calibration', () => {
  test('temperature scaling recovers the scale of over-confident logits', () => {
    // Logits whose softmax is the true probability, then sharpened three times over.
    const random = seededRandom(3);
    const scores: Float64Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < 4_000; i++) {
      const z = [random() * 4 - 2, random() * 4 - 2, random() * 4 - 2];
      const e = z.map(Math.exp);
      const sum = e.reduce((s, x) => s + x, 0);
      const u = random();
      y.push(u < e[0] / sum ? 0 : u < (e[0] + e[1]) / sum ? 1 : 2);
      scores.push(Float64Array.from(z, (v) => v * 3));
    }
    expect(fitTemperature(scores, y)).toBeGreaterThan(2.6);
    expect(fitTemperature(scores, y)).toBeLessThan(3.4);
  });

  test('classification scores: macro-F1 only over the classes with enough support', () => {
    const s = classificationScores(['a', 'a', 'a', 'b'], ['a', 'a', 'b', 'b'], 2);
    expect(s.accuracy).toBe(0.75);
    expect(s.macroF1Classes).toEqual(['a']);
    expect(s.perClass.a).toMatchObject({ precision: 1, recall: 2 / 3 });
    expect(s.macroF1).toBeCloseTo(0.8, 6);
  });
});

describe('the committed model (config/models/category.json)', () => {
  const path = resolve(ROOT, 'config/models/category.json');
  const raw = JSON.parse(readFileSync(path, 'utf8'));

  test('is a valid model whose classes are taxonomy categories, small enough to commit', () => {
    const checked = checkTextModel(raw);
    expect('model' in checked).toBe(true);
    const ids = testPolicy().taxonomy.map((c) => c.id);
    expect(raw.classes.every((c: string) => ids.includes(c))).toBe(true);
    expect(statSync(path).size).toBeLessThan(300 * 1024);
  });

  test('was trained on the whole dev split, as its provenance says', () => {
    expect(raw.trainedOn.records).toBe(1184);
    expect(raw.trainedOn.bySource).toEqual({ 'hhs-ocr': 1184 });
    const dataset = resolve(ROOT, '../shared/datasets/hhs-ocr-dev.jsonl');
    if (existsSync(dataset))
      expect(raw.trainedOn.datasets).toEqual([{ name: 'hhs-ocr-dev.jsonl', sha256: createHash('sha256').update(readFileSync(dataset)).digest('hex'), records: 1184 }]);
  });

  test('reads incident reports it was not trained on', () => {
    const model = raw as TextModel;
    expect(predict(model, 'Ransomware encrypted the file servers and left a ransom note.').category).toBe('malware');
    expect(predict(model, 'An employee clicked a link in a phishing email and entered her password.').category).toBe('phishing');
    expect(predict(model, 'An unencrypted laptop was stolen from a car.').category).toBe('lost-device');
    expect(predict(model, 'Letters with patient information were mailed to the wrong addresses.').category).toBe('data-exposure');
  });
});
