/**
 * A whole case through the real clients — @slack/web-api, @pagerduty/pdjs, the incident.io
 * client and nodemailer — against the vendor simulators and a real SMTP receiver, with every
 * connector chosen from the environment exactly as the worker does, and faults injected.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectorsFromEnv } from '../../src/activities/connectors';
import type { CaseView } from '../../src/domain';
import { acknowledgeUpdate, closeUpdate, recordFilingUpdate, signOffUpdate } from '../../src/workflows/definitions';
import { type IncidentIoSimulator, startIncidentIoSimulator } from '../simulators/incidentio';
import { type PagerDutySimulator, startPagerDutySimulator } from '../simulators/pagerduty';
import { type SlackSimulator, startSlackSimulator } from '../simulators/slack';
import { type SmtpSimulator, startSmtpSimulator } from '../simulators/smtp';
import { eventually, sampleReport, startWarden, type TestWarden, testPolicy } from '../support/warden';

const people = { alice: { slack: 'U0ALICE01', email: 'alice@corp.example' }, 'ic-oncall': { email: 'ic-oncall@corp.example' }, bob: { slack: 'U0BOB0001' } };
let policy: ReturnType<typeof testPolicy>;

describe('a case through the live connectors', () => {
  let slack: SlackSimulator;
  let pd: PagerDutySimulator;
  let io: IncidentIoSimulator;
  let smtp: SmtpSimulator;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    [slack, pd, io, smtp] = await Promise.all([startSlackSimulator(), startPagerDutySimulator(), startIncidentIoSimulator(), startSmtpSimulator()]);
    // Live Slack wants channel ids in the policy: a retried post is recognised in the channel's history, which takes ids only.
    const ids = Object.fromEntries(['sec-soc', 'sec-cloud', 'sec-identity', 'sec-privacy', 'sec-ops'].map((name) => [name, slack.addChannel(name)]));
    const base = testPolicy();
    policy = testPolicy({ people, queues: base.queues.map((q) => ({ ...q, slackChannel: ids[q.slackChannel.replace('#', '')] })) });
    dir = mkdtempSync(join(tmpdir(), 'warden-live-'));
    writeFileSync(join(dir, 'pagerduty-ca.pem'), pd.ca);
    env = {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      PAGERDUTY_ROUTING_KEY: pd.routingKeys.default,
      PAGERDUTY_EVENTS_URL: pd.url,
      PAGERDUTY_CA_FILE: join(dir, 'pagerduty-ca.pem'),
      INCIDENTIO_API_KEY: io.apiKey,
      INCIDENTIO_API_URL: io.url,
      SMTP_URL: smtp.url(),
      WARDEN_MAIL_FROM: 'Warden <security@corp.example>',
      WARDEN_OPERATOR_CHANNEL: ids['sec-ops'],
      WARDEN_VENDOR_TIMEOUT_MS: '2000',
    };
  });
  afterAll(async () => {
    await Promise.all([slack?.close(), pd?.close(), io?.close(), smtp?.stop()]);
  });

  test('every side effect arrives exactly once, despite 429s, 5xx and timeouts', async () => {
    const connectors = connectorsFromEnv(join(dir, 'outbox.jsonl'), env);
    expect(connectors.modes).toEqual({ slack: 'live', pagerduty: 'live', incidentio: 'live', mail: 'live' });
    const w: TestWarden = await startWarden(policy, { connectors: connectors.deps });
    try {
      // Faults on the first calls of every vendor: each must be retried to exactly one effect.
      // Slack: the first post is made but its answer is lost, the next is rate limited.
      slack.inject({ kind: 'lost-response' }, { times: 1, method: 'chat.postMessage' });
      slack.inject({ kind: 'rate-limited', retryAfterSeconds: 1 }, { times: 1, method: 'chat.update' });
      // PagerDuty: the first event is accepted but the answer never comes (timeout), then a 500.
      pd.failNext(1, { hang: true, process: true });
      // incident.io: a 429, then a create that succeeds but whose answer is lost in a timeout.
      io.failNext(1, { status: 429, headers: { 'retry-after': '1' } });
      smtp.rejectNext('rcpt', 451, 1);

      const filed = await w.file(
        sampleReport({ assets: ['payments-db'], dataClasses: ['payment'], title: 'Card data exposed <!channel> from payments-db', reporter: 'kim@corp.example', messageId: '<report-7@mail.corp.example>' }),
      );
      const caseId = filed.caseId;
      const escalated = await eventually(async () => {
        const v = (await w.view(caseId)) as CaseView;
        return v.escalations[0]?.incidentRef && v.timeline.some((t) => t.action === 'paged on-call') ? v : undefined;
      }, 'the page and the incident', 60_000);
      expect(escalated.queue).toBe('privacy');

      const handle = w.handle(caseId);
      await handle.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'alice' }] });
      await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'containment-confirmed' }] });
      await handle.executeUpdate(signOffUpdate, { args: [{ actor: 'alice', criterion: 'root-cause-known' }] });
      await eventually(async () => (((await w.view(caseId)) as CaseView).stage === 'recovering' ? true : undefined), 'recovering', 60_000);
      // Recovery may begin: the incident moves to the organisation's last live status, still open.
      const atMonitoring = await eventually(async () => {
        const incident = io.incidents.find((i) => JSON.stringify(i).includes(caseId));
        return incident?.incident_status.name === 'Monitoring' ? incident : undefined;
      }, 'incident.io at Monitoring');
      expect(atMonitoring.summary).toMatch(/^Recovery gate passed at .* Recovery may begin\.$/);
      // Card data: the PCI DSS clock runs until the filing is recorded; then the case may close.
      await handle.executeUpdate(recordFilingUpdate, { args: [{ actor: 'alice', clock: 'pci-dss/notify-acquirer', reference: 'ACQ-7781' }] });
      // payments-db holds personal data too (the inventory says so): the GDPR clock runs as well.
      await handle.executeUpdate(recordFilingUpdate, { args: [{ actor: 'alice', clock: 'gdpr-art33/notify-authority', reference: 'DPA-2026-0107' }] });
      await handle.executeUpdate(closeUpdate, { args: [{ actor: 'alice', reason: 'keys rotated', review: { summary: 'Card data exposed from payments-db', rootCause: 'public snapshot', impact: 'no card data accessed', lessons: 'block public snapshots', followUps: [{ action: 'SCP against public snapshots', owner: 'dave' }] } }] });
      const closed = (await handle.result()) as CaseView;
      expect(closed.timeline.filter((t) => t.action.endsWith(' failed'))).toEqual([]);

      // Slack: one card in the owning queue's channel, updated in place; the summary once; the commander told.
      const cards = slack.messages('sec-privacy').filter((m) => JSON.stringify(m.metadata ?? {}).includes(`${caseId}:card`));
      expect(cards).toHaveLength(1);
      expect(closed.cardRef).toContain(cards[0].ts);
      expect(cards[0].versions.length).toBeGreaterThan(2); // updated in place as the case moved
      expect(cards[0].versions[cards[0].versions.length - 1].text).toContain('stage: closed');
      expect(JSON.stringify(cards[0])).not.toContain('<!channel>');
      expect(slack.messages('sec-privacy').filter((m) => (m.text ?? '').startsWith('ESCALATED'))).toHaveLength(1);
      expect(slack.callsTo('conversations.open').some((c) => JSON.stringify(c.body).includes('U0ALICE01'))).toBe(true);
      expect(smtp.received.filter((m) => m.envelope.rcptTo.includes('ic-oncall@corp.example'))).toHaveLength(1);
      expect(slack.violations).toEqual([]);

      // PagerDuty: one incident for the case (trigger → acknowledge → resolve) and one for the commander.
      const casePage = pd.eventsFor(`warden-${caseId}`).map((e) => e.event_action);
      // (the trigger is sent twice: the first answer was lost in a timeout; the dedup key makes it one incident)
      expect(casePage[0]).toBe('trigger');
      // Card data exposed from a critical asset: SEV2 (exposure 15 + critical 35 + regulated 15), paged as "error" by the policy's paging.priority
      expect((pd.eventsFor(`warden-${caseId}`)[0].payload as { severity: string }).severity).toBe('error');
      expect(casePage.slice(-2)).toEqual(['acknowledge', 'resolve']);
      const incidents = pd.incidents.filter((i) => JSON.stringify(i).includes(caseId));
      expect(incidents).toHaveLength(2);
      expect(incidents.every((i) => i.status === 'resolved')).toBe(true);
      expect(pd.violations).toEqual([]);

      // incident.io: one incident for the one escalation, closed at the end.
      const declared = io.incidents.filter((i) => JSON.stringify(i).includes(caseId));
      expect(declared).toHaveLength(1);
      expect(io.idempotencyKeys.get(declared[0].id)).toBe(`warden-${caseId}-escalation-1`);
      expect(JSON.stringify(declared[0])).toMatch(/"category":"closed"/);
      expect(io.violations).toEqual([]);

      // Mail: the reporter heard "we are on it" and "resolved", both threaded to the report.
      const toKim = smtp.received.filter((m) => m.envelope.rcptTo.includes('kim@corp.example'));
      expect(toKim.map((m) => m.subject)).toEqual([`Re: Your security report: we are on it (${caseId})`, `Re: Your security report: resolved, thank you (${caseId})`]);
      expect(toKim.every((m) => m.inReplyTo === '<report-7@mail.corp.example>')).toBe(true);
    } finally {
      await w.stop();
    }
  });

  test('a bad token is a final failure on the timeline with an operator alert, and the case carries on', async () => {
    const outbox = join(dir, 'outbox-bad-token.jsonl');
    const connectors = connectorsFromEnv(outbox, { ...env, SLACK_BOT_TOKEN: 'xoxb-invalid' });
    const w = await startWarden(policy, { connectors: connectors.deps, outboxPath: outbox });
    try {
      const filed = await w.file(sampleReport());
      const view = await eventually(async () => {
        const v = (await w.view(filed.caseId)) as CaseView;
        return v.stage === 'responding' && v.timeline.some((t) => t.action === 'case card failed') ? v : undefined;
      }, 'the case to carry on past the failed card');
      expect(view.timeline.find((t) => t.action === 'case card failed')?.reason).toMatch(/invalid_auth/);
      expect(JSON.stringify(view)).not.toContain('xoxb-invalid');
      const alerts = await eventually(async () => {
        const a = (await w.outbox.read()).filter((m) => m.system === 'operator' && String(m.body.text).includes('"case card"'));
        return a.length ? a : undefined;
      }, 'the operator alert for the card');
      // The card, the page and the reporter notice go out together: each failure has its own alert.
      expect(String(alerts[0].body.text)).toContain(`could not complete "case card" for case ${filed.caseId}`);
      // A rejected call is final: its activity failed on the first attempt, without retries.
      const history = await w.handle(filed.caseId).fetchHistory();
      const failures = (history.events ?? []).filter((e) => e.activityTaskFailedEventAttributes);
      expect(failures.length).toBeGreaterThan(0);
      for (const f of failures) {
        expect(String(f.activityTaskFailedEventAttributes!.retryState)).toMatch(/NON_RETRYABLE|^2$/); // RETRY_STATE_NON_RETRYABLE_FAILURE
        expect(f.activityTaskFailedEventAttributes!.failure?.cause?.applicationFailureInfo?.type ?? f.activityTaskFailedEventAttributes!.failure?.applicationFailureInfo?.type).toBe('VendorRejected');
      }
    } finally {
      await w.stop();
    }
  });
});
