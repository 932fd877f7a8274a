/** `warden classifier train`: the dataset, the team's closed cases as labels, the model file. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { caseExample, closedCaseExamples, firstSentence, readDataset, trainClassifier } from '../src/cli-classifier';
import type { CaseView } from '../src/domain';
import { checkTextModel, predict, type TextModel } from '../src/domain/text-model';

const run = promisify(execFile);
const WARDEN = resolve(__dirname, '../bin/warden');

const KINDS: Record<string, string[]> = {
  malware: ['Ransomware encrypted the file server.', 'A virus infected two workstations.', 'Malware locked the billing system.', 'Ransomware hit the imaging archive.'],
  phishing: ['A phishing email fooled an accountant.', 'Staff clicked a phishing link.', 'A spoofed invoice phished the front desk.', 'A phishing message took a password.'],
  'lost-device': ['Someone stole an unencrypted laptop.', 'A backup drive was lost in transit.', 'A thief took a phone from a car.', 'Paper records went missing after a move.'],
};

function writeDataset(dir: string): string {
  const lines: string[] = [];
  for (const [category, texts] of Object.entries(KINDS))
    for (let i = 0; i < 12; i++)
      lines.push(JSON.stringify({ id: `${category}-${i}`, source: 'hhs-ocr', text: `${texts[i % 4]} It affected ${600 + i} individuals.`, labels: { category } }));
  const path = join(dir, 'tiny.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function view(overrides: Partial<CaseView>): CaseView {
  return {
    caseId: 'WRD-1',
    firstReport: { title: 'Laptop stolen from a car', description: 'An unencrypted laptop was taken.' },
    classification: { category: 'malware', classifier: 'ensemble', classifierVersion: '1', confidence: 0.5, rationale: '', matched: [] },
    overrides: [],
    closure: { at: '2026-01-01T00:00:00Z', by: 'bob', resolution: 'resolved', reason: 'done' },
    ...overrides,
  } as unknown as CaseView;
}

describe('warden classifier train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-train-'));
  const dataset = writeDataset(dir);

  test('a dataset trains a model file: checked, deterministic, with its provenance', async () => {
    const out = join(dir, 'models/a.json');
    const { summary } = await trainClassifier({ dataset, out });
    const model = JSON.parse(readFileSync(out, 'utf8')) as TextModel;
    expect('model' in checkTextModel(model)).toBe(true);
    expect(summary).toMatchObject({ out, version: model.version, records: 36, bySource: { 'hhs-ocr': 36 }, byClass: { 'lost-device': 12, malware: 12, phishing: 12 } });
    expect(model.trainedOn.datasets).toEqual([{ name: 'tiny.jsonl', sha256: readDataset(dataset).dataset.sha256, records: 36 }]);
    expect(predict(model, 'Ransomware encrypted the servers.').category).toBe('malware');
    await trainClassifier({ dataset, out: join(dir, 'models/b.json') });
    expect(readFileSync(join(dir, 'models/b.json'), 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  test('a record without text or category is refused with its line', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"text": "ok", "labels": {"category": "malware"}}\n{"text": "no label"}\n');
    expect(() => readDataset(bad)).toThrow(`${bad}:2: a record needs "text" and "labels.category"`);
    expect(firstSentence('The CE reported a theft. The laptop held PHI.')).toBe('The CE reported a theft.');
  });

  test('a closed case is an example when a person overrode or confirmed its category, and only then', () => {
    const override = { at: 'x', by: 'bob', reason: 'it was stolen', category: 'lost-device', was: { category: 'malware' } };
    expect(caseExample(view({ overrides: [override] }))).toEqual({
      text: 'Laptop stolen from a car\nAn unencrypted laptop was taken.',
      label: 'lost-device',
      source: 'cases',
      how: 'override',
    });
    const confirmed = { at: 'x', because: 'votes disagree', category: 'malware', page: false, decided: { by: 'bob', at: 'x', how: 'confirmed' as const } };
    expect(caseExample(view({ proposal: confirmed }))).toMatchObject({ label: 'malware', how: 'confirmed' });
    // Nobody judged it; it was no incident; a confirmed false-alarm closure; only a severity changed.
    expect(caseExample(view({}))).toBeUndefined();
    expect(caseExample(view({ overrides: [override], closure: { at: 'x', by: 'bob', resolution: 'false-alarm', reason: 'test' } }))).toBeUndefined();
    expect(caseExample(view({ proposal: { ...confirmed, autoClose: { rule: 'phishing-simulation', explanation: '' } } }))).toBeUndefined();
    expect(caseExample(view({ overrides: [{ at: 'x', by: 'bob', reason: 'worse', severity: 'SEV2', was: {} }] }))).toBeUndefined();
  });

  test('--cases reads the completed case workflows and keeps the judged ones, in an order of their own', async () => {
    const views = [
      view({ caseId: 'WRD-1', overrides: [{ at: 'x', by: 'bob', reason: 'r', category: 'lost-device', was: {} }] }),
      view({ caseId: 'WRD-2' }),
      view({
        caseId: 'WRD-3',
        firstReport: { title: 'Phishing email', description: 'Staff clicked a phishing link.' } as CaseView['firstReport'],
        classification: { category: 'phishing', classifier: 'ensemble', classifierVersion: '1', confidence: 0.5, rationale: '', matched: [] },
        proposal: { at: 'x', because: 'b', category: 'phishing', page: false, decided: { by: 'carol', at: 'x', how: 'confirmed' } },
      }),
    ];
    const queries: string[] = [];
    const client = {
      workflow: {
        list: ({ query }: { query: string }) => {
          queries.push(query);
          return (async function* () {
            for (const v of views) yield { workflowId: `case-${v.caseId}`, runId: 'r' };
          })();
        },
        getHandle: (workflowId: string) => ({ result: async () => views.find((v) => `case-${v.caseId}` === workflowId) }),
      },
    } as unknown as Client;
    const found = await closedCaseExamples(client);
    expect(queries[0]).toMatch(/ExecutionStatus = 'Completed'/);
    expect(found).toMatchObject({ closed: 3, overrides: 1, confirmations: 1 });
    expect(found.examples.map((e) => e.label)).toEqual(['lost-device', 'phishing']);
    const out = join(dir, 'models/with-cases.json');
    const { summary } = await trainClassifier({ dataset, cases: client, out });
    expect(summary).toMatchObject({ records: 38, bySource: { cases: 2, 'hhs-ocr': 36 }, cases: { closed: 3, overrides: 1, confirmations: 1 } });
    expect((JSON.parse(readFileSync(out, 'utf8')) as TextModel).trainedOn.datasets.map((d) => [d.name, d.records])).toEqual([
      ['tiny.jsonl', 36],
      ['closed cases (overridden or confirmed)', 2],
    ]);
  });

  test('the command line: warden classifier train --dataset … --out …', async () => {
    const out = join(dir, 'cli.json');
    const { stdout } = await run(WARDEN, ['classifier', 'train', '--dataset', dataset, '--out', out, '--json']);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ out, records: 36 });
    expect(JSON.parse(readFileSync(out, 'utf8')).version).toBe(summary.version);
    const wrong = await run(WARDEN, ['classifier', 'fit']).catch((err: { code: number; stderr: string }) => err);
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: warden classifier train') });
  });
});
