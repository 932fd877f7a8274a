/** The pure domain: policy validation, scoring, escalation criteria, fingerprints, false alarms. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  assessSeverity,
  authorize,
  classifyByRules,
  durationToMs,
  escalationTriggers,
  fingerprintText,
  matchFalseAlarm,
  parsePolicy,
  PolicyError,
  type Report,
  ReportInput,
} from '../src/domain';

const policyText = readFileSync(resolve(__dirname, '../config/policy.yaml'), 'utf8');
const policy = parsePolicy(policyText, 'config/policy.yaml');

function report(overrides: Partial<Report> = {}): Report {
  return {
    ...ReportInput.parse({ title: 't', source: 's', reporter: 'r', assets: [], observedAt: '2026-11-25T08:00:00Z' }),
    reportId: 'r1',
    receivedAt: '2026-11-25T08:00:01Z',
    ...overrides,
  };
}

describe('policy', () => {
  test('the shipped policy is valid', () => {
    expect(policy.version).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(policy.recovery.criteria.map((c) => c.verification)).toEqual(['human', 'human', 'machine']);
  });

  test('every problem is listed with its path', () => {
    const broken = policyText
      .replace('deescalate: [incident-commander]', 'deescalate: [incident-commandr]')
      .replace('SEV1: { acknowledgeBy: 15m, respondBy: 1h }', 'SEV1: { acknowledgeBy: soon, respondBy: 1h }')
      .replace('defaultQueue: soc', 'defaultQueue: nowhere');
    let error: PolicyError | undefined;
    try {
      parsePolicy(broken, 'broken.yaml');
    } catch (err) {
      error = err as PolicyError;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^slas\.SEV1\.acknowledgeBy: a duration/),
        expect.stringMatching(/^permissions\.deescalate\.0: unknown role "incident-commandr"/),
        expect.stringMatching(/^defaultQueue: unknown queue "nowhere"/),
      ]),
    );
    expect(error!.message).toContain('policy broken.yaml is invalid');
  });

  test('YAML syntax errors are reported, not thrown raw', () => {
    expect(() => parsePolicy('version: [', 'x.yaml')).toThrow(/not valid YAML/);
  });

  test('authorization names the roles and what the actor holds', () => {
    expect(authorize(policy, 'alice', ['incident-commander'], 'sign off x')).toBeUndefined();
    expect(authorize(policy, 'bob', ['incident-commander'], 'sign off x')).toBe(
      'bob may not sign off x: the policy allows incident-commander, and bob is analyst',
    );
  });

  test('durations', () => {
    expect(durationToMs('15m')).toBe(900_000);
    expect(durationToMs('1.5s')).toBe(1_500);
    expect(() => durationToMs('soon')).toThrow(/not a duration/);
  });
});

describe('severity scoring', () => {
  test('what happened, asset criticality, data sensitivity and spread add up, with the factors behind them', () => {
    const a = assessSeverity({ assets: ['payments-db'], users: [], dataClasses: [], reportCount: 1, category: 'malware' }, policy);
    expect(a.factors).toEqual([
      { factor: 'what-happened', points: 20, why: 'malware impact 20' },
      { factor: 'asset-criticality', points: 35, why: 'critical: payments-db' },
      { factor: 'data-sensitivity', points: 15, why: 'regulated: payments-db holds regulated data' },
      { factor: 'spread', points: 0, why: '1 asset(s), 0 account(s), 1 report(s)' },
    ]);
    expect(a).toMatchObject({ score: 70, severity: 'SEV2' });
  });

  test('activity signals add to what happened, up to its cap; a mitigating one takes away', () => {
    const signals = [
      { signal: 'files-encrypted', from: 'text' },
      { signal: 'beaconing', from: 'text' },
    ];
    const a = assessSeverity({ assets: [], users: [], dataClasses: [], reportCount: 1, category: 'malware', signals }, policy);
    expect(a.factors[0]).toMatchObject({ points: 30, why: expect.stringContaining('capped at 30') });
    const b = assessSeverity({ assets: [], users: [], dataClasses: [], reportCount: 1, category: 'lost-device', signals: [{ signal: 'device-encrypted', from: 'text' }] }, policy);
    expect(b.factors[0].points).toBe(0);
  });

  test('regulated data classes raise sensitivity and are named', () => {
    const a = assessSeverity({ assets: ['laptop-9'], users: ['u1'], dataClasses: ['health'], reportCount: 1, category: 'lost-device' }, policy);
    expect(a.regulatedData).toEqual(['health']);
    expect(a.score).toBe(10 + 10 + 15 + 1);
    expect(a.severity).toBe('SEV3');
  });

  test('spread is capped', () => {
    const users = Array.from({ length: 400 }, (_, i) => `u${i}`);
    const a = assessSeverity({ assets: ['marketing-site'], users, dataClasses: [], reportCount: 50 }, policy);
    expect(a.factors[3]).toMatchObject({ points: 10, why: expect.stringContaining('capped at 10') });
  });

  test('scale tiers set a floor: 500, 10,000 and 100,000 people affected', () => {
    const at = (count: number) => assessSeverity({ assets: [], users: [], dataClasses: [], reportCount: 1, category: 'phishing', affected: { count, from: 'field affected' } }, policy).severity;
    expect([at(499), at(500), at(9_999), at(10_000), at(99_999), at(100_000), at(640_436)]).toEqual(['SEV4', 'SEV3', 'SEV3', 'SEV2', 'SEV2', 'SEV1', 'SEV1']);
  });

  test('unknown assets count at the policy default criticality; no asset named counts none', () => {
    const a = assessSeverity({ assets: ['mystery-box'], users: [], dataClasses: [], reportCount: 1 }, policy);
    expect(a.factors[1]).toEqual({ factor: 'asset-criticality', points: 10, why: 'medium: mystery-box (not in inventory)' });
    const none = assessSeverity({ assets: [], users: [], dataClasses: [], reportCount: 1 }, policy);
    expect(none.factors[1]).toEqual({ factor: 'asset-criticality', points: 0, why: '(no asset named)' });
  });
});

describe('escalation criteria', () => {
  test('each criterion fires on its own facts', () => {
    const none = escalationTriggers({ severity: 'SEV3', assets: ['a'], users: [], regulatedData: [] }, policy);
    expect(none).toEqual([]);
    const all = escalationTriggers(
      { severity: 'SEV1', assets: Array.from({ length: 10 }, (_, i) => `a${i}`), users: [], regulatedData: ['payment'] },
      policy,
    );
    expect(all.map((t) => t.criterion)).toEqual(['priority', 'blast-radius', 'regulated-data']);
    const users = escalationTriggers({ severity: 'SEV4', assets: [], users: Array.from({ length: 100 }, (_, i) => `u${i}`), regulatedData: [] }, policy);
    expect(users).toEqual([{ criterion: 'blast-radius', source: 'criteria', detail: '100 users affected (threshold 100)' }]);
  });
});

describe('fingerprints, classification and false alarms', () => {
  test('the same thing reported twice has one fingerprint; order and case do not matter', () => {
    const a = fingerprintText(report({ title: 'Beacon  on host', assets: ['h2', 'h1'] }), policy);
    const b = fingerprintText(report({ title: 'beacon on HOST', assets: ['h1', 'h2', 'h1'], reporter: 'other' }), policy);
    const c = fingerprintText(report({ title: 'beacon on host', assets: ['h3'] }), policy);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(fingerprintText(report({ fingerprint: 'rule-7:h1' }), policy)).toBe('explicit|rule-7:h1');
  });

  test('the rules classifier explains which keywords fired', () => {
    const c = classifyByRules({ title: 'Phishing: spoofed CEO email', description: 'credential harvesting page' }, policy);
    expect(c).toMatchObject({ category: 'phishing', classifier: 'rules', matched: ['phishing', 'spoofed', 'credential harvesting'] });
    expect(classifyByRules({ title: 'something odd', description: '' }, policy)).toMatchObject({ category: 'other', confidence: 0.03 }); // measured: RULES_CALIBRATION.noMatch
  });

  test('a phishing-simulation report is a false alarm when its sender is verified; a real phish is not', () => {
    const verified = { senderDomain: 'phish-training.example', by: 'mx.corp.example: dmarc=pass header.from=phish-training.example', claimedSenderDomain: 'phish-training.example' };
    const indicators = { ips: [], domains: ['login.phish-training.example'], urls: ['https://phish-training.example/x'], hashes: [] };
    const sim = report({ verified, indicators });
    expect(matchFalseAlarm(sim, policy)).toEqual({ rule: 'phishing-simulation', explanation: expect.stringContaining('phishing-awareness exercise') });
    const mixed = report({ verified, indicators: { ips: [], domains: ['login.phish-training.example', 'evil.example'], urls: [], hashes: [] } });
    expect(matchFalseAlarm(mixed, policy)).toBeUndefined();
    expect(matchFalseAlarm(report(), policy)).toBeUndefined();
    // The same indicators from a sender that is only claimed: matched, not applied, and why.
    const claimed = report({ verified: { claimedSenderDomain: 'phish-training.example', notVerified: 'an inline forward does not carry the original headers' }, indicators });
    expect(matchFalseAlarm(claimed, policy)?.notApplied).toBe('the sender phish-training.example is not verified (an inline forward does not carry the original headers)');
    // No sender at all (a tool's report): not the drill rule's to close.
    expect(matchFalseAlarm(report({ indicators }), policy)).toBeUndefined();
  });
});

describe('policy files', () => {
  test('an overlay extends the shipped policy and overrides only what it names', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadPolicyFile } = require('../src/config') as typeof import('../src/config');
    const demo = loadPolicyFile(resolve(__dirname, '../config/policy.demo.yaml'));
    expect(demo.version).toBe('2026-11-25.1-demo');
    expect(demo.slas.SEV3).toEqual({ acknowledgeBy: '2m', respondBy: '10m' });
    expect(demo.taxonomy).toEqual(policy.taxonomy);
    expect(demo.severity).toEqual(policy.severity);
  });
});

describe('policy maps', () => {
  test('a source or category named like an object property gets the default entry', () => {
    const r = { ...report({ source: 'valueOf', description: '', assets: [] }) };
    expect(fingerprintText(r, policy)).toBe('source=valueof|title=t|assets=');
    expect(() => fingerprintText({ ...r, source: 'constructor' }, policy)).not.toThrow();
  });
});
