/**
 * Regulatory regimes as the policy writes them: which facts trigger which regime, which
 * determinations are still to be made, and deadlines in hours, calendar months and business days
 * (expected instants worked out by hand against the 2026 US federal calendar).
 */
import {
  clockAnchors,
  deadlineAfter,
  pendingDeterminations,
  type RegimeFacts,
  regulatoryFlags,
  startClocks,
  validatePolicy,
} from '../src/domain';
import { loadPolicyFile } from '../src/config';

const policy = loadPolicyFile('config/policy.yaml');
const nyse = { timeZone: 'America/New_York', weekend: [0, 6], holidays: policy.calendars['us-federal'].holidays };
const facts = (over: Partial<RegimeFacts> = {}): RegimeFacts => ({
  dataClasses: [],
  jurisdictions: ['US', 'EU'],
  entityTypes: ['public-company', 'nis2-important-entity'],
  determinations: {},
  declared: false,
  ...over,
});
const ids = (f: RegimeFacts) => regulatoryFlags(f, policy).map((r) => r.regime);

describe('deadlines', () => {
  test.each([
    // Monday before Thanksgiving, 10:00 New York: Tue, Wed, (Thu holiday), Fri, Mon → end of Mon 30 Nov (EST)
    ['2026-11-23T15:00:00Z', '2026-12-01T04:59:59.999Z'],
    // 22:00 Tuesday in New York is already Wednesday in UTC: the local day counts
    ['2026-11-25T03:00:00Z', '2026-12-02T04:59:59.999Z'],
    // Friday evening: Mon, Tue, Wed, (Thu holiday), Fri
    ['2026-11-20T22:00:00Z', '2026-11-28T04:59:59.999Z'],
    // across the start of daylight saving time (8 March): end of Wed 11 March is 03:59:59.999Z
    ['2026-03-05T12:00:00Z', '2026-03-12T03:59:59.999Z'],
    // across its end (1 November)
    ['2026-10-29T12:00:00Z', '2026-11-05T04:59:59.999Z'],
    // Tuesday 30 June: Wed, Thu, (Fri 3 July: Independence Day observed), Mon, Tue → end of Tue 7 July (EDT)
    ['2026-06-30T14:00:00Z', '2026-07-08T03:59:59.999Z'],
  ])('4 business days from %s end at %s', (start, end) => {
    expect(new Date(deadlineAfter(Date.parse(start), '4bd', nyse)).toISOString()).toBe(end);
  });

  test('calendar months keep the time of day and clamp to the month’s end; hours are hours', () => {
    expect(new Date(deadlineAfter(Date.parse('2026-01-31T10:00:00Z'), '1mo')).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(new Date(deadlineAfter(Date.parse('2026-11-25T10:00:00Z'), '1mo')).toISOString()).toBe('2026-12-25T10:00:00.000Z');
    expect(deadlineAfter(0, '72h')).toBe(72 * 3_600_000);
    expect(() => deadlineAfter(0, '4bd')).toThrow(/needs a calendar/);
  });
});

describe('regime triggers', () => {
  test('data class and jurisdiction: GDPR needs personal data in the EU; "EU" covers "EU-DE"', () => {
    expect(ids(facts({ dataClasses: ['personal'] }))).toContain('gdpr-art33');
    expect(ids(facts({ dataClasses: ['personal'], jurisdictions: ['US'] }))).not.toContain('gdpr-art33');
    expect(ids(facts({ dataClasses: ['personal'], jurisdictions: ['US', 'EU-DE'] }))).toContain('gdpr-art33');
  });

  test('people affected: HIPAA HHS and media notice from 500, Texas attorney general from 250 Texans', () => {
    expect(ids(facts({ dataClasses: ['health'] }))).toEqual(['hipaa-breach']);
    expect(ids(facts({ dataClasses: ['health'], affected: 499 }))).toEqual(['hipaa-breach']);
    expect(ids(facts({ dataClasses: ['health'], affected: 500 }))).toEqual(['hipaa-breach', 'hipaa-breach-500']);
    expect(ids(facts({ dataClasses: ['personal'], jurisdictions: ['US-TX'], affected: 250 }))).toEqual(['texas-521-053']);
    expect(ids(facts({ dataClasses: ['personal'], jurisdictions: ['US'], affected: 250 }))).toEqual([]);
  });

  test('entity type, declaration and determination: SEC 8-K waits on materiality, only for a declared incident at a public company', () => {
    expect(pendingDeterminations(facts(), policy)).toEqual([]); // not declared
    const asked = pendingDeterminations(facts({ declared: true }), policy);
    expect(asked.map((d) => [d.determination, d.regimes])).toEqual([
      ['significant-incident', ['NIS2 Art. 23']],
      ['material', ['SEC Form 8-K Item 1.05']],
    ]);
    expect(asked.find((d) => d.determination === 'material')!.deciders).toEqual(['legal-counsel', 'incident-commander']);
    expect(ids(facts({ declared: true, determinations: { material: true } }))).toEqual(['sec-8k-105']);
    // decided against: neither flagged nor asked again
    const no = facts({ declared: true, determinations: { material: false } });
    expect(ids(no)).toEqual([]);
    expect(pendingDeterminations(no, policy).map((d) => d.determination)).toEqual(['significant-incident']);
    // a private company is never asked
    expect(pendingDeterminations(facts({ declared: true, entityTypes: [] }), policy)).toEqual([]);
  });

  test('clocks count from their anchors: a determination, the earlier of two limits, an earlier stage’s filing', () => {
    const fin = facts({ entityTypes: ['financial-entity'], declared: true, determinations: { 'major-ict-incident': true } });
    const flags = regulatoryFlags(fin, policy);
    expect(flags.map((f) => f.regime)).toEqual(['dora-art19']);
    const aware = '2026-11-25T08:00:00.000Z';
    // classified major 22h after awareness: 4h from then would pass the 24h-from-awareness limit
    let anchors = clockAnchors(aware, [{ id: 'major-ict-incident', decision: true, at: '2026-11-26T06:00:00.000Z', by: 'alice', reason: 'r' }], []);
    const [initial] = startClocks(flags, policy, anchors, []);
    expect(initial).toMatchObject({ key: 'dora-art19/initial', startedAt: '2026-11-26T06:00:00.000Z', dueAt: '2026-11-26T08:00:00.000Z' });
    expect(initial.dueBecause).toMatch(/24h from awareness \(earlier than 4h from the major-ict-incident determination\)/);
    // the intermediate report waits for the initial filing, then counts 72h from it
    expect(startClocks(flags, policy, anchors, [initial])).toEqual([]);
    initial.filed = { at: '2026-11-26T07:30:00.000Z', by: 'alice', reference: 'ESA-1' };
    anchors = clockAnchors(aware, [{ id: 'major-ict-incident', decision: true, at: '2026-11-26T06:00:00.000Z', by: 'alice', reason: 'r' }], [initial]);
    const [intermediate] = startClocks(flags, policy, anchors, [initial]);
    expect(intermediate).toMatchObject({ key: 'dora-art19/intermediate', startedAt: '2026-11-26T07:30:00.000Z', dueAt: '2026-11-29T07:30:00.000Z' });

    // SEC: four business days from the determination, in New York
    const sec = regulatoryFlags(facts({ declared: true, determinations: { material: true } }), policy);
    const [file8k] = startClocks(sec, policy, clockAnchors(aware, [{ id: 'material', decision: true, at: '2026-11-23T15:00:00Z', by: 'erin', reason: 'r' }], []), []);
    expect(file8k).toMatchObject({ key: 'sec-8k-105/file-8k', owners: ['legal-counsel'], dueAt: '2026-12-01T04:59:59.999Z' });
    expect(file8k.warnings.map((w) => w.at)).toEqual(['2026-11-30T04:59:59.999Z', '2026-12-01T00:59:59.999Z']);
  });

  test('a determination reversed stops counting as made; the first positive one is the anchor', () => {
    const records = [
      { id: 'material', decision: true, at: '2026-11-23T10:00:00Z', by: 'erin', reason: 'a' },
      { id: 'material', decision: false, at: '2026-11-23T12:00:00Z', by: 'erin', reason: 'b' },
    ];
    expect(clockAnchors('2026-11-23T09:00:00Z', records, []).determinations).toEqual({});
    expect(clockAnchors('2026-11-23T09:00:00Z', [...records, { ...records[0], at: '2026-11-24T10:00:00Z' }], []).determinations).toEqual({ material: '2026-11-24T10:00:00Z' });
  });
});

describe('regime policy validation', () => {
  const raw = () => JSON.parse(JSON.stringify(policy)) as Record<string, any>;
  const problems = (p: Record<string, unknown>) => {
    try {
      validatePolicy(p, 'test');
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  test('older policies naming dataClasses at the top of a regime still parse', () => {
    const p = raw();
    p.regulatory = [{ id: 'old', name: 'Old', dataClasses: ['personal'], deadline: 'x', clocks: [] }];
    expect(validatePolicy(p).regulatory[0].when).toEqual({ dataClasses: ['personal'] });
  });

  test('unknown determinations, clocks and calendars, and regimes without conditions, are refused with their paths', () => {
    const p = raw();
    p.regulatory = [
      { id: 'a', name: 'A', when: { determinations: ['nope'] }, deadline: 'x', clocks: [{ id: 'c', name: 'c', from: 'filing:missing', due: '4bd', owners: ['incident-commander'] }] },
      { id: 'b', name: 'B', deadline: 'x', clocks: [] },
    ];
    const message = problems(p);
    expect(message).toMatch(/regulatory\.0\.when\.determinations\.0: unknown determination "nope"/);
    expect(message).toMatch(/regulatory\.0\.clocks\.0\.from: no clock "missing" in regime a/);
    expect(message).toMatch(/regulatory\.0\.clocks\.0\.due: "4bd" counts business days: name a calendar/);
    expect(message).toMatch(/regulatory\.1: a regime needs at least one condition/);
    const q = raw();
    q.calendars = { x: { timeZone: 'Mars/Olympus' } };
    expect(problems(q)).toMatch(/calendars\.x\.timeZone: an IANA time zone/);
  });
});
