/**
 * A third party acknowledges by the signed link in its notice: opening the link changes nothing
 * (mail scanners open links), the button records the acknowledgement on the case, an altered
 * link is refused, and a link whose party is no longer awaited says so.
 */
import type { Server } from 'node:http';
import type { CaseView } from '../src/domain';
import { createIntakeServer } from '../src/intake/server';
import { partyAckToken, type PartyLinkSettings, readPartyAckToken } from '../src/party-links';
import { escalateUpdate } from '../src/workflows/definitions';
import { listenOnLoopback as listen } from './support/server';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from './support/warden';

const secret = ['party', 'link', 'test', 'secret', '0123456789abcdef'].join('-');

test('tokens name the case and the party and are refused when altered or signed with another secret', () => {
  const token = partyAckToken(secret, { caseId: 'WRD-1', party: 'mssp' });
  expect(readPartyAckToken(secret, token)).toEqual({ caseId: 'WRD-1', party: 'mssp' });
  const [payload, signature] = token.split('.');
  const forged = `${Buffer.from(JSON.stringify({ c: 'WRD-2', p: 'mssp' })).toString('base64url')}.${signature}`;
  expect(readPartyAckToken(secret, forged)).toBeUndefined();
  expect(readPartyAckToken(`${secret}x`, token)).toBeUndefined();
  expect(readPartyAckToken(secret, `${payload}.`)).toBeUndefined();
  expect(readPartyAckToken(secret, 'garbage')).toBeUndefined();
});

describe('acknowledgement by link', () => {
  let w: TestWarden;
  let intake: Server;
  let links: PartyLinkSettings;
  const policy = testPolicy({
    parties: [
      { id: 'mssp', name: 'Managed security provider', email: 'soc@mssp.example', receives: 'IOCs', acknowledgeWithin: '1h' },
      { id: 'cloud', name: 'Cloud provider', webhook: 'https://support.cloud.example/hook', receives: 'the affected accounts', acknowledgeWithin: '1h' },
    ],
  });
  beforeAll(async () => {
    links = { secret, baseUrl: 'http://placeholder' };
    w = await startWarden(policy, { connectors: { partyLinks: links } });
    intake = createIntakeServer({ client: w.client, policy, taskQueue: w.taskQueue, partyLinks: links });
    links.baseUrl = await listen(intake);
  });
  afterAll(async () => {
    await new Promise((ok) => intake?.close(ok));
    await w?.stop();
  });

  test('the notice carries the link; GET shows a button, POST records the acknowledgement, once', async () => {
    const filed = await w.file(sampleReport({ title: 'Ransomware on a build agent' }));
    await eventually(async () => (((await w.view(filed.caseId)) as CaseView).stage === 'responding' ? true : undefined), 'responding');
    await w.handle(filed.caseId).executeUpdate(escalateUpdate, { args: [{ actor: 'bob', reason: 'ransomware' }] });
    const notice = await eventually(async () => (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:party:mssp:notice-1`), 'the notice');
    const link = /(http:\/\/\S+\/parties\/acknowledge\?t=[\w.-]+)/.exec(String(notice.body.text))?.[1];
    expect(link).toBeDefined();
    const hook = await eventually(async () => (await w.outbox.read()).find((m) => m.key === `${filed.caseId}:party:cloud:notice-1`), 'the webhook');
    expect(String(hook.body.acknowledgeUrl)).toMatch(/\/parties\/acknowledge\?t=/);

    // Opening the link (as a mail scanner would) acknowledges nothing.
    const shown = await fetch(link!);
    expect(shown.status).toBe(200);
    const html = await shown.text();
    expect(html).toContain('Managed security provider');
    expect(html).toContain('<button type="submit">Acknowledge receipt</button>');
    await new Promise((r) => setTimeout(r, 500));
    expect(((await w.view(filed.caseId)) as CaseView).parties.find((p) => p.id === 'mssp')!.status).toBe('notified');

    const token = new URL(link!).searchParams.get('t')!;
    const post = (t: string, name = '') =>
      fetch(`${links.baseUrl}/parties/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ t, name }).toString() });
    const altered = await post(`${token.slice(0, -2)}xx`);
    expect(altered.status).toBe(401);

    const done = await post(token, 'Dana <script>Ops</script>');
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('is recorded');
    const line = await eventually(async () => {
      const mssp = ((await w.view(filed.caseId)) as CaseView).parties.find((p) => p.id === 'mssp')!;
      return mssp.status === 'acknowledged' ? mssp : undefined;
    }, 'acknowledged by link');
    expect(line.detail).toBe('mssp (by link): acknowledged by Dana <script>Ops</script>');
    // the cloud provider's line is untouched
    expect(((await w.view(filed.caseId)) as CaseView).parties.find((p) => p.id === 'cloud')!.status).toBe('notified');

    const again = await post(token);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('no longer waits for an acknowledgement');
  });

  test('a link for a case that never existed is gone, not an error', async () => {
    const res = await fetch(`${links.baseUrl}/parties/acknowledge?t=${partyAckToken(secret, { caseId: 'WRD-000000000000', party: 'mssp' })}`);
    expect(res.status).toBe(410);
  });
});
