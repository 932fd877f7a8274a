/**
 * The runbook's judgments as a SOC lead would state them, as a table over the pure triage()
 * with the default policy: what happened, to what, and how much decide severity and paging.
 */
import { resolve } from 'node:path';
import { loadPolicyFile } from '../src/config';
import { type Severity, triage, type TriageFacts } from '../src/domain';

const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));

interface Judgment {
  name: string;
  report: Partial<TriageFacts> & { title: string };
  category?: string;
  severity: Severity | Severity[];
  page?: boolean;
  escalate?: boolean;
  regimes?: string[];
  affected?: number;
}

const judgments: Judgment[] = [
  {
    name: "the quick start's ransomware note on the production finance server pages",
    report: {
      title: 'Ransomware note found on finance file server',
      description: 'EDR flagged encrypted files and a ransom note on db-prod-finance; the host is beaconing to an unknown IP.',
      source: 'edr',
      assets: ['db-prod-finance'],
    },
    category: 'malware',
    severity: ['SEV1', 'SEV2'],
    page: true,
  },
  {
    name: 'a lost encrypted laptop with no data is SEV4',
    report: { title: 'Lost laptop', description: 'An employee lost their laptop on the train. The laptop is fully encrypted with BitLocker.', source: 'servicedesk', assets: ['laptop-4411'] },
    category: 'lost-device',
    severity: 'SEV4',
    page: false,
  },
  {
    name: 'one employee forwarding a phish nobody clicked is SEV3 or SEV4',
    report: { title: 'Suspicious email', description: 'I got this phishing email asking me to reset my password. I did not click the link.', source: 'phishing-mailbox' },
    category: 'phishing',
    severity: ['SEV3', 'SEV4'],
    page: false,
  },
  {
    name: 'a root login after brute force on a production database is a paged credential compromise',
    report: { title: 'Multiple failed logins followed by successful root login', description: 'auth.log on db-prod-01 shows 4,000 failed SSH logins from 198.51.100.23 followed by a successful root login.', source: 'siem', assets: ['db-prod-01'] },
    category: 'credential-compromise',
    severity: ['SEV1', 'SEV2'],
    page: true,
  },
  {
    name: 'an exfiltration from the regulated customer bucket is SEV1 with a GDPR clock',
    report: {
      title: 'Exfiltration:S3/AnomalousBehavior on customer-data-prod',
      description: 'GuardDuty: an IAM entity invoked S3 APIs in a suspicious way: objects were copied out of customer-data-prod to an external account (data exfiltrated).',
      source: 'guardduty',
      sourceType: 'Exfiltration:S3/AnomalousBehavior',
      assets: ['customer-data-prod'],
    },
    severity: 'SEV1',
    page: true,
    escalate: true,
    regimes: ['gdpr-art33'],
  },
  {
    name: 'a finding on payments-db involves the payment data it holds',
    report: { title: 'Suspicious query volume', description: 'Unusual read volume on payments-db from a service account.', source: 'siem', assets: ['payments-db'] },
    severity: ['SEV1', 'SEV2'],
    escalate: true,
    regimes: ['pci-dss', 'gdpr-art33'],
  },
  {
    name: "a breach of 640,436 patients' records is SEV1, not scored like one of 500",
    report: {
      title: 'Ransomware attack',
      description: 'The covered entity reported that it was the victim of a ransomware attack affecting the electronic protected health information (ePHI) of 640,436 individuals.',
      source: 'hhs-ocr',
    },
    category: 'malware',
    severity: 'SEV1',
    affected: 640436,
    regimes: ['hipaa-breach', 'hipaa-breach-500'],
  },
  {
    name: 'a breach of 600 patients is SEV3',
    report: {
      title: 'Stolen laptop',
      description: 'An unencrypted laptop containing the protected health information of 600 patients was stolen from an employee car.',
      source: 'hhs-ocr',
    },
    category: 'lost-device',
    severity: 'SEV3',
    affected: 600,
  },
  {
    name: 'a misdirected mailing to 12,500 members is SEV2',
    report: { title: 'Mailing error', description: 'A mailing error sent explanation of benefits letters containing PHI of 12,500 members to the wrong addresses.', source: 'hhs-ocr' },
    category: 'data-exposure',
    severity: 'SEV2',
    affected: 12500,
  },
  {
    name: 'a count the sender gives wins over the words',
    report: { title: 'Exposed share', description: 'A file share was publicly accessible.', source: 'siem', affected: 150000 },
    severity: 'SEV1',
    affected: 150000,
  },
  {
    name: 'a marketing-site defacement alone is not paged',
    report: { title: 'Website defaced', description: 'The marketing-site homepage shows a defacement banner.', source: 'uptime', assets: ['marketing-site'] },
    severity: ['SEV3', 'SEV4'],
    page: false,
  },
];

describe("the runbook's judgments (triage with the default policy)", () => {
  test.each(judgments)('$name', (j) => {
    const answer = triage({ description: '', assets: [], users: [], dataClasses: [], ...j.report }, policy);
    const why = `${answer.classification.category} ${answer.assessment.severity} score ${answer.assessment.score}: ${answer.assessment.factors.map((f) => `${f.factor} ${f.points} (${f.why})`).join('; ')}`;
    if (j.category) expect({ category: answer.classification.category, why }).toEqual({ category: j.category, why });
    expect({ severity: [j.severity].flat().includes(answer.assessment.severity), why }).toEqual({ severity: true, why });
    if (j.page !== undefined) expect({ page: answer.page, why }).toEqual({ page: j.page, why });
    if (j.escalate !== undefined) expect(answer.escalation.path === 'escalate').toBe(j.escalate);
    if (j.regimes) expect(answer.regulatoryFlags.map((f) => f.regime)).toEqual(expect.arrayContaining(j.regimes));
    if (j.affected !== undefined) expect(answer.affected?.count).toBe(j.affected);
  });

  test('every factor of the severity is explained on the answer', () => {
    const answer = triage(
      { title: 'Ransomware note found on finance file server', description: 'encrypted files and a ransom note on db-prod-finance; beaconing', assets: ['db-prod-finance'], users: [], dataClasses: [] },
      policy,
    );
    expect(answer.assessment.factors.map((f) => f.factor)).toEqual(['what-happened', 'asset-criticality', 'data-sensitivity', 'spread']);
    expect(answer.assessment.factors[0].why).toMatch(/files-encrypted/);
    expect(answer.assessment.factors[0].why).toMatch(/beaconing/);
  });

  test('facts from free text say where they came from', () => {
    const answer = triage(
      { title: 'Breach', description: 'Social Security numbers and card numbers of 2,339 individuals were exposed on db-prod-07.', assets: [], users: [], dataClasses: [] },
      policy,
    );
    expect(answer.affected).toEqual({ count: 2339, from: expect.stringContaining('2,339 individuals') });
    expect(answer.assets).toContain('db-prod-07');
    expect(answer.dataClasses.map((d) => d.dataClass)).toEqual(expect.arrayContaining(['personal', 'payment']));
    expect(answer.dataClasses.find((d) => d.dataClass === 'payment')?.from).toMatch(/card numbers/);
  });

  test('accounts the words name join the accounts affected; ordinary words after "user" do not', () => {
    const answer = triage(
      { title: 'Multiple failed logins followed by successful root login', description: 'Then the account "svc-backup" and user j.doe were used; an unauthorized user accessed the mailbox.', assets: [], users: [], dataClasses: [] },
      policy,
    );
    expect(answer.users.sort()).toEqual(['j.doe', 'root', 'svc-backup']);
    expect(answer.facts.usersNamed.find((u) => u.user === 'root')?.from).toMatch(/root login/);
  });
});

describe("facts come from a report's own words, not from what it quotes", () => {
  const { simpleParser } = require('mailparser') as typeof import('mailparser');
  const { readMail } = require('../src/intake/mail-report') as typeof import('../src/intake/mail-report');
  const phish = [
    'From: "Security Desk" <alerts@evil-desk.example>',
    'To: phishing@corp.example',
    'Subject: Data of 5,000,000 customers exposed: confirm your Social Security number',
    'Date: Tue, 01 Dec 2026 09:00:00 +0000',
    'Message-ID: <p1@evil-desk.example>',
    '',
    'Your files were encrypted and a ransom note was left on db-prod-01. Your login credentials and SSNs of 5,000,000 customers were exfiltrated.',
    'Visit https://evil-desk.example/verify to restore access.',
    '',
  ].join('\r\n');

  test('a phish delivered straight to the mailbox states no scale, no data involved, no activity: it pages nobody', async () => {
    const { input } = await readMail(await simpleParser(phish), { mailbox: 'phishing@corp.example', source: phish });
    const answer = triage({ ...input, assets: input.assets ?? [], users: input.users ?? [], dataClasses: input.dataClasses ?? [], description: input.description ?? '' }, policy);
    expect(answer.affected).toBeUndefined();
    expect(answer.dataClasses).toEqual([]);
    expect(answer.facts.signals).toEqual([]);
    expect(answer.assets).toEqual([]);
    expect(answer.page).toBe(false);
    expect(answer.escalation.path).toBe('respond');
  });

  test("an employee's own note still counts: how many of them got it", async () => {
    const forward = [
      'From: Dana Example <dana@corp.example>',
      'To: phishing@corp.example',
      'Subject: FW: Data of 5,000,000 customers exposed',
      'Date: Tue, 01 Dec 2026 09:30:00 +0000',
      'Message-ID: <f1@corp.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'This went to 600 employees in finance this morning.',
      '--b1',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="phish.eml"',
      '',
      phish,
      '--b1--',
      '',
    ].join('\r\n');
    const { input } = await readMail(await simpleParser(forward), { mailbox: 'phishing@corp.example', source: forward });
    const answer = triage({ ...input, assets: input.assets ?? [], users: input.users ?? [], dataClasses: input.dataClasses ?? [], description: input.description ?? '' }, policy);
    expect(answer.affected).toEqual({ count: 600, from: expect.stringContaining('600 employees') });
    expect(answer.dataClasses).toEqual([]);
    expect(answer.classification.category).toBe('phishing');
  });
});

test("the Slack adapter's reported message is quoted words too", () => {
  const { describeReport } = require('../src/intake/slack-report') as typeof import('../src/intake/slack-report');
  const description = describeReport('Someone posted this in #general, looks like phishing.', { channel: 'C1', ts: '1.2', author: 'U9', text: 'Payroll data of 20,000 employees leaked: log in at https://evil.example' } as never);
  const answer = triage({ title: 'Suspicious message in #general', description, assets: [], users: [], dataClasses: [], source: 'slack' }, policy);
  expect(answer.affected).toBeUndefined();
});
