/** Judging decisions from the command line: `warden triage --batch` and `warden policy what-if`, against the real server. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CaseView } from '../src/domain';
import { eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

jest.setTimeout(120_000);

const run = promisify(execFile);
const WARDEN = resolve(__dirname, '../bin/warden');

async function warden(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run(WARDEN, args, { env: { ...process.env, TEMPORAL_ADDRESS: process.env.WARDEN_TEST_TEMPORAL_ADDRESS } });
  if (input !== undefined) {
    child.child.stdin!.write(input);
    child.child.stdin!.end();
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('triage --batch: one answer a line, in order; a bad line answers an error and the run goes on', async () => {
  const example = readFileSync(resolve(__dirname, '../examples/report.json'), 'utf8').replace(/\s*\n\s*/g, ' ');
  const laptop = JSON.stringify(sampleReport({ title: 'Lost laptop', description: 'I lost my laptop on the train; the laptop is encrypted with BitLocker.', assets: ['laptop-77'], indicators: undefined }));
  const breach = JSON.stringify(
    sampleReport({ title: 'Ransomware attack', description: 'A ransomware attack affected the ePHI of 640,436 individuals.', source: 'hhs-ocr', assets: [], indicators: undefined }),
  );
  const result = await warden(['triage', '--batch', '-'], [example, '{not json', '{"title": "only a title"}', '', laptop, breach].join('\n'));
  expect(result.code).toBe(0);
  const answers = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
  expect(answers).toHaveLength(5);
  expect(answers[0]).toMatchObject({ category: 'malware', page: true, autoClose: null, affected: null, regulated: false });
  expect(['SEV1', 'SEV2']).toContain(answers[0].severity);
  for (const key of ['category', 'severity', 'page', 'escalate', 'triggers', 'dataClasses', 'regulated', 'affected', 'confidence', 'classifier', 'autoClose']) expect(answers[0]).toHaveProperty(key);
  expect(answers[1]).toEqual({ error: 'line 2: not JSON' });
  expect(answers[2].error).toMatch(/^line 3: invalid report: source: Required/);
  expect(answers[3]).toMatchObject({ category: 'lost-device', severity: 'SEV4', page: false });
  expect(answers[4]).toMatchObject({ category: 'malware', severity: 'SEV1', affected: 640436, regulated: true, dataClasses: ['health'] });
  expect(result.stderr).toContain('3 answered, 2 refused');
});

describe('policy what-if', () => {
  let w: TestWarden;
  let caseId: string;
  beforeAll(async () => {
    w = await startWarden();
    caseId = (await w.file(sampleReport({ title: `What-if: suspicious email ${Date.now()}`, description: 'a phishing email', assets: [] }))).caseId;
    await eventually(async () => (((await w.view(caseId)) as CaseView).stage === 'responding' ? true : undefined), 'responding');
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('re-triages past cases under a candidate policy and says what would change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-what-if-'));
    const candidate = join(dir, 'candidate.yaml');
    writeFileSync(candidate, `extends: ${resolve(__dirname, '../config/policy.yaml')}\nversion: candidate\npaging: { pageAtOrAbove: SEV4 }\n`);
    const report = await eventually(async () => {
      const r = await warden(['policy', 'what-if', candidate, '--since', '1d', '--task-queue', w.taskQueue, '--json']);
      if (r.code !== 0) throw new Error(r.stderr);
      const parsed = JSON.parse(r.stdout) as { cases: number; changed: { caseId: string; changes: string[] }[]; counts: Record<string, number> };
      return parsed.changed.some((c) => c.caseId === caseId) ? parsed : undefined;
    }, 'the case among the changes');
    expect(report.changed.find((c) => c.caseId === caseId)?.changes).toEqual(['would page']);
    expect(report.counts.page).toBeGreaterThanOrEqual(1);
    const text = await warden(['policy', 'what-if', candidate, '--since', '1d', '--task-queue', w.taskQueue]);
    expect(text.stdout).toMatch(/case\(s\) since 1d re-triaged under .*candidate\.yaml: \d+ would change/);
    expect(text.stdout).toContain(`${caseId}  What-if: suspicious email`);
  });
});
