/** Third parties of the response plan: notified on declaration, reminded, escalated when silent, acknowledged or released. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { CaseView } from '../src/domain';
import { acknowledgePartyUpdate, addPartyUpdate, closeUpdate, escalateUpdate, releasePartyUpdate } from '../src/workflows/definitions';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const parties = [
  { id: 'mssp', name: 'Managed security provider', email: 'soc@mssp.example', receives: 'IOCs and the timeline', acknowledgeWithin: '2s', remindEvery: '2s', escalateAfter: '3s' },
  { id: 'insurer', name: 'Cyber insurer', webhook: 'https://claims.insurer.example/hook', receives: 'notice of a claim', categories: ['malware'] },
  { id: 'legal', name: 'Outside counsel', email: 'breach@law.example', receives: 'privileged briefing', acknowledgeWithin: '1h' },
];

const where = (w: TestWarden, caseId: string, what: string, ok: (v: CaseView) => boolean) =>
  eventually(async () => {
    const v = (await w.view(caseId)) as CaseView;
    return ok(v) ? v : undefined;
  }, what);

describe('third-party coordination', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden(testPolicy({ parties }));
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('declaration notifies the plan’s parties; a silent one is reminded and escalated; acknowledgements and releases are recorded', async () => {
    const filed = await w.file(sampleReport({ title: 'Ransomware note on a laptop' }));
    await where(w, filed.caseId, 'responding', (v) => v.stage === 'responding');
    const handle = w.handle(filed.caseId);
    await handle.executeUpdate(escalateUpdate, { args: [{ actor: 'bob', reason: 'ransomware' }] });

    // All three match (the insurer by category): each is a child workflow, one line on the case.
    const notified = await where(w, filed.caseId, 'the parties notified', (v) => v.parties.length === 3 && v.parties.every((p) => p.status !== 'notifying'));
    expect(notified.parties.map((p) => [p.id, p.status])).toEqual([
      ['mssp', 'notified'],
      ['insurer', 'notified'],
      ['legal', 'notified'],
    ]);
    const sent = await w.outbox.read();
    expect(sent.find((m) => m.key === `${filed.caseId}:party:mssp:notice-1`)?.body).toMatchObject({ to: 'soc@mssp.example' });
    expect(sent.find((m) => m.system === 'webhook' && m.key === `${filed.caseId}:party:insurer:notice-1`)?.body).toMatchObject({ url: 'https://claims.insurer.example/hook' });

    // The MSSP stays silent: reminded after 2s, the commander told after 3s.
    const escalated = await where(w, filed.caseId, 'the silent party escalated', (v) => v.parties.find((p) => p.id === 'mssp')!.status === 'escalated' || v.timeline.some((t) => t.action === 'Managed security provider: escalated'));
    expect(escalated.timeline.some((t) => t.action === 'Managed security provider: reminded')).toBe(true);
    await eventually(async () => (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:party-mssp-silent:alice`), 'the commander told');

    const refused = await handle.executeUpdate(acknowledgePartyUpdate, { args: [{ actor: 'mallory', party: 'mssp' }] }).catch((e: unknown) => e);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/mallory holds no role/);
    await handle.executeUpdate(acknowledgePartyUpdate, { args: [{ actor: 'bob', party: 'mssp', reason: 'confirmed by phone' }] });
    await handle.executeUpdate(releasePartyUpdate, { args: [{ actor: 'alice', party: 'insurer', reason: 'below the deductible' }] });
    const lines = await where(w, filed.caseId, 'acknowledged and released', (v) => v.parties.find((p) => p.id === 'mssp')!.status === 'acknowledged' && v.parties.find((p) => p.id === 'insurer')!.status === 'released');
    expect(lines.parties.find((p) => p.id === 'mssp')!.detail).toBe('bob: confirmed by phone');

    const again = await handle.executeUpdate(addPartyUpdate, { args: [{ actor: 'alice', party: 'mssp' }] }).catch((e: unknown) => e);
    expect((again as WorkflowUpdateFailedError).cause?.message).toMatch(/already involved/);

    // Closing releases whoever is still open (counsel), and the parties' workflows end.
    await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'tabletop exercise', resolution: 'accepted-risk' }] });
    await handle.result();
    const counsel = w.client.workflow.getHandle(lines.parties.find((p) => p.id === 'legal')!.workflowId);
    expect(await counsel.result()).toMatchObject({ outcome: 'released', by: 'warden' });
  });
});
