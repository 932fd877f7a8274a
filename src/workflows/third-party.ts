/**
 * One third party of the response plan (RS.MA-01), as a child of its case: notified when the
 * incident is declared, reminded on a timer until it acknowledges, and the incident commander
 * told when it stays silent. It reports each step to its case, which shows it as one line.
 */
import { condition, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WardenActivities } from '../activities';
import { durationToMs, type Policy } from '../domain';
import { partyAcknowledgedSignal, partyReleasedSignal, partyStatusSignal } from './definitions';

export type Party = Policy['parties'][number];

export interface PartyInput {
  caseId: string;
  caseWorkflowId: string;
  party: Party;
  summary: string;
  commanders: { id: string; slack?: string; email?: string }[];
}

export { partyAcknowledgedSignal, partyReleasedSignal };

const { notifyParty, notifyCommanders } = proxyActivities<WardenActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});

export async function thirdPartyCoordination(input: PartyInput): Promise<{ outcome: 'acknowledged' | 'released'; at: string; by: string }> {
  const { party } = input;
  const parent = getExternalWorkflowHandle(input.caseWorkflowId);
  let ended: { outcome: 'acknowledged' | 'released'; at: string; by: string; note?: string } | undefined;
  setHandler(partyAcknowledgedSignal, ({ by, note }) => {
    ended ??= { outcome: 'acknowledged', at: new Date().toISOString(), by, note };
  });
  setHandler(partyReleasedSignal, ({ by, reason }) => {
    ended ??= { outcome: 'released', at: new Date().toISOString(), by, note: reason };
  });
  // The case may have closed (its run ended) by the time this party reports: nothing to tell then.
  const report = (status: string, detail: string) =>
    parent.signal(partyStatusSignal, { party: party.id, status, detail, at: new Date().toISOString(), workflowId: workflowInfo().workflowId }).catch(() => undefined);

  const send = async (kind: 'notice' | 'reminder', n: number) => {
    try {
      await notifyParty({ caseId: input.caseId, party, kind, text: input.summary, key: `${kind}-${n}` });
      return true;
    } catch (err) {
      await report('failed', `${kind} could not be delivered: ${(err as Error).message}`);
      return false;
    }
  };

  if (await send('notice', 1)) await report('notified', `${party.receives}; ${party.acknowledgeWithin ? `acknowledge within ${party.acknowledgeWithin}` : 'no acknowledgement required'}`);
  if (!party.acknowledgeWithin) {
    await condition(() => ended !== undefined);
  } else {
    const started = Date.now();
    const escalateAt = started + durationToMs(party.escalateAfter);
    let reminders = 0;
    let escalated = false;
    while (!ended) {
      const nextReminder = started + durationToMs(party.acknowledgeWithin) + reminders * durationToMs(party.remindEvery);
      const wake = escalated ? nextReminder : Math.min(nextReminder, escalateAt);
      if (await condition(() => ended !== undefined, Math.max(1, wake - Date.now()))) break;
      if (!escalated && Date.now() >= escalateAt) {
        escalated = true;
        await notifyCommanders({ caseId: input.caseId, commanders: input.commanders, text: `${party.name} has not acknowledged the incident notice (sent ${new Date(started).toISOString()}).`, key: `party-${party.id}-silent` }).catch(() => undefined);
        await report('escalated', `silent for ${party.escalateAfter}: the incident commander was told`);
      }
      if (Date.now() >= nextReminder) {
        reminders += 1;
        if (await send('reminder', reminders)) await report('reminded', `reminder ${reminders}`);
      }
    }
  }
  await report(ended!.outcome, `${ended!.by}${ended!.note ? `: ${ended!.note}` : ''}`);
  return { outcome: ended!.outcome, at: ended!.at, by: ended!.by };
}
