/**
 * The case machine without a server: the runbook's paths, the refusals, and the timers as events.
 * A small driver plays the world: it answers each effect the machine asks for (the classifier, the
 * measured agreement, PagerDuty, Slack, incident.io, the checks) and feeds the results back, as
 * the workflow does on the real server.
 */
import { resolve } from 'node:path';
import { loadPolicyFile } from '../src/config';
import {
  actOn,
  apply,
  type CaseEvent,
  type CaseState,
  classifyByRules,
  type Effect,
  type EffectResult,
  type HumanAction,
  newCase,
  nextWake,
  type Policy,
  refusalOf,
  type Report,
  runPolicy,
  settle,
  toReportForTest,
} from './support/machine';

const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));
const T0 = Date.parse('2026-12-01T03:00:00Z');

/** The world's answers, by activity; anything not named succeeds with nothing. */
type World = Partial<Record<string, (effect: Effect) => EffectResult>>;

const untilMeasured: World = {
  measureAgreement: () => ({ ok: true, value: undefined }),
  classifyReport: (e) => ({ ok: true, value: classifyByRules((e as unknown as { args: [never] }).args[0], policy) }),
  publishCaseCard: () => ({ ok: true, value: { cardRef: 'C1:1' } }),
  declareIncident: (e) => ({ ok: true, value: { incidentRef: `inc-${(e as unknown as { input: { escalation: number } }).input.escalation}` } }),
  runRecoveryCheck: () => ({ ok: true, value: { passed: true, detail: 'no beaconing for 24h' } }),
  storeEvidence: () => ({ ok: true, value: { sha256: 'a'.repeat(64), bytes: 10, store: 'file' } }),
};

class Driver {
  now = T0;
  /** Every effect asked for, in order. */
  asked: Effect[] = [];
  constructor(
    public state: CaseState,
    public p: Policy = policy,
    public world: World = untilMeasured,
  ) {}
  ctx() {
    return { policy: this.p, now: this.now };
  }
  /** Feed events, then answer effects until the case asks for nothing more. */
  feed(...events: CaseEvent[]): Effect[] {
    let pending: Effect[] = [];
    for (const e of events) pending.push(...apply(this.state, e, this.ctx()));
    pending.push(...settle(this.state, this.ctx()));
    const all: Effect[] = [];
    for (let round = 0; pending.length && round < 50; round++) {
      all.push(...pending);
      this.asked.push(...pending);
      const results = pending.map((effect) => ({ effect, result: this.answer(effect) }));
      pending = [];
      for (const r of results) if (r.effect.kind !== 'metric') pending.push(...apply(this.state, { type: 'result', ...r }, this.ctx()));
      pending.push(...settle(this.state, this.ctx()));
    }
    return all;
  }
  answer(effect: Effect): EffectResult {
    const name = effect.kind === 'activity' ? effect.activity : effect.kind;
    return this.world[name]?.(effect) ?? { ok: true, value: undefined };
  }
  act(action: HumanAction): Effect[] {
    const refused = refusalOf(this.state, this.p, action, this.now);
    if (refused) throw new Error(refused);
    const { effects } = actOn(this.state, action, this.ctx());
    const results = effects.map((effect) => ({ effect, result: this.answer(effect) }));
    this.asked.push(...effects);
    const more = results.flatMap((r) => (r.effect.kind === 'metric' ? [] : apply(this.state, { type: 'result', ...r }, this.ctx())));
    return [...effects, ...this.feedEffects(more)];
  }
  private feedEffects(first: Effect[]): Effect[] {
    const all: Effect[] = [];
    let pending = [...first, ...settle(this.state, this.ctx())];
    for (let round = 0; pending.length && round < 50; round++) {
      all.push(...pending);
      this.asked.push(...pending);
      const results = pending.map((effect) => ({ effect, result: this.answer(effect) }));
      pending = results.flatMap((r) => (r.effect.kind === 'metric' ? [] : apply(this.state, { type: 'result', ...r }, this.ctx())));
      pending.push(...settle(this.state, this.ctx()));
    }
    return all;
  }
  /** Let time pass to `at` (a timer firing) and take in what it leads to. */
  tick(at: number): Effect[] {
    this.now = at;
    return this.feed();
  }
  names(effects: Effect[] = this.asked): string[] {
    return effects.map((e) => (e.kind === 'activity' ? `${e.activity}${'action' in e.input ? `:${String(e.input.action)}` : ''}` : e.kind));
  }
}

const ransomware = (over: Partial<Report> = {}): Report =>
  toReportForTest({
    title: 'Ransom note on db-prod-finance',
    description: 'A ransom note appeared on db-prod-finance and files are encrypted; the host is beaconing to an unknown IP.',
    source: 'edr',
    reporter: 'soc-oncall',
    assets: ['db-prod-finance'],
    observedAt: '2026-12-01T02:55:00Z',
    ...over,
  });

const opened = (report = ransomware()) => {
  const d = new Driver(newCase('WRD-1', 'f', policy, new Date(T0).toISOString()));
  d.feed({ type: 'reports', reports: [report] });
  return d;
};

describe('the runbook', () => {
  test('a ransomware note on a production server: validated, triaged, paged, card and notices together, SLA clocks running', () => {
    const d = opened();
    expect(d.state.stage).toBe('responding');
    expect(d.state.severity).toBe('SEV2');
    expect(d.state.paged).toBe(true);
    expect(d.state.timeline.map((t) => t.action)).toEqual(
      expect.arrayContaining(['report received', 'stage received → validating', 'stage validating → triage', 'triage decided alone', 'SLA clocks started', 'stage categorized → responding', 'paged on-call']),
    );
    // One classification and one agreement, each as a local activity; the page, the card and the notice asked for in one step.
    const triage = d.asked.filter((e) => e.kind === 'activity' && e.local);
    expect(triage.map((e) => (e as { activity: string }).activity)).toEqual(['classifyReport', 'measureAgreement']);
    const names = d.names();
    const page = names.indexOf('pageOnCall:trigger');
    expect(page).toBeGreaterThan(-1);
    expect(names.filter((n) => n === 'publishCaseCard')).toHaveLength(1);
    expect(d.state.awaiting).toEqual([]);
    expect(nextWake(d.state)).toBe(Date.parse(d.state.slaDeadlines.acknowledgeBy!));
  });

  test('the same report filed twice is folded in once; a new reporter who joins the response is told it was received', () => {
    const d = opened();
    const report = ransomware();
    d.feed({ type: 'reports', reports: [report] }, { type: 'reports', reports: [report] });
    expect(d.state.reportCount).toBe(2);
    const effects = d.feed({ type: 'reports', reports: [ransomware({ reporter: 'carol' })] });
    expect(effects.filter((e) => e.kind === 'activity' && e.activity === 'notifyReporters').map((e) => (e as unknown as { input: { reporters: { id: string }[] } }).input.reporters[0].id)).toEqual(['carol']);
  });

  test('acknowledge, sign off, the machine check at the gate, recovery may begin, close: every vendor told, in order', () => {
    const d = opened();
    d.act({ name: 'acknowledge', input: { actor: 'bob' } });
    expect(d.names().slice(-2)).toContain('pageOnCall:acknowledge');
    const humans = d.state.recovery.filter((c) => c.verification === 'human');
    for (const c of humans) d.act({ name: 'signOff', input: { actor: 'alice', criterion: c.id } });
    expect(d.state.stage).toBe('recovering');
    expect(d.state.timeline.map((t) => t.action)).toContain('recovery gate passed: recovery may begin');
    expect(d.asked.some((e) => e.kind === 'activity' && e.activity === 'notifyCommanders' && e.input.key === 'recovery-may-begin')).toBe(true);
    const closing = d.act({ name: 'close', input: { actor: 'alice', reason: 'restored from backup' } });
    expect(d.state.stage).toBe('closed');
    expect(d.names(closing)).toEqual(expect.arrayContaining(['pageOnCall:resolve', 'notifyReporters', 'publishCaseCard']));
  });

  test('closed while the acknowledgement is on its way: PagerDuty gets acknowledge, then resolve', () => {
    const d = opened();
    const { effects } = actOn(d.state, { name: 'acknowledge', input: { actor: 'bob' } }, d.ctx());
    const ack = effects.find((e) => e.kind === 'activity' && e.input.action === 'acknowledge')!;
    const close = actOn(d.state, { name: 'close', input: { actor: 'alice', reason: 'contained', resolution: 'accepted-risk' } }, d.ctx());
    expect(d.names(close.effects)).not.toContain('pageOnCall:resolve');
    const after = apply(d.state, { type: 'result', effect: ack, result: { ok: true, value: undefined } }, d.ctx());
    expect(d.names(after)).toEqual(['pageOnCall:resolve']);
  });

  test('a false alarm by a trusted rule closes with the explanation; unmeasured trust proposes it instead', () => {
    const drill = (): Report => ({
      ...toReportForTest({
        title: 'Reported email: Your benefits enrolment',
        description: 'Forwarded to the security mailbox.',
        source: 'mailbox',
        reporter: 'pat@example.com',
        assets: [],
        observedAt: '2026-12-01T02:55:00Z',
        indicators: { ips: [], domains: [], urls: ['https://phish-training.example/landing/1'], hashes: [] },
      }),
      verified: { senderDomain: 'phish-training.example', by: 'mx.corp.example: dmarc=pass' },
    });
    const trusted = { measureAgreement: () => ({ ok: true as const, value: { category: 'phishing', decided: 50, agreed: 50, rate: 1 } }) };
    const d = new Driver(newCase('WRD-2', 'f', policy, new Date(T0).toISOString()), policy, { ...untilMeasured, ...trusted });
    d.feed({ type: 'reports', reports: [drill()] });
    expect(d.state.stage).toBe('closed');
    expect(d.state.closure).toMatchObject({ by: 'warden', resolution: 'false-alarm', reason: 'false-alarm rule phishing-simulation' });
    const told = d.asked.filter((e) => e.kind === 'activity' && e.activity === 'notifyReporters');
    expect(told.map((e) => (e as unknown as { input: { notice: string } }).input.notice)).toEqual(['false-alarm']); // told once, with the rule's explanation

    const cautious = { ...policy, trust: { ...policy.trust, untilMeasured: 'propose' as const } };
    const p = new Driver(newCase('WRD-2b', 'f', cautious, new Date(T0).toISOString()), cautious);
    p.feed({ type: 'reports', reports: [drill()] });
    expect(p.state.stage).toBe('triage');
    expect(p.state.proposal?.autoClose?.rule).toBe('phishing-simulation');
    p.act({ name: 'confirmTriage', input: { actor: 'bob' } });
    expect(p.state.stage).toBe('closed');
    expect(p.state.closure).toMatchObject({ by: 'bob', resolution: 'false-alarm' });
  });

  test('a proposal waits for a human; confirming it moves the case on', () => {
    const p = { ...policy, trust: { ...policy.trust, untilMeasured: 'propose' as const } };
    const d = new Driver(newCase('WRD-3', 'f', p, new Date(T0).toISOString()), p);
    d.feed({ type: 'reports', reports: [ransomware()] });
    expect(d.state.stage).toBe('triage');
    expect(d.state.proposal?.decided).toBeUndefined();
    // A page that is due goes out while the proposal waits.
    expect(d.state.paged).toBe(true);
    expect(refusalOf(d.state, p, { name: 'confirmTriage', input: { actor: 'mallory' } }, d.now)).toMatch(/mallory/);
    d.act({ name: 'confirmTriage', input: { actor: 'bob', note: 'checked the EDR console' } });
    expect(d.state.stage).toBe('responding');
    expect(d.names().filter((n) => n === 'pageOnCall:trigger')).toHaveLength(1);
  });
});

describe('timers as events', () => {
  test('the acknowledge deadline passes: breached once, escalated on response time, incident declared with its commander page', () => {
    const d = opened();
    const deadline = Date.parse(d.state.slaDeadlines.acknowledgeBy!);
    expect(d.tick(deadline - 1)).toEqual([]);
    const effects = d.tick(deadline + 5);
    expect(d.state.slaBreaches).toEqual(['acknowledge']);
    expect(d.state.stage).toBe('escalated');
    expect(d.names(effects)).toEqual(expect.arrayContaining(['metric', 'declareIncident', 'pageOnCall:trigger', 'postEscalationSummary']));
    expect(d.state.escalations[0].incidentRef).toBe('inc-1');
    expect(d.tick(deadline + 10).filter((e) => e.kind === 'metric')).toEqual([]); // breached once
  });

  test('closed while the incident is being declared: it is closed once its reference comes back', () => {
    const d = opened();
    const { effects } = actOn(d.state, { name: 'escalate', input: { actor: 'bob', reason: 'lateral movement' } }, d.ctx());
    const declare = effects.find((e) => e.kind === 'activity' && e.activity === 'declareIncident')!;
    actOn(d.state, { name: 'close', input: { actor: 'alice', reason: 'contained', resolution: 'accepted-risk' } }, d.ctx());
    const after = apply(d.state, { type: 'result', effect: declare, result: { ok: true, value: { incidentRef: 'inc-9' } } }, d.ctx());
    expect(after).toEqual([expect.objectContaining({ activity: 'updateIncident', input: expect.objectContaining({ incidentRef: 'inc-9', change: { status: 'closed' } }) })]);
  });

  test('a vendor that fails for good: on the timeline, operators alerted, the case carries on', () => {
    const d = new Driver(newCase('WRD-4', 'f', policy, new Date(T0).toISOString()), policy, { ...untilMeasured, pageOnCall: () => ({ ok: false, cause: 'PagerDuty said 400' }) });
    d.feed({ type: 'reports', reports: [ransomware()] });
    expect(d.state.paged).toBe(false);
    expect(d.state.stage).toBe('responding');
    expect(d.state.timeline.find((t) => t.action === 'page on-call failed')?.reason).toBe('PagerDuty said 400');
    expect(d.names()).toContain('alertOperators');
  });
});

describe('refusals say what a person needs to know', () => {
  test('a stale sign-off after the gate passed says who signed and when', () => {
    const d = opened();
    const humans = d.state.recovery.filter((c) => c.verification === 'human');
    for (const c of humans) d.act({ name: 'signOff', input: { actor: 'alice', criterion: c.id } });
    expect(d.state.stage).toBe('recovering');
    const refused = refusalOf(d.state, policy, { name: 'signOff', input: { actor: 'bob', criterion: humans[0].id } }, d.now);
    expect(refused).toContain('alice');
    expect(refused).toContain(d.state.recovery.find((c) => c.id === humans[0].id)!.at!);
  });
});

describe('bounded by design', () => {
  test('a report of tens of thousands of users keeps the policy limit, with a count and digest of the rest', () => {
    const users = Array.from({ length: 27_000 }, (_, i) => `user${i}@corp.example`);
    const d = opened(ransomware({ users }));
    d.feed({ type: 'reports', reports: [ransomware({ users: users.map((u) => `x${u}`), reportId: 'r2' })] });
    expect(d.state.users).toHaveLength(policy.limits.users);
    expect(d.state.firstReport!.users).toHaveLength(policy.limits.users);
    expect(d.state.overflow.users?.count).toBe(54_000 - policy.limits.users);
    expect(d.state.overflow.users?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(d.state).length).toBeLessThan(600_000);
  });

  test('a storm of distinct indicators keeps exact counts', () => {
    const d = opened();
    for (let r = 0; r < 20; r++)
      d.feed({ type: 'reports', reports: [ransomware({ reportId: `storm-${r}`, indicators: { ips: [], domains: Array.from({ length: 100 }, (_, i) => `d${r}-${i}.example`), urls: [], hashes: [] } })] });
    expect(d.state.indicators.domains).toHaveLength(policy.limits.indicators);
    expect(d.state.indicators.domains.length + (d.state.overflow.domains?.count ?? 0)).toBe(2_000);
  });

  test('the timeline keeps its bound: older entries leave for the evidence store, chained by digest', () => {
    const p = { ...policy, limits: { ...policy.limits, timeline: 40 } };
    const d = new Driver(newCase('WRD-5', 'f', p, new Date(T0).toISOString()), p);
    d.feed({ type: 'reports', reports: [ransomware()] });
    for (let i = 0; i < 60; i++) d.act({ name: 'assign', input: { actor: 'bob', assignee: `responder-${i}` } });
    expect(d.state.timeline.length).toBeLessThanOrEqual(40);
    expect(d.state.timeline[0].action).toBe('report received');
    expect(d.state.timelineArchive?.count).toBeGreaterThan(0);
    const archives = d.asked.filter((e) => e.kind === 'activity' && e.activity === 'storeEvidence');
    expect(archives.length).toBeGreaterThan(0);
  });

  test('after triage a run carries the policy without what only triage reads', () => {
    const d = opened();
    const carried = runPolicy(policy, d.state);
    expect(carried.falseAlarms).toEqual([]);
    expect(JSON.stringify(carried).length).toBeLessThan(JSON.stringify(policy).length / 2);
    expect(d.state.policyDigest).toMatch(/^[0-9a-f]{64}$/);
  });
});
