/**
 * warden classifier train: (re)train the text model the policy's `classification.model` names.
 *
 *   warden classifier train [--dataset <jsonl>] [--cases] [--out <file>] [--json]
 *
 *   --dataset   labeled reports, one JSON object a line with `text` and `labels.category` (and
 *               `source`); default ../shared/datasets/hhs-ocr-dev.jsonl next to the repository.
 *               `--dataset none` trains on closed cases alone.
 *   --cases     also learn from the team's own closed cases, read back from Temporal: a case
 *               whose category a person overrode is labeled with the override, a case whose
 *               proposed triage a person confirmed with the category it had. Cases closed as
 *               false alarms or duplicates, and cases no person judged, are left out: an answer
 *               nobody looked at would only teach the model its own mistakes.
 *   --out       where the model goes; default config/models/category.json.
 *
 * Training is deterministic (src/domain/text-model.ts): the regularisation is chosen by 5-fold
 * cross-validation over the examples, the confidence calibrated on the same folds, and the same
 * examples give the same file. A running worker picks the new file up on its next case.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { type CaseView, categoryOf } from './domain';
import { modelInput, type TextExample, type TextModel, trainTextModel } from './domain/text-model';
import { connectClient } from './temporal';
import { WORKFLOW_TYPE } from './workflows/definitions';

const ROOT = resolve(__dirname, __dirname.split('/').includes('dist') ? '../..' : '..');
export const DEFAULT_DATASET = resolve(ROOT, '../shared/datasets/hhs-ocr-dev.jsonl');
export const DEFAULT_MODEL_PATH = resolve(ROOT, 'config/models/category.json');

export const CLASSIFIER_USAGE = 'warden classifier train [--dataset <jsonl>|none] [--cases] [--out <file>] [--json]';

export class ClassifierUsageError extends Error {}

/** The first sentence of a text (at most 200 characters): the title a dataset record would have had. */
export function firstSentence(text: string): string {
  return text.split(/(?<=[.!?])\s+(?=[A-Z0-9("“])/)[0].slice(0, 200);
}

/** A dataset's examples and its provenance (SHA-256 of the file as read). */
export function readDataset(path: string): { examples: TextExample[]; dataset: { name: string; sha256: string; records: number } } {
  const text = readFileSync(path, 'utf8');
  const examples: TextExample[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let record: { text?: unknown; source?: unknown; labels?: { category?: unknown } };
    try {
      record = JSON.parse(line);
    } catch {
      throw new ClassifierUsageError(`${path}:${i + 1}: not JSON`);
    }
    if (typeof record.text !== 'string' || typeof record.labels?.category !== 'string')
      throw new ClassifierUsageError(`${path}:${i + 1}: a record needs "text" and "labels.category"`);
    examples.push({
      text: modelInput({ title: firstSentence(record.text), description: record.text }),
      label: record.labels.category,
      source: typeof record.source === 'string' ? record.source : basename(path),
    });
  });
  return { examples, dataset: { name: basename(path), sha256: createHash('sha256').update(text).digest('hex'), records: examples.length } };
}

/**
 * A closed case as a training example: the first report's words, labeled by a person's override
 * or confirmation; none when no person judged its category, or it was no incident of one.
 */
export function caseExample(view: CaseView): (TextExample & { how: 'override' | 'confirmed' }) | undefined {
  const report = view.firstReport;
  if (!report || !view.classification) return undefined;
  const resolution = view.closure?.resolution;
  if (resolution === 'false-alarm' || resolution === 'duplicate') return undefined;
  const text = modelInput({ title: report.title, description: report.description });
  if (!text.trim()) return undefined;
  const overridden = view.overrides.some((o) => o.category);
  if (overridden) return { text, label: categoryOf(view)!, source: 'cases', how: 'override' };
  const decided = view.proposal?.decided;
  if (decided?.how === 'confirmed' && !view.proposal?.autoClose) return { text, label: view.classification.category, source: 'cases', how: 'confirmed' };
  return undefined;
}

/** Every closed case a person judged, as examples (read from the completed case workflows' results). */
export async function closedCaseExamples(client: Client): Promise<{ examples: TextExample[]; overrides: number; confirmations: number; closed: number }> {
  const examples: TextExample[] = [];
  let overrides = 0;
  let confirmations = 0;
  let closed = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'` })) {
    closed++;
    const view = (await client.workflow.getHandle(wf.workflowId, wf.runId).result()) as CaseView;
    const example = caseExample(view);
    if (!example) continue;
    if (example.how === 'override') overrides++;
    else confirmations++;
    examples.push({ text: example.text, label: example.label, source: example.source });
  }
  // Listing order is the server's; the model must not depend on it.
  examples.sort((a, b) => (a.label + a.text < b.label + b.text ? -1 : a.label + a.text > b.label + b.text ? 1 : 0));
  return { examples, overrides, confirmations, closed };
}

export interface TrainSummary {
  out: string;
  version: string;
  records: number;
  bySource: Record<string, number>;
  byClass: Record<string, number>;
  vocabulary: number;
  l2: number;
  temperature: number;
  bytes: number;
  cases?: { closed: number; overrides: number; confirmations: number };
}

/** Train and write the model; what was trained, for the operator. */
export async function trainClassifier(options: { dataset?: string; cases?: Client; out: string }): Promise<{ model: TextModel; summary: TrainSummary }> {
  const examples: TextExample[] = [];
  const datasets: TextModel['trainedOn']['datasets'] = [];
  if (options.dataset) {
    const read = readDataset(options.dataset);
    examples.push(...read.examples);
    datasets.push(read.dataset);
  }
  let cases: TrainSummary['cases'];
  if (options.cases) {
    const found = await closedCaseExamples(options.cases);
    examples.push(...found.examples);
    cases = { closed: found.closed, overrides: found.overrides, confirmations: found.confirmations };
    const lines = found.examples.map((e) => JSON.stringify([e.label, e.text])).join('\n');
    datasets.push({ name: 'closed cases (overridden or confirmed)', sha256: createHash('sha256').update(lines).digest('hex'), records: found.examples.length });
  }
  if (!examples.length) throw new ClassifierUsageError('classifier train: no examples (give --dataset, or --cases with closed cases a person judged)');
  const model = trainTextModel(examples, { datasets });
  const json = `${JSON.stringify(model)}\n`;
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, json);
  return {
    model,
    summary: {
      out: options.out,
      version: model.version,
      records: model.trainedOn.records,
      bySource: model.trainedOn.bySource,
      byClass: model.trainedOn.byClass,
      vocabulary: model.vocabulary.length,
      l2: model.training.l2,
      temperature: model.temperature,
      bytes: Buffer.byteLength(json),
      ...(cases ? { cases } : {}),
    },
  };
}

function render(s: TrainSummary, model: TextModel): string {
  const best = model.training.candidates.find((c) => c.l2 === model.training.l2);
  return [
    `wrote ${s.out} (${(s.bytes / 1024).toFixed(0)} KiB), model ${s.version}`,
    `trained on ${s.records} examples: ${Object.entries(s.bySource).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...(s.cases ? [`closed cases: ${s.cases.closed} read, ${s.cases.overrides} overridden and ${s.cases.confirmations} confirmed by a person used`] : []),
    `classes: ${Object.entries(s.byClass).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `vocabulary ${s.vocabulary} features; l2 ${s.l2} chosen by ${model.training.folds}-fold cross-validation${best ? ` (out-of-fold accuracy ${best.accuracy}, macro-F1 ${best.macroF1})` : ''}; temperature ${s.temperature}`,
  ].join('\n');
}

/** `warden classifier …`: the exit code. */
export async function runClassifierCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dataset: { type: 'string' }, cases: { type: 'boolean' }, out: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals[0] !== 'train') throw new ClassifierUsageError(`usage: ${CLASSIFIER_USAGE}`);
  const dataset = values.dataset === 'none' ? undefined : resolve(values.dataset ?? DEFAULT_DATASET);
  const out = resolve(values.out ?? DEFAULT_MODEL_PATH);
  const connected = values.cases ? await connectClient() : undefined;
  try {
    const { model, summary } = await trainClassifier({ dataset, cases: connected?.client, out });
    console.log(values.json ? JSON.stringify(summary, null, 2) : render(summary, model));
    return 0;
  } finally {
    await connected?.connection.close();
  }
}
