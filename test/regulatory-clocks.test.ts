/**
 * Regulatory notification clocks on the real server: started from the awareness time when a
 * case's data meets a regime, warning the owners before the deadline, stopped by a recorded
 * filing, surviving restarts with their deadlines unchanged.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { CaseView } from '../src/domain';
import { closeUpdate, recordFilingUpdate } from '../src/workflows/definitions';
import { type DevServer, freePort, startDevServer } from './support/server';
import { actOn, eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const gdpr = (due: string, warnBefore: string[]) => [
  { id: 'gdpr-art33', name: 'GDPR Art. 33', dataClasses: ['personal'], deadline: '72h from awareness', clocks: [{ id: 'notify-authority', name: 'notify the supervisory authority', due, warnBefore, owners: ['incident-commander'] }] },
];
const KEY = 'gdpr-art33/notify-authority';

const viewWhere = (w: TestWarden, caseId: string, what: string, ok: (v: CaseView) => boolean, timeoutMs = 30_000) =>
  eventually(async () => {
    const v = (await w.view(caseId)) as CaseView;
    return ok(v) ? v : undefined;
  }, what, timeoutMs);

describe('regulatory clocks', () => {
  let w: TestWarden;
  beforeAll(async () => {
    w = await startWarden(testPolicy({ regulatory: gdpr('6s', ['4s']) }));
  });
  afterAll(async () => {
    await w?.stop();
  });

  test('a personal-data breach starts the clock from awareness, warns the owners, and a filing stops it', async () => {
    const filed = await w.file(sampleReport({ dataClasses: ['personal'], title: 'Customer list emailed to the wrong recipient' }));
    const started = await viewWhere(w, filed.caseId, 'the clock', (v) => v.clocks.length === 1);
    const clock = started.clocks[0];
    expect(clock).toMatchObject({ key: KEY, awareAt: started.openedAt, owners: ['incident-commander'] });
    expect(Date.parse(clock.dueAt) - Date.parse(started.openedAt)).toBe(6_000);
    expect(Date.parse(clock.warnings[0].at) - Date.parse(started.openedAt)).toBe(2_000);

    const warned = await viewWhere(w, filed.caseId, 'the warning', (v) => v.clocks[0].warnings[0].sent);
    expect(warned.timeline.find((t) => t.action === 'clock warning: GDPR Art. 33: notify the supervisory authority')?.reason).toMatch(/left; due/);
    const notice = await eventually(async () => (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:clock:${KEY}:warning-1:alice`), 'the owner told');
    expect(String(notice.body.text)).toContain(`warden file ${filed.caseId} ${KEY}`);

    const handle = w.handle(filed.caseId);
    const refused = await handle.executeUpdate(recordFilingUpdate, { args: [{ actor: 'bob', clock: KEY, reference: 'x' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/bob may not record the filing/);
    const closeRefused = await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'done' }] }).catch((e: unknown) => e);
    expect((closeRefused as WorkflowUpdateFailedError).cause?.message).toMatch(/regulatory filings not recorded: GDPR Art. 33/);

    const done = await actOn(handle, recordFilingUpdate, { actor: 'alice', clock: KEY, reference: 'DPA-2026-0042' });
    expect(done.clocks[0].filed).toMatchObject({ by: 'alice', reference: 'DPA-2026-0042' });
    await new Promise((r) => setTimeout(r, 4_500)); // past the deadline: a filed clock does not fire
    const after = (await w.view(filed.caseId)) as CaseView;
    expect(after.clocks[0].missedAt).toBeUndefined();
    expect(after.openTasks.some((t) => t.startsWith('file:'))).toBe(false);
  });

  test('a deadline that passes without a filing is recorded and the owners told', async () => {
    const filed = await w.file(sampleReport({ dataClasses: ['personal'] }));
    const missed = await viewWhere(w, filed.caseId, 'the missed deadline', (v) => !!v.clocks[0]?.missedAt, 30_000);
    expect(missed.timeline.some((t) => t.action === 'clock deadline passed: GDPR Art. 33: notify the supervisory authority')).toBe(true);
    await eventually(async () => (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:clock:${KEY}:missed:alice`), 'the owner told of the miss');
  });

  test('a 72-hour deadline is a durable timer in history', async () => {
    const long = await startWarden(
      testPolicy({
        regulatory: gdpr('72h', ['24h']),
        slas: Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy: '5d', respondBy: '6d' }])),
      }),
    );
    try {
      const filed = await long.file(sampleReport({ dataClasses: ['personal'] }));
      const view = await viewWhere(long, filed.caseId, 'the clock', (v) => v.clocks.length === 1 && (v.stage === 'responding' || v.stage === 'escalated'));
      expect(Date.parse(view.clocks[0].dueAt) - Date.parse(view.openedAt)).toBe(72 * 3_600_000);
      // The next wake is the first warning, 48 hours after awareness (72h due, 24h before): a timer
      // the case starts once its response is under way (escalation, card and notices first).
      const seconds = await eventually(async () => {
        const history = await long.handle(filed.caseId).fetchHistory();
        const timers = (history.events ?? []).map((e) => e.timerStartedEventAttributes?.startToFireTimeout).filter(Boolean);
        const s = timers.map((t) => Number(t!.seconds));
        return s.some((x) => Math.abs(x - 48 * 3600) < 120) ? s : undefined;
      }, 'the 48-hour timer in history');
      expect(seconds.some((s) => Math.abs(s - 48 * 3600) < 120)).toBe(true);
    } finally {
      await long.stop();
    }
  });
});

test('a clock survives a worker and server restart with its deadline unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-clock-restart-'));
  const dbFile = join(dir, 'temporal.sqlite');
  const port = await freePort();
  const policy = testPolicy({ regulatory: gdpr('10s', []) });
  const taskQueue = `warden-clock-${Date.now()}`;
  let server: DevServer = await startDevServer({ port, dbFile });
  let w = await startWarden(policy, { address: server.address, taskQueue, outboxPath: join(dir, 'outbox.jsonl') });
  try {
    const filed = await w.file(sampleReport({ dataClasses: ['personal'] }));
    const before = await viewWhere(w, filed.caseId, 'the clock', (v) => v.clocks.length === 1);
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('exit', r));
    await w.stop().catch(() => undefined);
    server = await startDevServer({ port, dbFile });
    w = await startWarden(policy, { address: server.address, taskQueue, outboxPath: join(dir, 'outbox.jsonl') });
    const missed = await viewWhere(w, filed.caseId, 'the deadline after the restart', (v) => !!v.clocks[0].missedAt, 60_000);
    expect(missed.clocks[0].dueAt).toBe(before.clocks[0].dueAt);
    expect(Date.parse(missed.clocks[0].missedAt!)).toBeGreaterThanOrEqual(Date.parse(before.clocks[0].dueAt));
  } finally {
    await w.stop().catch(() => undefined);
    await server.stop();
  }
});
