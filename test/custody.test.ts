/** Forensic evidence on a case: hashes and storage references in history, a verifiable chain of custody. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { type CaseView, custodyProblems } from '../src/domain';
import { recordEvidenceUpdate, transferCustodyUpdate } from '../src/workflows/definitions';
import { actOn, eventually, sampleReport, startWarden, type TestWarden } from './support/warden';

const HASH = 'a'.repeat(64);

describe('evidence and chain of custody', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden();
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('items carry who, when, where, hash and storage; transfers make a consistent chain; the plan becomes tasks', async () => {
    const filed = await w.file(sampleReport({ title: 'Ransom note on a laptop' }));
    const responding = await eventually(async () => {
      const v = (await w.view(filed.caseId)) as CaseView;
      return v.stage === 'responding' ? v : undefined;
    }, 'responding');
    expect(responding.forensics.length).toBeGreaterThan(0);
    expect(responding.openTasks).toContain(`collect (step 1): ${responding.forensics[0]}`);

    const handle = w.handle(filed.caseId);
    const refuse = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as WorkflowUpdateFailedError).cause?.message;
    expect(await refuse(handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: 'bob', description: 'x', collectedFrom: 'laptop-1234', sha256: 'nope', storageRef: 'file:///e/1' }] }))).toMatch(/sha256 must be/);
    expect(await refuse(handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: 'mallory', description: 'x', collectedFrom: 'h', sha256: HASH, storageRef: 'f' }] }))).toMatch(/mallory holds no role/);

    await handle.executeUpdate(recordEvidenceUpdate, {
      args: [{ actor: 'bob', description: 'memory image', collectedFrom: 'laptop-1234', sha256: HASH, storageRef: 'file:///evidence/mem.lime', step: 2 }],
    });
    expect(await refuse(handle.executeUpdate(transferCustodyUpdate, { args: [{ actor: 'carol', item: 'E1', to: 'carol', reason: 'mine now' }] }))).toMatch(/carol does not hold E1 \(bob does\)/);
    await handle.executeUpdate(transferCustodyUpdate, { args: [{ actor: 'bob', item: 'E1', to: 'dave', reason: 'analysis' }] });
    const view = await actOn(handle, transferCustodyUpdate, { actor: 'alice', item: 'E1', to: 'evidence-locker', reason: 'storage' });

    const item = view.evidenceItems[0];
    expect(item).toMatchObject({ id: 'E1', collectedBy: 'bob', collectedFrom: 'laptop-1234', sha256: HASH, storageRef: 'file:///evidence/mem.lime', holder: 'evidence-locker', step: 2 });
    expect(item.custody.map((t) => `${t.from}→${t.to}`)).toEqual(['bob→dave', 'dave→evidence-locker']);
    expect(custodyProblems(view.evidenceItems)).toEqual([]);
    expect(view.openTasks.some((t) => t.startsWith('collect (step 2)'))).toBe(false);
    // A chain altered after the fact no longer verifies.
    const tampered = structuredClone(view.evidenceItems);
    tampered[0].custody[1].from = 'mallory';
    expect(custodyProblems(tampered)).toEqual([{ item: 'E1', problem: expect.stringMatching(/is from mallory, but dave held it/) }]);
  });
});
