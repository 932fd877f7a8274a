/**
 * The validators of every human action, without a server: each refusal, in the words a person
 * needs, and each action let through when it may go ahead.
 */
import { resolve } from 'node:path';
import { loadPolicyFile } from '../src/config';
import { type CaseState, newCase, refusals } from '../src/domain';

const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));
const NOW = Date.parse('2026-12-01T12:00:00Z');

function caseAt(stage: CaseState['stage'], patch: Partial<CaseState> = {}): CaseState {
  return { ...newCase('WRD-TEST', 'f', policy, '2026-12-01T10:00:00.000Z'), stage, ...patch };
}

describe('refusals', () => {
  test('acknowledge: role, stage, and who already did', () => {
    expect(refusals.acknowledge(caseAt('responding'), policy, { actor: 'erin' })).toMatch(/^erin may not acknowledge: the policy allows analyst or incident-commander or security-engineer, and erin is legal-counsel$/);
    expect(refusals.acknowledge(caseAt('validating'), policy, { actor: 'bob' })).toBe('cannot acknowledge a case in stage validating');
    expect(refusals.acknowledge(caseAt('responding', { acknowledgedBy: 'carol', acknowledgedAt: '2026-12-01T11:00:00Z' }), policy, { actor: 'bob' })).toBe(
      'already acknowledged by carol at 2026-12-01T11:00:00Z',
    );
    expect(refusals.acknowledge(caseAt('responding'), policy, { actor: 'bob' })).toBeUndefined();
  });

  test('assign and escalate and de-escalate', () => {
    expect(refusals.assign(caseAt('responding', { assignees: ['dave'] }), policy, { actor: 'bob', assignee: 'dave' })).toBe('dave is already assigned');
    expect(refusals.assign(caseAt('responding'), policy, { actor: 'bob', assignee: ' ' })).toBe('assign: the assignee is required');
    expect(refusals.escalate(caseAt('recovering'), policy, { actor: 'bob', reason: 'x' })).toBe('cannot escalate a case in stage recovering');
    expect(refusals.escalate(caseAt('responding', { escalated: true }), policy, { actor: 'bob', reason: 'x' })).toBe('the case is already escalated');
    expect(refusals.escalate(caseAt('responding'), policy, { actor: 'bob', reason: '' })).toBe('escalate: a reason is required');
    expect(refusals.deescalate(caseAt('escalated', { escalated: true }), policy, { actor: 'bob', reason: 'x' })).toMatch(/^bob may not de-escalate/);
    expect(refusals.deescalate(caseAt('responding'), policy, { actor: 'alice', reason: 'x' })).toBe('the case is not escalated');
  });

  test('a stale sign-off after the gate has passed says who signed and when', () => {
    const state = caseAt('recovering', { recoveryDecision: { at: '2026-12-01T11:30:00Z', by: 'warden' } });
    state.recovery[0] = { ...state.recovery[0], passed: true, by: 'alice', at: '2026-12-01T11:20:00Z' };
    expect(refusals.signOff(state, policy, { actor: 'ic-oncall', criterion: 'containment-confirmed' })).toBe(
      'containment-confirmed was already signed off by alice at 2026-12-01T11:20:00Z; the recovery gate passed at 2026-12-01T11:30:00Z',
    );
    expect(refusals.signOff(caseAt('responding'), policy, { actor: 'bob', criterion: 'containment-confirmed' })).toMatch(/^bob may not sign off containment-confirmed: the policy allows incident-commander/);
    expect(refusals.signOff(caseAt('responding'), policy, { actor: 'alice', criterion: 'eradication-verified' })).toBe('eradication-verified is machine-verified; it cannot be signed off by hand');
    expect(refusals.signOff(caseAt('responding'), policy, { actor: 'alice', criterion: 'nope' })).toMatch(/^unknown recovery criterion "nope" \(criteria: containment-confirmed, /);
    expect(refusals.signOff(caseAt('triage'), policy, { actor: 'alice', criterion: 'containment-confirmed' })).toBe('cannot sign off a case in stage triage');
    expect(refusals.signOff(caseAt('responding'), policy, { actor: 'alice', criterion: 'containment-confirmed' })).toBeUndefined();
  });

  test('close: resolved only after the gate, with filings and determinations done', () => {
    expect(refusals.close(caseAt('responding'), policy, { actor: 'bob', reason: 'done' })).toBe(
      'cannot close as resolved before the recovery gate passes (pending: containment-confirmed, root-cause-known, eradication-verified; stage responding)',
    );
    expect(refusals.close(caseAt('responding'), policy, { actor: 'bob', reason: 'done', resolution: 'false-alarm' })).toBeUndefined();
    expect(refusals.close(caseAt('closed'), policy, { actor: 'bob', reason: 'done' })).toBe('the case is already closed');
    expect(refusals.close(caseAt('responding'), policy, { actor: 'bob', reason: ' ' })).toBe('close: a reason is required');
    const needs = caseAt('recovering', { determinationsNeeded: [{ determination: 'material', question: 'q', regimes: ['sec-8k-105'], deciders: ['legal-counsel'] }] });
    expect(refusals.close(needs, policy, { actor: 'bob', reason: 'done' })).toMatch(/^cannot close as resolved with regulatory determinations still to make: material/);
  });

  test('confirm and override of a proposed triage', () => {
    expect(refusals.confirmTriage(caseAt('responding', { trust: { mode: 'act', category: 'phishing', cases: 40, agreed: 39, why: 'phishing: humans agreed with 39 of 40' } }), policy, { actor: 'bob' })).toBe(
      'nothing to confirm: Warden decided the triage of WRD-TEST alone (phishing: humans agreed with 39 of 40)',
    );
    const proposal = { at: '2026-12-01T10:01:00Z', because: 'votes disagree', category: 'malware', page: false };
    expect(refusals.confirmTriage(caseAt('triage', { proposal }), policy, { actor: 'bob' })).toBeUndefined();
    expect(refusals.confirmTriage(caseAt('triage', { proposal: { ...proposal, decided: { by: 'carol', at: '2026-12-01T10:05:00Z', how: 'confirmed' } } }), policy, { actor: 'bob' })).toBe(
      'the triage was already confirmed by carol at 2026-12-01T10:05:00Z',
    );
    expect(refusals.confirmTriage(caseAt('triage', { proposal }), policy, { actor: 'dave' })).toMatch(/^dave may not override/);
    // Override: in triage only while a proposal waits; otherwise after categorization.
    expect(refusals.override(caseAt('triage'), policy, { actor: 'bob', reason: 'x', category: 'phishing' })).toBe('cannot override a case in stage triage');
    expect(refusals.override(caseAt('triage', { proposal }), policy, { actor: 'bob', reason: 'x', category: 'phishing' })).toBeUndefined();
    expect(refusals.override(caseAt('responding'), policy, { actor: 'bob', reason: 'x', category: 'nope' })).toMatch(/^unknown category "nope" \(taxonomy: malware, /);
    expect(refusals.override(caseAt('responding'), policy, { actor: 'bob', reason: 'x' })).toBe('override: give a category, a severity, or both');
  });

  test('regulatory actions: filings, determinations, scope', () => {
    const clock = {
      key: 'gdpr-art33/notify-authority',
      regime: 'gdpr-art33',
      name: 'GDPR Art. 33: notify the supervisory authority',
      owners: ['incident-commander'],
      filed: { at: '2026-12-01T11:00:00Z', by: 'alice', reference: 'DPA-1' },
    } as unknown as CaseState['clocks'][number];
    expect(refusals.recordFiling(caseAt('responding', { clocks: [clock] }), policy, { actor: 'alice', clock: clock.key, reference: 'DPA-2' })).toBe(
      'GDPR Art. 33: notify the supervisory authority was already filed by alice at 2026-12-01T11:00:00Z (DPA-1)',
    );
    expect(refusals.recordFiling(caseAt('responding'), policy, { actor: 'alice', clock: 'x/y', reference: 'r' })).toBe('no regulatory clock "x/y" on this case (clocks: none)');
    expect(refusals.determine(caseAt('responding'), policy, { actor: 'erin', determination: 'material', decision: true, reason: 'r', at: '2026-12-02T00:00:00Z' }, NOW)).toBe(
      'determine: at (2026-12-02T00:00:00Z) is in the future',
    );
    expect(refusals.determine(caseAt('responding'), policy, { actor: 'erin', determination: 'material', decision: true, reason: 'r', at: '2026-12-01T09:00:00Z' }, NOW)).toMatch(/is before the case was opened/);
    expect(refusals.determine(caseAt('responding'), policy, { actor: 'bob', determination: 'material', decision: true, reason: 'r' }, NOW)).toMatch(/^bob may not record the material determination/);
    expect(refusals.determine(caseAt('responding'), policy, { actor: 'erin', determination: 'material', decision: true, reason: 'r' }, NOW)).toBeUndefined();
    expect(refusals.recordScope(caseAt('responding'), policy, { actor: 'bob', reason: 'r', jurisdictions: ['europe'] })).toBe('scope: "europe" is not a jurisdiction code such as EU, US-CA or EU-DE');
    expect(refusals.recordScope(caseAt('responding'), policy, { actor: 'bob', reason: 'r', affected: -1 })).toBe('scope: affected must be a whole number, 0 or more');
    expect(refusals.recordScope(caseAt('responding'), policy, { actor: 'mallory', reason: 'r', affected: 3 })).toBe('mallory holds no role: only responders record the scope');
  });

  test('evidence and custody, and third parties', () => {
    expect(refusals.recordEvidence(caseAt('responding'), policy, { actor: 'bob', description: 'mem', collectedFrom: 'h', sha256: 'abc', storageRef: 's' })).toBe(
      'evidence: sha256 must be a SHA-256 hex digest of the stored body',
    );
    const item = { id: 'E1', holder: 'bob', custody: [] } as unknown as CaseState['evidenceItems'][number];
    expect(refusals.transferCustody(caseAt('responding', { evidenceItems: [item] }), policy, { actor: 'carol', item: 'E1', to: 'dave', reason: 'r' })).toBe(
      'carol does not hold E1 (bob does); the holder or an incident commander hands it over',
    );
    expect(refusals.transferCustody(caseAt('responding', { evidenceItems: [item] }), policy, { actor: 'alice', item: 'E1', to: 'dave', reason: 'r' })).toBeUndefined();
    expect(refusals.addParty(caseAt('escalated'), policy, { actor: 'alice', party: 'bank' })).toBe('no party "bank" in the response plan (parties: none)');
    expect(refusals.partyAction(caseAt('escalated'), policy, 'release', { actor: 'alice', party: 'bank' })).toBe('no third party "bank" on this case (parties: none)');
  });
});
