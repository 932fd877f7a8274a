/**
 * Restart survival: a case waiting on its SLA clock keeps its place when the worker and the
 * Temporal server both go down (SIGKILL) and come back on the same database file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseView } from '../src/domain';
import { acknowledgeUpdate, signOffUpdate } from '../src/workflows/definitions';
import { type DevServer, freePort, startDevServer } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

test('a case resumes where it was after the worker and the server are killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-restart-'));
  const dbFile = join(dir, 'temporal.sqlite');
  const outboxPath = join(dir, 'outbox.jsonl');
  const port = await freePort();
  const policy = testPolicy({ slas: Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy: '4s', respondBy: '10m' }])) });
  const taskQueue = `warden-restart-${Date.now()}`;

  let server: DevServer = await startDevServer({ port, dbFile });
  let w: TestWarden = await startWarden(policy, { address: server.address, taskQueue, outboxPath });
  let caseId = '';
  try {
    const filed = await w.file(sampleReport());
    caseId = filed.caseId;
    const before = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.stage === 'responding' ? v : undefined;
    }, 'the case to be responding');
    const runId = (await w.handle(caseId).describe()).runId;

    // Both go down hard while the acknowledge-by clock is running.
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('exit', r));
    await w.stop().catch(() => undefined);

    server = await startDevServer({ port, dbFile });
    w = await startWarden(policy, { address: server.address, taskQueue, outboxPath });

    // Same run, same timeline so far; the durable timer still fires and escalates it.
    const after = await eventually(async () => {
      const v = (await w.view(caseId)) as CaseView;
      return v.stage === 'escalated' ? v : undefined;
    }, 'the SLA timer to escalate the case after the restart', 60_000);
    expect((await w.handle(caseId).describe()).runId).toBe(runId);
    expect(after.timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
    expect(after.escalations[0].triggers[0]).toMatchObject({ criterion: 'response-time-exceeded', source: 'timer' });

    // And it keeps working: humans act, the gate opens.
    const handle = w.handle(caseId);
    await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    const gated = await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
    expect(gated.stage).toBe('recovery-gate');

    // Each message left the outbox once, across the crash.
    const sent = (await w.outbox.read()).map((m) => `${m.system}|${m.key}`);
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.filter((k) => k.startsWith('incidentio|'))).toHaveLength(1);
  } finally {
    await w.stop().catch(() => undefined);
    await server.stop();
  }
});
