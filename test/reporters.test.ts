/** The route a notice takes to each kind of reporter (pure). */
import { resolve } from 'node:path';
import { loadPolicyFile } from '../src/config';
import { reporterRoute, validatePolicy } from '../src/domain';

const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));

test('people in their own channel, machines in the queue channel or nowhere, never a DM they cannot receive', () => {
  expect(reporterRoute('pat@example.com', policy, '#sec-soc')).toEqual({ via: 'mail', to: 'pat@example.com' });
  expect(reporterRoute('U012AB3CD', policy, '#sec-soc')).toEqual({ via: 'slack-dm', to: 'U012AB3CD' });
  expect(reporterRoute('aws-guardduty', policy, '#sec-cloud')).toEqual({ via: 'channel', to: '#sec-cloud', because: "aws-guardduty is a machine source, not a person: told in the owning queue's channel" });
  expect(reporterRoute('soc-oncall', policy, '#sec-soc')).toMatchObject({ via: 'channel', because: expect.stringMatching(/^soc-oncall has no Slack id or e-mail in the policy's people/) });
  const withContacts = validatePolicy({ ...policy, people: { alice: { slack: 'U0ALICE1' }, erin: { email: 'erin@corp.example' } } });
  expect(reporterRoute('alice', withContacts)).toEqual({ via: 'slack-dm', to: 'U0ALICE1' });
  expect(reporterRoute('erin', withContacts)).toEqual({ via: 'mail', to: 'erin@corp.example' });
  const quiet = validatePolicy({ ...policy, intake: { ...policy.intake, machineReporterNotices: 'none' } });
  expect(reporterRoute('alertmanager', quiet, '#sec-soc')).toEqual({ via: 'none', because: 'alertmanager is a machine source, not a person: no notice sent (intake.machineReporterNotices is none)' });
});
