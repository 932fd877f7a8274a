/** Human overrides of category and severity, and the audit of the classifier they feed. */
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { loadPolicyFile } from '../src/config';
import { auditClassifications, auditRow, type CaseView, ReportInput, triage } from '../src/domain';
import { auditClosedCases } from '../src/cli';
import { closeUpdate, overrideUpdate, WardenCategory, WardenSeverity } from '../src/workflows/definitions';
import { actOn, eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

const atStage = (w: TestWarden, caseId: string, stage: string) =>
  eventually(async () => {
    const v = (await w.view(caseId)) as CaseView;
    return v.stage === stage ? v : undefined;
  }, `${caseId} at ${stage}`);

describe('override and audit', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden();
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('an override keeps both answers, updates the search attributes, and feeds the audit', async () => {
    const overruled = await w.file(sampleReport({ title: 'Spoofed email from the CEO asking for gift cards' }));
    const agreed = await w.file(sampleReport({ title: 'Ransom note on a laptop, files encrypted' }));
    await atStage(w, overruled.caseId, 'responding');
    await atStage(w, agreed.caseId, 'responding');
    const handle = w.handle(overruled.caseId);

    const refuse = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      return (err as WorkflowUpdateFailedError).cause?.message;
    };
    expect(await refuse(handle.executeUpdate(overrideUpdate, { args: [{ actor: 'mallory', reason: 'x', severity: 'SEV1' }] }))).toMatch(/mallory may not override/);
    expect(await refuse(handle.executeUpdate(overrideUpdate, { args: [{ actor: 'bob', reason: 'x', category: 'nonsense' }] }))).toMatch(/unknown category "nonsense"/);
    expect(await refuse(handle.executeUpdate(overrideUpdate, { args: [{ actor: 'bob', reason: '' , severity: 'SEV2' }] }))).toMatch(/a reason is required/);

    const view = await actOn(handle, overrideUpdate, { actor: 'bob', reason: 'business email compromise: the CEO mailbox was taken over', category: 'credential-compromise', severity: 'SEV2' });
    expect(view.classification?.category).toBe('phishing'); // the automated answer stays on record
    expect(view.overrides).toEqual([
      expect.objectContaining({ by: 'bob', category: 'credential-compromise', severity: 'SEV2', was: { category: 'phishing', severity: 'SEV4' } }),
    ]);
    expect(view.severity).toBe('SEV2');
    expect(view.timeline.find((t) => t.action.startsWith('override:'))).toMatchObject({
      actor: 'bob',
      action: 'override: category phishing → credential-compromise, severity SEV4 → SEV2',
    });
    await eventually(async () => {
      const sa = (await handle.describe()).typedSearchAttributes;
      return sa.get(WardenCategory) === 'credential-compromise' && sa.get(WardenSeverity) === 'SEV2' ? true : undefined;
    }, 'search attributes to follow the override');

    for (const c of [overruled, agreed])
      await w.handle(c.caseId).executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'tabletop', resolution: 'accepted-risk' }] });
    const views = [(await w.handle(overruled.caseId).result()) as CaseView, (await w.handle(agreed.caseId).result()) as CaseView];
    const report = auditClassifications(views.map((v) => auditRow(v)!));
    expect(report.category).toEqual({ cases: 2, agreed: 1, rate: 0.5 });
    expect(report.severity).toEqual({ cases: 2, agreed: 1, rate: 0.5 });
    expect(report.confusion).toEqual({ phishing: { 'credential-compromise': 1 }, malware: { malware: 1 } });
    expect(report.byClassifier.rules.category.cases).toBe(2);

    // `warden audit` over the server's closed cases includes these two.
    const all = await eventually(async () => {
      const a = await auditClosedCases(w.client);
      return a.confusion.phishing?.['credential-compromise'] ? a : undefined;
    }, 'the audit to see the closed cases');
    expect(all.cases).toBeGreaterThanOrEqual(2);
  });

  test('warden triage prints the same answer the domain gives, without opening a case', () => {
    const input = sampleReport({ title: 'Exposed bucket with customer records', assets: ['aws-prod-data'], dataClasses: ['personal'], users: ['u1', 'u2'] });
    const cli = resolve(__dirname, '../bin/warden');
    const out = execFileSync(cli, ['triage', '-', '--json'], { input: JSON.stringify(input), encoding: 'utf8' });
    const answer = JSON.parse(out);
    const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));
    expect(answer).toEqual(JSON.parse(JSON.stringify(triage(ReportInput.parse(input), policy))));
    expect(answer).toMatchObject({ queue: 'cloud', classification: { category: 'data-exposure' }, escalation: { path: 'escalate' } });
    expect(answer.regulatoryFlags.map((f: { regime: string }) => f.regime)).toEqual(['gdpr-art33']);
    const bad = spawnSync(cli, ['triage', '-'], { input: '{"title": 3}', encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('title: Expected string, received number');
  });
});
