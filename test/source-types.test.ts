/**
 * Source types (src/domain/source-types.ts): the policy's tables that map a structured source's
 * own type for a finding onto the taxonomy, matched exactly or by prefix, the most specific
 * entry winning. Then the shipped table (config/policy.yaml) on every reference example the
 * adapters parse (../shared/reference/alerts), each parsed by the real adapter.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parsePolicy, PolicyError, type Report, ReportInput, SourceTypes, sourceTypeVerdict, validatePolicy } from '../src/domain';
import { alertmanagerSource, defenderSource, guardDutySource, ocsfSource, splunkSource } from '../src/intake/webhooks';
import type { WebhookSource } from '../src/intake/sources';

const ROOT = resolve(__dirname, '..');
const ALERTS = resolve(ROOT, '../shared/reference/alerts');
const sample = (path: string): Buffer => readFileSync(resolve(ALERTS, path));
const sampleJson = (path: string): any => JSON.parse(sample(path).toString('utf8'));
const policyText = readFileSync(resolve(ROOT, 'config/policy.yaml'), 'utf8');
const rawPolicy = () => parseYaml(policyText) as Record<string, any>;

/** The shipped table alone, so these tests do not hang on the rest of the policy. */
const shipped = { sourceTypes: SourceTypes.parse(rawPolicy().sourceTypes) };
const NO_HEADERS = {};
const URL_ = new URL('http://intake.test/webhooks');

async function parsed(source: WebhookSource, body: Buffer | unknown): Promise<Report[]> {
  return source.parse(Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)), NO_HEADERS, URL_);
}
const open = { allowUnauthenticated: true };

describe('sourceTypeVerdict: matching', () => {
  const policy = {
    sourceTypes: SourceTypes.parse({
      guardduty: {
        types: {
          'Exfiltration:*': { category: 'data-exposure', signals: ['data-exfiltrated'] },
          'Exfiltration:S3/*': { category: 'data-exposure', signals: ['data-exfiltrated'], technique: 'T1530' },
          'Exfiltration:S3/AnomalousBehavior': 'insider-misuse',
          'Recon:*': 'other',
          'Recon:EC2/Portscan*': 'vulnerability-exploitation',
          'Recon:EC2/Portscan': 'malware',
        },
      },
      defender: {
        ignoreCase: true,
        types: {
          CredentialAccess: 'credential-compromise',
          Impact: { category: 'malware', signals: ['destructive'] },
          'microsoftDefenderForOffice365/*': 'phishing',
          'technique:T1486': { category: 'malware', signals: ['files-encrypted'], technique: 'T1486' },
        },
      },
    }),
  };
  const gd = (sourceType?: string) => sourceTypeVerdict(policy, { source: 'guardduty', sourceType });

  test('an exact entry matches its type only', () => {
    expect(gd('Exfiltration:S3/AnomalousBehavior')).toEqual({
      category: 'insider-misuse',
      signals: [],
      rule: 'guardduty: Exfiltration:S3/AnomalousBehavior',
      sourceType: 'Exfiltration:S3/AnomalousBehavior',
    });
    expect(gd('Exfiltration:S3/AnomalousBehavior.Extra')?.rule).toBe('guardduty: Exfiltration:S3/*');
  });

  test('a trailing * matches by prefix, and the longest prefix wins', () => {
    expect(gd('Exfiltration:S3/ObjectRead.Unusual')).toEqual({
      category: 'data-exposure',
      signals: ['data-exfiltrated'],
      rule: 'guardduty: Exfiltration:S3/*',
      sourceType: 'Exfiltration:S3/ObjectRead.Unusual',
      technique: 'T1530',
    });
    expect(gd('Exfiltration:IAMUser/AnomalousBehavior')).toMatchObject({ rule: 'guardduty: Exfiltration:*', signals: ['data-exfiltrated'] });
    expect(gd('Recon:IAMUser/TorIPCaller')).toMatchObject({ category: 'other', rule: 'guardduty: Recon:*' });
    expect(gd('Recon:EC2/PortscanSomething')).toMatchObject({ category: 'vulnerability-exploitation', rule: 'guardduty: Recon:EC2/Portscan*' });
  });

  test('at the same length an exact entry beats a prefix entry, whatever the table order', () => {
    expect(gd('Recon:EC2/Portscan')).toMatchObject({ category: 'malware', rule: 'guardduty: Recon:EC2/Portscan' });
  });

  test('an unknown type, a report without a type and an unknown source give no verdict', () => {
    expect(gd('Backdoor:EC2/Spambot')).toBeUndefined();
    expect(gd('Exfiltration')).toBeUndefined(); // shorter than every prefix
    expect(gd(undefined)).toBeUndefined();
    expect(gd('   ')).toBeUndefined();
    expect(sourceTypeVerdict(policy, { source: 'splunk', sourceType: 'Exfiltration:S3/AnomalousBehavior' })).toBeUndefined();
    expect(sourceTypeVerdict(policy, { source: 'toString', sourceType: 'x' })).toBeUndefined();
    // A policy snapshot from before the table existed.
    expect(sourceTypeVerdict({}, { source: 'guardduty', sourceType: 'Exfiltration:S3/AnomalousBehavior' })).toBeUndefined();
  });

  test('GuardDuty types are case-sensitive; a table that ignores case does (Defender categories)', () => {
    expect(gd('exfiltration:s3/anomalousbehavior')).toBeUndefined();
    const df = (sourceType: string, sourceTypes?: string[]) => sourceTypeVerdict(policy, { source: 'defender', sourceType, sourceTypes });
    expect(df('credentialAccess')).toMatchObject({ category: 'credential-compromise', rule: 'defender: CredentialAccess', sourceType: 'credentialAccess' });
    expect(df('CREDENTIALACCESS')?.category).toBe('credential-compromise');
    expect(df('MicrosoftDefenderForOffice365/Whatever')?.category).toBe('phishing');
  });

  test('further candidates are matched with sourceType: the most specific entry wins, then the earlier candidate', () => {
    const df = (sourceType: string, sourceTypes?: string[]) => sourceTypeVerdict(policy, { source: 'defender', sourceType, sourceTypes });
    // "technique:T1486" pins down 15 characters, "Impact" 6.
    expect(df('Impact', ['technique:T1486'])).toEqual({
      category: 'malware',
      signals: ['files-encrypted'],
      rule: 'defender: technique:T1486',
      sourceType: 'technique:T1486',
      technique: 'T1486',
    });
    // The service prefix (30 characters) is more specific than the category (16).
    expect(df('CredentialAccess', ['microsoftDefenderForOffice365/CredentialAccess'])?.category).toBe('phishing');
    // A candidate that matches nothing changes nothing.
    expect(df('CredentialAccess', ['technique:T9999'])?.rule).toBe('defender: CredentialAccess');
    // Only candidates, no sourceType.
    expect(sourceTypeVerdict(policy, { source: 'defender', sourceTypes: ['impact'] })?.category).toBe('malware');
    // Equal specificity: the earlier candidate.
    const tie = { sourceTypes: SourceTypes.parse({ x: { types: { 'aa*': 'malware', 'bb*': 'phishing' } } }) };
    expect(sourceTypeVerdict(tie, { source: 'x', sourceType: 'bbb', sourceTypes: ['aaa'] })?.category).toBe('phishing');
    expect(sourceTypeVerdict(tie, { source: 'x', sourceType: 'aaa', sourceTypes: ['bbb'] })?.category).toBe('malware');
  });

  test('the verdict is a copy: changing its signals does not change the policy', () => {
    gd('Exfiltration:S3/ObjectRead.Unusual')!.signals.push('mutated');
    expect(gd('Exfiltration:S3/ObjectRead.Unusual')!.signals).toEqual(['data-exfiltrated']);
  });
});

describe('the sourceTypes schema and the policy', () => {
  test('a * other than a trailing one, case-folded duplicates and unknown keys are refused', () => {
    const issues = (value: unknown) => {
      const result = SourceTypes.safeParse(value);
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ guardduty: { types: { 'Recon:*/Port*': 'other' } } })).toEqual(['guardduty.types.Recon:*/Port*: only a trailing * is a wildcard (a prefix match)']);
    expect(issues({ defender: { ignoreCase: true, types: { Malware: 'malware', malware: 'malware' } } })).toEqual([
      'defender.types.malware: the same type as "Malware" (the table ignores case)',
    ]);
    expect(issues({ defender: { types: { Malware: 'malware', malware: 'malware' } } })).toEqual([]);
    expect(issues({ guardduty: { types: { 'Recon:*': { category: 'other', signal: ['beaconing'] } } } })).not.toEqual([]);
    expect(issues({ guardduty: { types: { 'Recon:*': { category: 'other', technique: 'recon' } } } })).not.toEqual([]);
    expect(issues({ guardduty: { typos: {} } })).not.toEqual([]);
    expect(SourceTypes.parse(undefined)).toEqual({});
  });

  test('an entry naming a category the taxonomy lacks makes the policy invalid, with its path', () => {
    const raw = rawPolicy();
    raw.sourceTypes = { guardduty: { types: { 'Recon:*': 'recon', 'PenTest:*': { category: 'credential-compromise' } } } };
    let error: unknown;
    try {
      validatePolicy(raw, 'test');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    const problems = (error as PolicyError).problems;
    expect(problems).toContainEqual(expect.stringMatching(/^sourceTypes\.guardduty\.types\.Recon:\*\.category: unknown category "recon" \(taxonomy: malware, .*other\)$/));
    expect(problems.filter((p) => p.startsWith('sourceTypes'))).toHaveLength(1);
  });

  test('a policy without the section stays valid, with no table; the shipped policy validates with its table', () => {
    const raw = rawPolicy();
    delete raw.sourceTypes;
    expect(validatePolicy(raw).sourceTypes).toEqual({});
    const policy = parsePolicy(policyText, 'config/policy.yaml');
    expect(policy.sourceTypes).toEqual(shipped.sourceTypes);
    expect(Object.keys(policy.sourceTypes)).toEqual(['guardduty', 'defender', 'ocsf', 'alertmanager', 'splunk']);
  });

  test('every shipped entry names a taxonomy category, and only the agreed activity signals', () => {
    const categories = new Set((rawPolicy().taxonomy as { id: string }[]).map((c) => c.id));
    const signals = new Set(['login-after-failures', 'beaconing', 'files-encrypted', 'data-exfiltrated', 'data-staged', 'privilege-escalation', 'lateral-movement', 'destructive']);
    for (const [source, table] of Object.entries(shipped.sourceTypes))
      for (const [type, entry] of Object.entries(table.types)) {
        expect(`${source}: ${type} → ${categories.has(entry.category) ? 'known' : entry.category}`).toBe(`${source}: ${type} → known`);
        for (const signal of entry.signals) expect(`${source}: ${type} → ${signals.has(signal) ? 'known' : signal}`).toBe(`${source}: ${type} → known`);
      }
  });
});

describe('the shipped table on the reference alerts, through the real adapters', () => {
  const verdict = (report: Pick<Report, 'source' | 'sourceType' | 'sourceTypes'>) => sourceTypeVerdict(shipped, report);

  describe('AWS GuardDuty', () => {
    const guardduty = guardDutySource(open);
    const one = async (body: Buffer | unknown) => {
      const reports = await parsed(guardduty, body);
      expect(reports).toHaveLength(1);
      return reports[0];
    };
    const withType = (type: string) => ({ ...sampleJson('aws-guardduty/finding-detail-s3.json'), type });

    test('Recon:IAMUser (the IAM sample, bare and in its EventBridge event) is credential compromise: the calls used our keys', async () => {
      for (const file of ['aws-guardduty/finding-detail-iam.json', 'aws-guardduty/eventbridge-event-iam.json']) {
        const report = await one(sample(file));
        expect(report.sourceType).toBe('Recon:IAMUser/MaliciousIPCaller.Custom');
        expect(report.sourceTypes).toBeUndefined();
        expect(verdict(report)).toEqual({
          category: 'credential-compromise',
          signals: [],
          rule: 'guardduty: Recon:IAMUser/*',
          sourceType: 'Recon:IAMUser/MaliciousIPCaller.Custom',
        });
      }
    });

    test('PenTest:S3 (the S3 sample) is credential compromise', async () => {
      const report = await one(sample('aws-guardduty/finding-detail-s3.json'));
      expect(report.sourceType).toBe('PenTest:S3/ParrotLinux');
      expect(verdict(report)).toMatchObject({ category: 'credential-compromise', rule: 'guardduty: PenTest:*' });
    });

    test("the EC2 sample's Canary type (GuardDuty's own test finding) is left to the keywords", async () => {
      const report = await one(sample('aws-guardduty/finding-detail-ec2.json'));
      expect(report.sourceType).toBe('Canary:EC2/Stateless.IntegTest');
      expect(verdict(report)).toBeUndefined();
    });

    test.each([
      ['Exfiltration:S3/AnomalousBehavior', 'data-exposure', ['data-exfiltrated'], 'Exfiltration:*'],
      ['Exfiltration:S3/MaliciousIPCaller', 'data-exposure', ['data-exfiltrated'], 'Exfiltration:*'],
      ['Exfiltration:IAMUser/AnomalousBehavior', 'data-exposure', ['data-staged'], 'Exfiltration:IAMUser/*'],
      ['UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B', 'credential-compromise', [], 'UnauthorizedAccess:*'],
      ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'credential-compromise', [], 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration*'],
      ['UnauthorizedAccess:EC2/SSHBruteForce', 'credential-compromise', [], 'UnauthorizedAccess:EC2/SSHBruteForce'],
      ['UnauthorizedAccess:EC2/TorClient', 'malware', [], 'UnauthorizedAccess:EC2/TorClient'],
      ['UnauthorizedAccess:EC2/TorIPCaller', 'other', [], 'UnauthorizedAccess:EC2/TorIPCaller'],
      ['UnauthorizedAccess:EC2/MetadataDNSRebind', 'vulnerability-exploitation', [], 'UnauthorizedAccess:EC2/MetadataDNSRebind'],
      ['UnauthorizedAccess:S3/TorIPCaller', 'credential-compromise', [], 'UnauthorizedAccess:*'],
      ['CryptoCurrency:EC2/BitcoinTool.B!DNS', 'malware', [], 'CryptoCurrency:*'],
      ['CryptoCurrency:Runtime/BitcoinTool.B', 'malware', [], 'CryptoCurrency:*'],
      ['Backdoor:EC2/C&CActivity.B!DNS', 'malware', ['beaconing'], 'Backdoor:EC2/C&CActivity*'],
      ['Backdoor:EC2/Spambot', 'malware', [], 'Backdoor:*'],
      ['Trojan:EC2/DGADomainRequest.C!DNS', 'malware', ['beaconing'], 'Trojan:EC2/DGADomainRequest*'],
      ['Trojan:EC2/DNSDataExfiltration', 'malware', ['data-exfiltrated'], 'Trojan:EC2/DNSDataExfiltration*'],
      ['Trojan:EC2/BlackholeTraffic', 'malware', [], 'Trojan:*'],
      ['Execution:EC2/MaliciousFile', 'malware', [], 'Execution:*'],
      ['Impact:EC2/WinRMBruteForce', 'malware', [], 'Impact:EC2/*'],
      ['Impact:S3/AnomalousBehavior.Delete', 'credential-compromise', ['destructive'], 'Impact:S3/AnomalousBehavior.Delete'],
      ['Impact:S3/AnomalousBehavior.Permission', 'data-exposure', [], 'Impact:S3/AnomalousBehavior.Permission'],
      ['Impact:S3/AnomalousBehavior.Write', 'credential-compromise', [], 'Impact:S3/*'],
      ['Policy:S3/BucketBlockPublicAccessDisabled', 'data-exposure', [], 'Policy:S3/*'],
      ['Policy:IAMUser/RootCredentialUsage', 'credential-compromise', [], 'Policy:IAMUser/RootCredentialUsage'],
      ['Stealth:IAMUser/PasswordPolicyChange', 'credential-compromise', [], 'Stealth:*'],
      ['PrivilegeEscalation:IAMUser/AnomalousBehavior', 'credential-compromise', ['privilege-escalation'], 'PrivilegeEscalation:*'],
      ['PrivilegeEscalation:Runtime/RuncContainerEscape', 'vulnerability-exploitation', ['privilege-escalation'], 'PrivilegeEscalation:Runtime/*'],
      ['Persistence:IAMUser/AnomalousBehavior', 'credential-compromise', [], 'Persistence:*'],
      ['DefenseEvasion:EC2/UnusualDoHActivity', 'malware', [], 'DefenseEvasion:EC2/*'],
      ['Discovery:S3/AnomalousBehavior', 'credential-compromise', [], 'Discovery:S3/*'],
      ['Discovery:RDS/MaliciousIPCaller', 'other', [], 'Discovery:*'],
      ['Recon:EC2/PortProbeUnprotectedPort', 'other', [], 'Recon:*'],
      ['Recon:EC2/Portscan', 'malware', [], 'Recon:EC2/Portscan'],
      ['CredentialAccess:IAMUser/AnomalousBehavior', 'credential-compromise', [], 'CredentialAccess:*'],
      ['CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce', 'credential-compromise', ['login-after-failures'], 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce'],
      ['InitialAccess:IAMUser/AnomalousBehavior', 'credential-compromise', [], 'InitialAccess:*'],
      ['AttackSequence:S3/CompromisedData', 'data-exposure', [], 'AttackSequence:S3/*'],
    ])('%s → %s %j', async (type, category, signals, rule) => {
      const report = await one(withType(type));
      expect(report.sourceType).toBe(type);
      expect(verdict(report)).toMatchObject({ category, signals, rule: `guardduty: ${rule}` });
    });

    test('Behavior, unknown purposes and a type in the wrong case are left to the keywords', async () => {
      for (const type of ['Behavior:EC2/TrafficVolumeUnusual', 'Behavior:EC2/NetworkPortUnusual', 'Surprise:EC2/Novel', 'exfiltration:S3/AnomalousBehavior'])
        expect(verdict((await one(withType(type))) as Report)).toBeUndefined();
      expect(verdict({ source: 'guardduty', sourceType: 'Stealth:IAMUser/CloudTrailLoggingDisabled' })).toMatchObject({ technique: 'T1562.008' });
    });
  });

  describe('OCSF Detection Finding', () => {
    const SAMPLE = 'ocsf/examples/securityhub-guardduty.detection_finding.ocsf-1.1.0.json';
    const ocsf = ocsfSource(open);

    test("Security Hub's GuardDuty finding (its ASFF type) is credential compromise, the most specific entry winning", async () => {
      const [report] = await parsed(ocsf, sample(SAMPLE));
      expect(report.sourceType).toBe('TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled');
      expect(report.sourceTypes).toBeUndefined();
      expect(verdict(report)).toEqual({
        category: 'credential-compromise',
        signals: [],
        rule: 'ocsf: TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled',
        sourceType: 'TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled',
        technique: 'T1562.008',
      });
      const other = sampleJson(SAMPLE);
      other.finding_info.types = ['TTPs/Defense Evasion/Stealth:IAMUser-PasswordPolicyChange'];
      expect(verdict((await parsed(ocsf, other))[0])).toMatchObject({ category: 'credential-compromise', rule: 'ocsf: TTPs/Defense Evasion/Stealth:*' });
      other.finding_info.types = ['Effects/Data Exfiltration/Exfiltration:S3-AnomalousBehavior'];
      expect(verdict((await parsed(ocsf, other))[0])).toMatchObject({ category: 'data-exposure', signals: ['data-exfiltrated'] });
    });

    test('ATT&CK techniques and tactics are candidates: sub-technique, technique, then tactic by name and uid', async () => {
      const finding = sampleJson(SAMPLE);
      delete finding.finding_info.types;
      finding.finding_info.attacks = [
        { tactic: { name: 'Exfiltration', uid: 'TA0010' }, technique: { name: 'Exfiltration Over Web Service', uid: 'T1567' }, sub_technique: { uid: 'T1567.002' } },
      ];
      finding.finding_info.analytic = { name: 'Unusual upload volume', type_id: 1 };
      const [report] = await parsed(ocsf, finding);
      expect(report.sourceType).toBe('technique:T1567.002');
      expect(report.sourceTypes).toEqual(['technique:T1567', 'tactic:Exfiltration', 'tactic:TA0010', 'analytic:Unusual upload volume']);
      expect(verdict(report)).toMatchObject({ category: 'data-exposure', signals: ['data-exfiltrated'], rule: 'ocsf: technique:T1567*', technique: 'T1567' });

      // A tactic alone; OCSF 1.0's top-level attacks with its `tactics` list; values that are not text are skipped.
      finding.finding_info.attacks = [{ tactic: { uid: 'TA0011' }, technique: { uid: 42 } }];
      expect(verdict((await parsed(ocsf, finding))[0])).toMatchObject({ category: 'malware', signals: ['beaconing'], rule: 'ocsf: tactic:TA0011' });
      delete finding.finding_info.attacks;
      finding.attacks = [{ tactics: [{ name: 'Impact', uid: 'TA0040' }], technique: { uid: 'T1486', name: 'Data Encrypted for Impact' } }, 'not an attack'];
      expect(verdict((await parsed(ocsf, finding))[0])).toMatchObject({ category: 'malware', signals: ['files-encrypted'], rule: 'ocsf: technique:T1486' });
    });

    test('a finding with no types, attacks or analytic carries no source type', async () => {
      const finding = sampleJson(SAMPLE);
      delete finding.finding_info.types;
      const [report] = await parsed(ocsf, finding);
      expect(report).not.toHaveProperty('sourceType');
      expect(verdict(report)).toBeUndefined();
    });
  });

  describe('Microsoft Graph security alert (alerts_v2)', () => {
    const SAMPLE = 'microsoft/graph-security-alert-v2.example.json';
    const defender = defenderSource(open);

    test('the Defender for Endpoint sample (DefenseEvasion, antivirus) is malware; no category hint is sent', async () => {
      const [report] = await parsed(defender, sample(SAMPLE));
      expect(report.sourceType).toBe('DefenseEvasion');
      expect(report.sourceTypes).toEqual(['microsoftDefenderForEndpoint/DefenseEvasion', 'technique:T1564.001']);
      expect(report.categoryHint).toBeUndefined();
      expect(verdict(report)).toEqual({ category: 'malware', signals: [], rule: 'defender: DefenseEvasion', sourceType: 'DefenseEvasion' });
    });

    test.each([
      ['CredentialAccess', 'microsoftDefenderForEndpoint', [], 'credential-compromise', [], 'CredentialAccess'],
      ['Ransomware', 'microsoftDefenderForEndpoint', [], 'malware', ['files-encrypted'], 'Ransomware'],
      ['exfiltration', 'microsoftDefenderForEndpoint', [], 'data-exposure', ['data-exfiltrated'], 'Exfiltration'],
      ['CommandAndControl', 'microsoftDefenderForEndpoint', ['T1071.001'], 'malware', ['beaconing'], 'CommandAndControl'],
      ['Persistence', 'microsoftDefenderForCloudApps', [], 'credential-compromise', [], 'microsoftDefenderForCloudApps/Persistence'],
      ['Persistence', 'microsoftDefenderForEndpoint', ['T1547.001'], 'malware', [], 'Persistence'],
      ['Impact', 'microsoftDefenderForEndpoint', ['T1486'], 'malware', ['files-encrypted'], 'technique:T1486'],
      ['InitialAccess', 'microsoftDefenderForOffice365', ['T1566.002'], 'phishing', [], 'microsoftDefenderForOffice365/InitialAccess'],
      ['InitialAccess', 'azureAdIdentityProtection', [], 'credential-compromise', [], 'azureAdIdentityProtection/*'],
      ['LateralMovement', 'microsoftDefenderForIdentity', ['T1550.002'], 'credential-compromise', ['lateral-movement'], 'microsoftDefenderForIdentity/LateralMovement'],
      ['Discovery', 'microsoftDefenderForEndpoint', [], 'other', [], 'Discovery'],
    ])('category %s from %s %j → %s %j', async (category, serviceSource, mitreTechniques, expected, signals, rule) => {
      const alert = { ...sampleJson(SAMPLE), category, serviceSource, mitreTechniques };
      const [report] = await parsed(defender, alert);
      expect(report.sourceType).toBe(category);
      expect(verdict(report)).toMatchObject({ category: expected, signals, rule: `defender: ${rule}` });
    });

    test('SuspiciousActivity and an alert without a category are left to the keywords', async () => {
      const [vague] = await parsed(defender, { ...sampleJson(SAMPLE), category: 'SuspiciousActivity', mitreTechniques: [] });
      expect(verdict(vague)).toBeUndefined();
      const [none] = await parsed(defender, { ...sampleJson(SAMPLE), category: null, mitreTechniques: null });
      expect(none).not.toHaveProperty('sourceType');
      expect(verdict(none)).toBeUndefined();
    });
  });

  describe('Prometheus Alertmanager', () => {
    const alertmanager = alertmanagerSource(open);

    test('each firing SSHBruteForce alert carries its alertname and is credential compromise; the resolved group files nothing', async () => {
      const reports = await parsed(alertmanager, sample('prometheus-alertmanager/example-firing.json'));
      expect(reports).toHaveLength(2);
      for (const report of reports) {
        expect(report.sourceType).toBe('SSHBruteForce');
        expect(verdict(report)).toEqual({ category: 'credential-compromise', signals: [], rule: 'alertmanager: SSHBruteForce', sourceType: 'SSHBruteForce', technique: 'T1110' });
      }
      expect(await parsed(alertmanager, sample('prometheus-alertmanager/example-resolved.json'))).toEqual([]);
    });
  });

  describe('Splunk webhook alert action', () => {
    const splunk = splunkSource(open);

    test('the saved search is the type (brute force then success: login-after-failures); an unsaved search has none', async () => {
      const [saved] = await parsed(splunk, sample('splunk/webhook-alert-action.example.json'));
      expect(saved.sourceType).toBe('Brute Force Access Behavior Detected');
      expect(verdict(saved)).toMatchObject({ category: 'credential-compromise', signals: ['login-after-failures'], rule: 'splunk: Brute Force Access Behavior Detected' });
      const [unsaved] = await parsed(splunk, sample('splunk/webhook-alert-action.unsaved-search.example.json'));
      expect(unsaved).not.toHaveProperty('sourceType');
      expect(verdict(unsaved)).toBeUndefined();
    });
  });

  test('a generic report sends its own type, checked like any other field', () => {
    const base = { title: 'S3 data read from an unusual place', source: 'guardduty', reporter: 'siem', assets: [], observedAt: '2026-11-25T08:00:00Z' };
    const report = ReportInput.parse({ ...base, sourceType: ' Exfiltration:S3/AnomalousBehavior ', sourceTypes: ['technique:T1530'] });
    expect(report).toMatchObject({ sourceType: 'Exfiltration:S3/AnomalousBehavior', sourceTypes: ['technique:T1530'] });
    expect(verdict(report)).toMatchObject({ category: 'data-exposure', signals: ['data-exfiltrated'], rule: 'guardduty: Exfiltration:*' });
    expect(ReportInput.safeParse({ ...base, sourceType: '' }).success).toBe(false);
    expect(ReportInput.safeParse({ ...base, sourceType: 'x'.repeat(201) }).success).toBe(false);
    expect(ReportInput.safeParse({ ...base, sourceTypes: Array(21).fill('x') }).success).toBe(false);
    expect(ReportInput.parse(base)).not.toHaveProperty('sourceType');
  });
});
