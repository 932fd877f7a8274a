/**
 * The pure parts of campaigns and verified auto-close: indicators and their counts
 * (src/domain/indicators.ts), the campaign key (src/domain/campaign.ts), Authentication-Results
 * (src/intake/mail-auth.ts), what the mail and Slack adapters make of them, and the false-alarm
 * rule on verified facts (src/domain/validation.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { simpleParser } from 'mailparser';
import { matchFalseAlarm, parsePolicy, type Report, ReportInput } from '../src/domain';
import { campaignAnchors, campaignUrl, MAX_REPORT_ANCHORS } from '../src/domain/campaign';
import { IndicatorCollector, incompleteIndicators, indicatorsInText } from '../src/domain/indicators';
import { campaignAnchorsOf, fingerprintOf } from '../src/intake/filing';
import { dmarcFailure, parseAuthenticationResults, senderVerification } from '../src/intake/mail-auth';
import { readMail } from '../src/intake/mail-report';
import { reportIndicators, slackPlainText } from '../src/intake/slack-report';

const policy = parsePolicy(readFileSync(resolve(__dirname, '../config/policy.yaml'), 'utf8'), 'config/policy.yaml');
const MAILBOX = 'phishing@corp.example';
const OURS = ['mx.corp.example'];

function report(overrides: Partial<Report> = {}): Report {
  return {
    ...ReportInput.parse({ title: 'Reported email: Overdue invoice', source: 'phishing-mailbox', reporter: 'ana@corp.example', assets: [], observedAt: '2026-11-25T08:00:00Z' }),
    reportId: 'r1',
    receivedAt: '2026-11-25T08:00:01Z',
    ...overrides,
  };
}
const indicators = (o: Partial<Report['indicators']>): Report['indicators'] => ({ ips: [], domains: [], urls: [], hashes: [], ...o });

describe('the campaign key', () => {
  test('URLs: scheme and host lower-cased, default port, credentials and fragment dropped, tracking and per-recipient parameters dropped, the rest sorted', () => {
    expect(campaignUrl('HTTPS://Pay.Invoices.EXAMPLE:443/inv/2291?utm_source=mail&b=2&a=1#frag')).toBe('https://pay.invoices.example/inv/2291?a=1&b=2');
    expect(campaignUrl('http://user:pw@evil.example.:80/x')).toBe('http://evil.example/x');
    // Per-recipient: by name (GoPhish's rid, email…), or by a value that looks like a token, an address or a UUID.
    for (const query of ['rid=4DlUHZn', 'email=ana%40corp.example', 'u=ana@corp.example', 'id=7f9c2ba4-e88f-4a3b-9d2e-6b1f0c5a8e31', 't=9xQ2mZp4Lk8sVb3n', 'fbclid=abc', 'gclid=x', 'mc_eid=1'])
      expect(campaignUrl(`https://evil.example/login?${query}`)).toBe('https://evil.example/login');
    // Kept: short values and an open redirect's target (campaigns abusing one redirector stay apart).
    expect(campaignUrl('https://evil.example/login?page=2&lang=en')).toBe('https://evil.example/login?lang=en&page=2');
    expect(campaignUrl('https://www.google.com/url?q=https://evil.example/x&sa=D')).toBe('https://www.google.com/url?q=https%3A%2F%2Fevil.example%2Fx&sa=D');
    expect(campaignUrl('https://www.google.com/url?q=https://other.example/y')).not.toBe(campaignUrl('https://www.google.com/url?q=https://evil.example/x'));
    expect(campaignUrl('ftp://evil.example/x')).toBeUndefined();
  });

  test('one mail to many recipients has one set of anchors; hashes first, bare origins and empty files left out, a sender and subject only when nothing else', () => {
    const mail = (token: string) =>
      report({ indicators: indicators({ urls: [`https://pay.evil.example/inv?ref=${token}&utm_campaign=q1`, 'https://www.evil.example/'], hashes: ['AB'.repeat(32), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] }) });
    const a = campaignAnchors(mail('1aB9xK2mQ7pL0zR3'));
    expect(a).toEqual(campaignAnchors(mail('8zYx0Wv1Ut2Sr3Qp')));
    expect(a.map((x) => x.slice(0, 2))).toEqual(['h:', 'u:']);
    expect(a.every((x) => /^[hum]:[0-9a-f]{24}$/.test(x))).toBe(true);
    // A Slack report quoting the link has the URL's anchor.
    expect(campaignAnchors(report({ title: 'this looks fake', indicators: indicators({ urls: ['https://PAY.evil.example/inv?ref=Zz9Yy8Xx7Ww6Vv5U'] }) }))).toEqual([a[1]]);
    // Without URLs or hashes: the claimed sender's domain and the subject; without a sender, nothing.
    const plain = campaignAnchors(report({ verified: { claimedSenderDomain: 'ceo-office.example' } }));
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatch(/^m:/);
    expect(campaignAnchors(report({ title: 'REPORTED EMAIL:  overdue invoice', verified: { claimedSenderDomain: 'CEO-office.example' } }))).toEqual(plain);
    expect(campaignAnchors(report())).toEqual([]);
    // Bounded (the first links kept), deterministic, and scoped.
    const urls = Array.from({ length: 40 }, (_, i) => `https://evil.example/p/${i}?utm_content=${i}`);
    const many = report({ indicators: indicators({ urls }) });
    expect(campaignAnchors(many)).toHaveLength(MAX_REPORT_ANCHORS);
    expect(campaignAnchors(many)).toEqual(campaignAnchors(report({ indicators: indicators({ urls: urls.slice(0, 16) }) })));
    expect(campaignAnchors(many)).toEqual(campaignAnchors(report({ indicators: indicators({ urls: urls.map((u) => u.replace('utm_content', 'utm_term')) }) })));
    expect(campaignAnchors(mail('x'), { scope: 'auto-close=phishing-simulation' })).not.toEqual(campaignAnchors(mail('x')));
  });

  test('a report a false-alarm rule would close by itself never shares a fingerprint or an anchor with one it would not', () => {
    const drill = { ips: [], domains: ['phish-training.example'], urls: ['https://phish-training.example/landing?rid=abc'], hashes: [] };
    const verified = report({ indicators: drill, verified: { senderDomain: 'phish-training.example', by: 'mx.corp.example: dmarc=pass', claimedSenderDomain: 'phish-training.example' }, fingerprint: 'mail:same' });
    const claimed = report({ indicators: drill, verified: { claimedSenderDomain: 'phish-training.example', notVerified: 'no result of ours' }, fingerprint: 'mail:same' });
    expect(fingerprintOf(verified, policy)).not.toBe(fingerprintOf(claimed, policy));
    expect(campaignAnchorsOf(verified, policy)).not.toEqual(campaignAnchorsOf(claimed, policy));
    expect(fingerprintOf(claimed, policy)).toBe(fingerprintOf({ ...claimed, reportId: 'r2' }, policy));
  });
});

describe('indicators and their counts', () => {
  test('every URL seen is kept or counted as dropped: too long, past the cap, unparsed; Safe Links unwrapped', () => {
    const c = new IndicatorCollector();
    c.addUrl('https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Flogin&data=x');
    c.addUrl('https://evil.example/login'); // a repeat: seen, not kept again, not dropped
    c.addUrl(`https://evil.example/${'a'.repeat(4_100)}`);
    c.addLink('javascript:alert(1)');
    c.addLink('mailto:someone@corp.example');
    c.addLink('#top');
    for (let i = 0; i < 200; i++) c.addUrl(`https://cdn.example/${i}`);
    const { indicators: found, counts } = c.result();
    expect(found.urls[0]).toBe('https://evil.example/login');
    expect(found.urls).toHaveLength(200);
    expect(found.domains).toEqual(['evil.example', 'cdn.example']);
    expect(counts.urls).toEqual({ seen: 204, kept: 200, tooLong: 1, pastCap: 1, unparsed: 1 });
    expect(incompleteIndicators(counts)).toBe('3 of 204 URLs seen not kept: 1 too long (over 4,096 characters), 1 past the cap of 200, 1 unparsed');
    expect(c.droppedHosts).toEqual(['cdn.example']);
    expect(incompleteIndicators(new IndicatorCollector().result().counts)).toBeUndefined();
  });

  test('free text: URLs, domains (bare and of addresses), IPv4 addresses and hashes; file names are not domains', () => {
    const { indicators: found, counts } = indicatorsInText(
      'Link https://login.evil.example/a?b=1. Mail came from it-support@examp1e.example, host 203.0.113.9 (not 1.2.3.4.5), ' +
        `also see evil-cdn.example and invoice.pdf; hash ${'d'.repeat(64)}, version 10.2.1`,
    );
    expect(found).toEqual({
      urls: ['https://login.evil.example/a?b=1'],
      domains: ['login.evil.example', 'examp1e.example', 'evil-cdn.example'],
      ips: ['203.0.113.9'],
      hashes: ['d'.repeat(64)],
    });
    expect(incompleteIndicators(counts)).toBeUndefined();
    expect(ReportInput.safeParse({ title: 't', source: 's', reporter: 'r', assets: [], observedAt: '2026-11-25T08:00:00Z', indicators: found }).success).toBe(true);
  });

  test("Slack: links in Slack's markup and escapes are read; a quoted message cut to fit is counted as not read", () => {
    expect(slackPlainText('Pay at <https://pay.evil.example/i?a=1&amp;b=2|the portal> <@U0ADMIN01> &lt;now&gt;')).toBe('Pay at https://pay.evil.example/i?a=1&b=2 the portal @U0ADMIN01 <now>');
    const found = reportIndicators('See the message', { channel: 'C0FIN001', ts: '1700000000.000100', text: 'click <https://pay.evil.example/i?a=1&amp;b=2|here>', truncated: true });
    expect(found.indicators.urls).toEqual(['https://pay.evil.example/i?a=1&b=2']);
    expect(incompleteIndicators(found.counts)).toBe("not read: the quoted message was cut to fit Slack's private_metadata: its end was not read");
  });
});

describe('Authentication-Results', () => {
  test('parsed per RFC 8601: the authserv-id, each method and result, properties; comments and quotes handled', () => {
    expect(parseAuthenticationResults('MX.Corp.Example 1; (our edge) spf=pass (sender ok) smtp.mailfrom=a.example; dkim=pass header.d=a.example header.s="s1"; dmarc=fail (p=reject) header.from=a.example')).toEqual({
      authservId: 'mx.corp.example',
      results: [
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'a.example' } },
        { method: 'dkim', result: 'pass', props: { 'header.d': 'a.example', 'header.s': 's1' } },
        { method: 'dmarc', result: 'fail', props: { 'header.from': 'a.example' } },
      ],
    });
    expect(parseAuthenticationResults('mx.corp.example; none')).toEqual({ authservId: 'mx.corp.example', results: [] });
  });

  test('a sender is verified only by our servers, by DMARC or aligned DKIM, never SPF alone; the topmost of our headers counts', () => {
    const pass = 'mx.corp.example; spf=pass smtp.mailfrom=drill.example; dmarc=pass header.from=drill.example';
    expect(senderVerification([pass], 'drill.example', OURS)).toEqual({ verified: true, by: 'mx.corp.example: dmarc=pass header.from=drill.example' });
    expect(senderVerification([pass.replace('mx.corp.example', 'mx.drill.example')], 'drill.example', OURS)).toMatchObject({ verified: false, why: expect.stringMatching(/no Authentication-Results header from our mail servers/) });
    expect(senderVerification([pass], 'drill.example', [])).toMatchObject({ verified: false, why: expect.stringMatching(/no authserv-id is configured/) });
    expect(senderVerification(['mx.corp.example; spf=pass smtp.mailfrom=drill.example'], 'drill.example', OURS)).toMatchObject({ verified: false });
    expect(senderVerification(['mx.corp.example; dkim=pass header.d=drill.example'], 'mail.drill.example', OURS)).toEqual({ verified: true, by: 'mx.corp.example: dkim=pass header.d=drill.example' });
    expect(senderVerification(['mx.corp.example; dkim=pass header.d=other.example'], 'drill.example', OURS)).toMatchObject({ verified: false });
    expect(senderVerification(['mx.corp.example; dmarc=pass header.from=other.example'], 'drill.example', OURS)).toMatchObject({ verified: false });
    // The topmost of ours wins (our last hop), whatever an earlier one said.
    expect(senderVerification(['mx.corp.example; dmarc=fail header.from=drill.example', pass], 'drill.example', OURS)).toMatchObject({ verified: false, why: expect.stringMatching(/dmarc=fail/) });
  });

  test('a DMARC failure: per our servers when configured, per any server when not', () => {
    const fail = 'mx.other.example; spf=fail; dmarc=fail header.from=corp.example';
    expect(dmarcFailure([fail], [])).toBe('dmarc=fail by mx.other.example');
    expect(dmarcFailure([fail], OURS)).toBeUndefined();
    expect(dmarcFailure([`mx.corp.example; dmarc=fail header.from=corp.example`], OURS)).toBe('dmarc=fail by mx.corp.example');
    expect(dmarcFailure(['mx.corp.example; dmarc=pass header.from=corp.example'], [])).toBeUndefined();
  });
});

describe('what the mail adapter verifies', () => {
  const read = async (raw: Buffer, authservIds = OURS) => readMail(await simpleParser(raw), { mailbox: MAILBOX, source: raw, authservIds });
  const ours = (domain: string) => `mx.corp.example; dkim=pass header.d=${domain}; dmarc=pass header.from=${domain}`;
  const drill = () => build({ from: 'training@phish-training.example', to: 'x@corp.example', subject: 'Drill', text: 'Go to https://phish-training.example/l?rid=1', headers: { 'Authentication-Results': ours('phish-training.example') } });
  const forward = async (from: string, headers: Record<string, string> = {}) =>
    build({ from, to: MAILBOX, subject: 'FW: drill?', text: 'Is this the test?', headers, attachments: [{ filename: 'd.eml', content: await drill(), contentType: 'message/rfc822' }] });

  test('a forward as attachment: verified only when the forward is an authenticated employee’s and the mail carries our passing result', async () => {
    expect((await read(await forward('ana@corp.example', { 'Authentication-Results': ours('corp.example') }))).verified).toEqual({
      claimedSenderDomain: 'phish-training.example',
      senderDomain: 'phish-training.example',
      by: 'mx.corp.example: dmarc=pass header.from=phish-training.example',
    });
    // The same forward without our result on it: anyone could have made it.
    expect((await read(await forward('ana@corp.example'))).verified?.notVerified).toMatch(/^the forward itself is not authenticated as from corp\.example/);
    // From outside our domains: not an employee's forward.
    expect((await read(await forward('someone@partner.example', { 'Authentication-Results': ours('partner.example') }))).verified?.notVerified).toBe('the forward is not from one of our domains (partner.example)');
    // No authserv-id configured: nothing is verified.
    expect((await read(await forward('ana@corp.example', { 'Authentication-Results': ours('corp.example') }), [])).verified?.senderDomain).toBeUndefined();
  });

  test('an inline forward is never verified; an attached message without its body is counted as not read', async () => {
    const inline = await read(
      await build({
        from: 'ana@corp.example',
        to: MAILBOX,
        subject: 'FW: drill?',
        headers: { 'Authentication-Results': ours('corp.example') },
        text: ['Test?', '', '-----Original Message-----', 'From: IT <training@phish-training.example>', 'Sent: Monday, March 10, 2025 9:00 AM', 'To: ana@corp.example', 'Subject: Drill', '', 'https://phish-training.example/l'].join('\n'),
      }),
    );
    expect(inline.kind).toBe('forward-inline');
    expect(inline.verified).toEqual({ claimedSenderDomain: 'phish-training.example', notVerified: 'an inline forward does not carry the original headers (a forward as attachment does)' });
    const headersOnly = await read(
      await build({
        from: 'ana@corp.example',
        to: MAILBOX,
        subject: 'FW: drill?',
        text: 'headers attached',
        attachments: [{ filename: 'h.txt', content: 'From: training@phish-training.example\r\nSubject: Drill\r\n\r\n', contentType: 'text/rfc822-headers' }],
      }),
    );
    expect(incompleteIndicators(headersOnly.indicatorCounts)).toMatch(/^not read: the attached message is its headers only/);
  });

  test('a From that fails DMARC is not attributed to that person: read as delivered directly, to the security mailbox or the Resent-From', async () => {
    const spoof = (extra: Record<string, string>) =>
      build({ from: 'Dana Reyes <dana.reyes@corp.example>', to: MAILBOX, subject: 'Gift cards', text: 'Buy them now', headers: { 'Authentication-Results': 'mx.corp.example; spf=fail smtp.mailfrom=corp.example; dmarc=fail header.from=corp.example', ...extra } });
    const direct = await read(await spoof({}));
    expect(direct.kind).toBe('direct');
    expect(direct.input.reporter).toBe(MAILBOX);
    expect(direct.input.description).toContain('fails DMARC (dmarc=fail by mx.corp.example)');
    // Without an authserv-id configured, a dmarc=fail from any server counts.
    expect((await read(await spoof({}), [])).input.reporter).toBe(MAILBOX);
    // Redirected by an employee (Resent-From): they are the reporter.
    expect((await read(await spoof({ 'Resent-From': 'kim.lo@corp.example' }))).input.reporter).toBe('kim.lo@corp.example');
    // The same mail passing DMARC is Dana's own note.
    const genuine = await read(await build({ from: 'Dana Reyes <dana.reyes@corp.example>', to: MAILBOX, subject: 'I clicked a link', text: 'sorry', headers: { 'Authentication-Results': ours('corp.example') } }));
    expect([genuine.kind, genuine.input.reporter]).toEqual(['note', 'dana.reyes@corp.example']);
  });
});

describe('the false-alarm rule on verified facts', () => {
  const verified = { senderDomain: 'phish-training.example', by: 'mx.corp.example: dmarc=pass', claimedSenderDomain: 'phish-training.example' };
  const drill = indicators({ domains: ['phish-training.example'], urls: ['https://phish-training.example/l?rid=1'] });
  const counts = (o: Partial<Record<'tooLong' | 'pastCap' | 'unparsed', number>> = {}) => {
    const c = new IndicatorCollector();
    c.addDomain('phish-training.example');
    c.addUrl('https://phish-training.example/l?rid=1');
    const r = c.result().counts;
    r.urls = { ...r.urls, ...o, seen: r.urls.seen + (o.tooLong ?? 0) + (o.pastCap ?? 0) + (o.unparsed ?? 0) };
    return r;
  };

  test('closes a verified drill with every indicator kept; a dropped or unread one sets it aside, saying why', () => {
    expect(matchFalseAlarm(report({ verified, indicators: drill, indicatorCounts: counts() }), policy)?.notApplied).toBeUndefined();
    expect(matchFalseAlarm(report({ verified, indicators: drill, indicatorCounts: counts({ tooLong: 1 }) }), policy)?.notApplied).toBe(
      'not every indicator was checked: 1 of 2 URLs seen not kept: 1 too long (over 4,096 characters)',
    );
    expect(matchFalseAlarm(report({ verified, indicators: drill, indicatorCounts: { ...counts(), unread: ['the body'] } }), policy)?.notApplied).toMatch(/not read: the body/);
  });

  test('a URL counts by its host: a look-alike host is not the vendor', () => {
    for (const url of ['https://phish-training.example.evil.example/x', 'https://phish-training.example@evil.example/x'])
      expect(matchFalseAlarm(report({ verified, indicators: indicators({ domains: ['phish-training.example'], urls: [url] }) }), policy)).toBeUndefined();
  });

  test('no webhook can claim what only the adapters verify: verified, indicatorCounts and campaign are not ReportInput fields', () => {
    const base = { title: 't', source: 's', reporter: 'r', assets: [], observedAt: '2026-11-25T08:00:00Z' };
    for (const field of [{ verified }, { indicatorCounts: counts() }, { campaign: ['u:0'] }]) {
      const parsed = ReportInput.safeParse({ ...base, ...field });
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toContain('unrecognized_keys');
    }
  });
});

type ComposeOptions = ConstructorParameters<typeof MailComposer>[0];

function build(options: ComposeOptions): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}
