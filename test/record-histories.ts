/**
 * Records the histories that test/replay.test.ts replays: run it after a deliberate, versioned
 * change to the case workflow (`npm run record-histories`), never to make a failing replay pass.
 * Starts its own dev server, drives each scenario to its end, writes test/histories/<name>.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseView } from '../src/domain';
import { acknowledgePartyUpdate, acknowledgeUpdate, assignUpdate, confirmTriageUpdate, caseViewQuery, escalateUpdate, closeUpdate, deescalateUpdate, determineUpdate, overrideUpdate, recordFilingUpdate, recordScopeUpdate, signOffUpdate } from '../src/workflows/definitions';
import { type DevServer, startDevServer, temporalBinary } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';
import { fileReport, toReport } from '../src/intake/filing';

const OUT = join(__dirname, 'histories');

let server: DevServer;

const force = process.argv.includes('--force');

/**
 * The history as the Temporal CLI exports it (the same JSON the Web UI downloads). Histories
 * already recorded are kept — they are what older workers wrote — unless --force.
 */
async function save(w: TestWarden, name: string, caseId: string, runId?: string): Promise<void> {
  const file = join(OUT, `${name}.json`);
  if (existsSync(file) && !force) {
    console.log(`kept ${name} (recorded earlier; --force replaces it)`);
    return;
  }
  const handle = w.handle(caseId);
  await handle.result();
  const run = runId ? ['-r', runId] : [];
  const json = execFileSync(temporalBinary(), ['workflow', 'show', '--address', server.address, '-w', handle.workflowId, ...run, '-o', 'json'], { encoding: 'utf8' });
  writeFileSync(file, json);
  console.log(`recorded ${name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
}

const stage = (w: TestWarden, caseId: string, s: string) =>
  eventually(async () => (((await w.view(caseId)) as CaseView).stage === s ? true : undefined), `${caseId} at ${s}`);

async function main(): Promise<void> {
  server = await startDevServer();
  const policy = testPolicy({ slas: Object.fromEntries(['SEV1', 'SEV2', 'SEV3', 'SEV4'].map((s) => [s, { acknowledgeBy: '2s', respondBy: '1m' }])) });
  const w = await startWarden(policy, { address: server.address });
  try {
    // 1. Full lifecycle with a duplicate report, human actions, sign-offs and the machine check.
    const report = sampleReport({ reporter: 'bob', title: 'Ransomware note on laptop-1234' });
    const a = await w.file(report);
    await w.file({ ...report, reporter: 'carol' });
    await stage(w, a.caseId, 'responding');
    const ha = w.handle(a.caseId);
    await ha.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    await ha.executeUpdate(assignUpdate, { args: [{ actor: 'bob', assignee: 'carol' }] });
    await ha.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
    await ha.executeUpdate(signOffUpdate, { args: [{ actor: 'dave', criterion: 'root-cause-known' }] });
    await stage(w, a.caseId, 'recovering');
    await ha.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'reimaged' }] });
    await save(w, 'lifecycle', a.caseId);

    // 2. SLA timer escalation, de-escalation, then closed as accepted risk.
    const b = await w.file(sampleReport());
    await stage(w, b.caseId, 'escalated');
    const hb = w.handle(b.caseId);
    await hb.executeUpdate(deescalateUpdate, { args: [{ actor: 'alice', reason: 'single host, contained' }] });
    await hb.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'test host', resolution: 'accepted-risk' }] });
    await save(w, 'sla-escalation', b.caseId);

    // 3. False alarm closed at validation.
    // (the drill rule closes only a sender our mail servers authenticated: the mailbox sets `verified`)
    const c = await fileReport(
      w.client,
      policy,
      {
        ...toReport(sampleReport({ reporter: 'pat@example.com', indicators: { domains: ['phish-training.example'], ips: [], urls: [], hashes: [] } })),
        verified: { senderDomain: 'phish-training.example', by: 'mx.corp.example: dmarc=pass header.from=phish-training.example', claimedSenderDomain: 'phish-training.example' },
      },
      w.taskQueue,
    );
    await save(w, 'false-alarm', c.caseId);

    // 4. A human overrides category and severity, then closes the case.
    const d = await w.file(sampleReport({ title: 'Spoofed email from the CEO' }));
    await stage(w, d.caseId, 'responding');
    const hd = w.handle(d.caseId);
    await hd.executeUpdate(overrideUpdate, { args: [{ actor: 'bob', reason: 'mailbox takeover', category: 'credential-compromise', severity: 'SEV2' }] });
    await hd.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'bob' }] });
    await hd.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'exercise', resolution: 'accepted-risk' }] });
    await save(w, 'override', d.caseId);

    // 5. A campaign: three reporters of one phishing mail, each told separately when it closes.
    const phish = sampleReport({ title: 'Phishing: fake payroll login page', reporter: 'a@corp.example' });
    const e = await w.file(phish);
    await w.file({ ...phish, reporter: 'b@corp.example' });
    await w.file({ ...phish, reporter: 'U0CAROL1' });
    await stage(w, e.caseId, 'responding');
    await w.handle(e.caseId).executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'vendor confirmed a legitimate payroll change', resolution: 'false-alarm' }] });
    await save(w, 'campaign', e.caseId);

    // 6. Regulated data on a critical asset: paged, escalated by criteria, acknowledged, gated, closed.
    const f = await w.file(sampleReport({ assets: ['payments-db'], dataClasses: ['payment'], title: 'Card data exposed from payments-db', reporter: 'kim@corp.example', messageId: '<report-1@mail.corp.example>' }));
    await stage(w, f.caseId, 'escalated');
    const hf = w.handle(f.caseId);
    await hf.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'alice' }] });
    await hf.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
    await hf.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'root-cause-known' }] });
    await stage(w, f.caseId, 'recovering');
    for (const clock of ((await hf.query(caseViewQuery)) as CaseView).clocks ?? [])
      await hf.executeUpdate(recordFilingUpdate, { args: [{ actor: 'alice', clock: clock.key, reference: `REF-${clock.regime}` }] });
    await hf.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'keys rotated, bucket closed', review: { summary: 'Card data exposed from payments-db', rootCause: 'public snapshot', impact: 'no card data accessed', lessons: 'block public snapshots', followUps: [{ action: 'SCP against public snapshots', owner: 'dave' }] } }] });
    await save(w, 'paged-escalation', f.caseId);

    // 7. An incomplete report: the case opens and asks its reporter for the missing fields.
    const g = await w.file(sampleReport({ reporter: 'lee@corp.example', assets: [], description: '', title: 'Something odd on my screen' }));
    await stage(w, g.caseId, 'responding');
    await w.handle(g.caseId).executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'screen saver', resolution: 'false-alarm' }] });
    await save(w, 'incomplete-report', g.caseId);

    // 8. Personal data: the GDPR clock starts, warns, and the filing is recorded.
    const clockPolicy = testPolicy({
      regulatory: [{ id: 'gdpr-art33', name: 'GDPR Art. 33', dataClasses: ['personal'], deadline: '72h', clocks: [{ id: 'notify-authority', name: 'notify the authority', due: '4s', warnBefore: ['2s'], owners: ['incident-commander'] }] }],
    });
    const h = await w.file(sampleReport({ dataClasses: ['personal'], title: 'HR spreadsheet sent outside' }), clockPolicy);
    await eventually(async () => (((await w.view(h.caseId)) as CaseView).clocks?.[0]?.warnings[0]?.sent ? true : undefined), 'the clock warning');
    const hh = w.handle(h.caseId);
    await hh.executeUpdate(recordFilingUpdate, { args: [{ actor: 'alice', clock: 'gdpr-art33/notify-authority', reference: 'DPA-1' }] });
    await hh.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'contained and reported', resolution: 'accepted-risk' }] });
    await save(w, 'regulatory-clock', h.caseId);

    // 9. A declared incident brings in the response plan's parties; one acknowledges, the rest are released at close.
    const partyPolicy = testPolicy({
      parties: [
        { id: 'mssp', name: 'Managed security provider', email: 'soc@mssp.example', acknowledgeWithin: '1h' },
        { id: 'insurer', name: 'Cyber insurer', webhook: 'https://claims.insurer.example/hook' },
      ],
    });
    const k = await w.file(sampleReport({ title: 'Ransomware on a file server' }), partyPolicy);
    await stage(w, k.caseId, 'responding');
    const hk = w.handle(k.caseId);
    await hk.executeUpdate(escalateUpdate, { args: [{ actor: 'bob', reason: 'ransomware' }] });
    await eventually(async () => (((await w.view(k.caseId)) as CaseView).parties?.filter((p) => p.status === 'notified').length === 2 ? true : undefined), 'parties notified');
    await hk.executeUpdate(acknowledgePartyUpdate, { args: [{ actor: 'bob', party: 'mssp' }] });
    await eventually(async () => (((await w.view(k.caseId)) as CaseView).parties?.find((p) => p.id === 'mssp')?.status === 'acknowledged' ? true : undefined), 'acknowledged');
    await hk.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'exercise', resolution: 'accepted-risk' }] });
    await save(w, 'third-parties', k.caseId);

    // 10. A declared incident at a public company: materiality asked, determined, the 8-K clock
    //     started; the scope brings in the Texas regime; filings recorded.
    const publicCompany = testPolicy({ regulatoryProfile: { entityTypes: ['public-company'], jurisdictions: ['US'] } });
    const m = await w.file(sampleReport({ title: 'Customer records exfiltrated', dataClasses: ['personal'] }), publicCompany);
    await eventually(async () => (((await w.view(m.caseId)) as CaseView).escalated ? true : undefined), 'declared');
    await eventually(async () => (((await w.view(m.caseId)) as CaseView).determinationsNeeded?.length ? true : undefined), 'materiality asked');
    const hm = w.handle(m.caseId);
    await hm.executeUpdate(determineUpdate, { args: [{ actor: 'erin', determination: 'material', decision: true, reason: 'material customer data' }] });
    await hm.executeUpdate(recordScopeUpdate, { args: [{ actor: 'bob', affected: 400, jurisdictions: ['US-TX'], reason: 'CRM export' }] });
    for (const clock of ((await w.view(m.caseId)) as CaseView).clocks)
      await hm.executeUpdate(recordFilingUpdate, { args: [{ actor: clock.owners.includes('legal-counsel') ? 'erin' : 'alice', clock: clock.key, reference: `REF-${clock.regime}` }] });
    await hm.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'exercise', resolution: 'accepted-risk' }] });
    await save(w, 'regulatory-determination', m.caseId);

    // 11. A paging case (the page, the card and the notices go out together), through the recovery gate (the
    //     incident.io incident moved to its recovery status) to its close.
    const n = await w.file(sampleReport({ assets: ['payments-db'], title: 'Unusual bulk export from payments-db' }));
    await stage(w, n.caseId, 'escalated');
    const hn = w.handle(n.caseId);
    await hn.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'alice' }] });
    await hn.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
    await hn.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'root-cause-known' }] });
    await stage(w, n.caseId, 'recovering');
    await hn.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'scheduled export by finance', resolution: 'accepted-risk' }] });
    await save(w, 'paged-recovery', n.caseId);

    // 12. A category on probation: Warden proposes its triage, pages what is due, and waits; a
    //     person confirms it and the response goes on.
    const probation = testPolicy({ trust: { untilMeasured: 'propose', minCases: 20, bar: 0.9 } });
    const p = await w.file(sampleReport({ assets: ['db-prod-finance'], title: 'Ransomware note on db-prod-finance', description: 'encrypted files and a ransom note; beaconing' }), probation);
    await eventually(async () => (((await w.view(p.caseId)) as CaseView).proposal && ((await w.view(p.caseId)) as CaseView).paged ? true : undefined), `${p.caseId} proposed and paged`);
    const hp = w.handle(p.caseId);
    await hp.executeUpdate(confirmTriageUpdate, { args: [{ actor: 'bob', note: 'checked the EDR console' }] });
    await stage(w, p.caseId, 'responding');
    await hp.executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'EDR test file', resolution: 'false-alarm' }] });
    await save(w, 'proposal-confirmed', p.caseId);

    // 13. A long evidence stream: the first run continues as new after three reports, carrying
    //     its state (and any report it held back) to the next, which takes in the rest and closes.
    const stream = testPolicy({ intake: { evidencePerRun: 3 } });
    const streamed = sampleReport({ title: 'Beaconing from the build farm' });
    const q = await w.file(streamed, stream);
    const firstRun = (await w.handle(q.caseId).describe()).runId;
    await stage(w, q.caseId, 'responding');
    for (let i = 0; i < 5; i++) await w.file({ ...streamed, reporter: `sensor-${i}` }, stream);
    await eventually(async () => {
      const v = (await w.view(q.caseId)) as CaseView;
      return v.generation >= 1 && v.reportCount === 6 ? true : undefined;
    }, `${q.caseId} continued as new with every report`);
    await w.handle(q.caseId).executeUpdate(closeUpdate, { args: [{ actor: 'bob', reason: 'build farm scanner', resolution: 'false-alarm' }] });
    await save(w, 'continued-as-new', q.caseId, firstRun);
  } finally {
    await w.stop();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
