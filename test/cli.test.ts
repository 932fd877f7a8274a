/** The warden CLI as a responder runs it, against the real server. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CaseView } from '../src/domain';
import { eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

const run = promisify(execFile);
const WARDEN = resolve(__dirname, '../bin/warden');

async function warden(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(WARDEN, args, { env: { ...process.env, TEMPORAL_ADDRESS: process.env.WARDEN_TEST_TEMPORAL_ADDRESS } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('warden CLI', () => {
  let w: TestWarden;
  let caseId: string;
  beforeAll(async () => {
    w = await startWarden();
    caseId = (await w.file(sampleReport({ title: 'CLI case: phishing email with spoofed sender' }))).caseId;
    await eventually(async () => (((await w.view(caseId)) as CaseView).stage === 'responding' ? true : undefined), 'responding');
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('cases show renders the case; --json gives the view', async () => {
    const text = await warden('cases', 'show', caseId);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${caseId}  SEV4  responding`);
    expect(text.stdout).toContain('category:   phishing (rules: matched "phishing", "spoofed")');
    expect(text.stdout).toContain('[ ] containment-confirmed (human)');
    const json = JSON.parse((await warden('cases', 'show', `case-${caseId}`, '--json')).stdout) as CaseView;
    expect(json).toMatchObject({ caseId, stage: 'responding', evidenceCount: 1 });
  });

  test('cases list finds the case by its search attributes', async () => {
    const rows = await eventually(async () => {
      const r = JSON.parse((await warden('cases', 'list', '--stage', 'responding', '--json')).stdout) as { caseId: string; category: string }[];
      return r.some((row) => row.caseId === caseId) ? r : undefined;
    }, 'the case in the list');
    expect(rows.find((row) => row.caseId === caseId)).toMatchObject({ category: 'phishing', severity: 'SEV4', queue: 'soc' });
  });

  test('a refused action exits 1 with the reason; an allowed one shows the new state', async () => {
    const refused = await warden('signoff', caseId, 'containment-confirmed', '--as', 'bob');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused: bob may not sign off containment-confirmed');
    const missingActor = await warden('ack', caseId);
    expect(missingActor.code).toBe(2);
    expect(missingActor.stderr).toContain('say who is acting with --as');
    const signed = await warden('signoff', caseId, 'containment-confirmed', '--as', 'alice', '--note', 'mailbox purged', '--json');
    expect(signed.code).toBe(0);
    const view = JSON.parse(signed.stdout) as CaseView;
    expect(view.stage).toBe('recovery-gate');
    expect(view.recovery[0]).toMatchObject({ id: 'containment-confirmed', passed: true, by: 'alice', detail: 'mailbox purged' });
  });

  test('evidence recorded from a file verifies; a changed body or a broken chain does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-evidence-'));
    const body = join(dir, 'mem.lime');
    writeFileSync(body, 'memory image bytes');
    const added = await warden('evidence', 'add', caseId, '--file', body, '--from', 'laptop-1234', '--description', 'memory image', '--step', '1', '--as', 'bob', '--json');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ id: 'E1', sha256: createHash('sha256').update('memory image bytes').digest('hex'), storageRef: `file://${body}` });
    expect((await warden('evidence', 'transfer', caseId, 'E1', '--to', 'dave', '--reason', 'analysis', '--as', 'bob')).code).toBe(0);
    const ok = await warden('evidence', 'verify', caseId);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok   E1: body matches its recorded SHA-256');
    writeFileSync(body, 'tampered');
    const bad = await warden('evidence', 'verify', caseId);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL E1: body hash [0-9a-f]{64} differs/);
    const plan = await warden('forensics', 'phishing', '--target', 'mailbox-1');
    expect(plan.stdout).toContain('Forensic collection for phishing on mailbox-1');
    expect(plan.stdout).toContain('1. Preserve the original message with full headers');
  });
});
