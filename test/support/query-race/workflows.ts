/**
 * The smallest workflow that shows how a query can leave a worker's cached run ahead of its
 * history (test/query-race.test.ts): one activity, then a second one scheduled on its result, and
 * an update that only records who sent it.
 */
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

export const noteUpdate = defineUpdate<string, [string]>('note');
export const stepsQuery = defineQuery<string[]>('steps');

const { step } = proxyActivities<{ step(n: number): Promise<string> }>({
  startToCloseTimeout: '2s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1 },
});

export async function queryRace(): Promise<void> {
  const steps: string[] = [];
  setHandler(stepsQuery, () => steps);
  setHandler(noteUpdate, (who) => {
    steps.push(`note by ${who}`);
    return 'noted';
  });
  steps.push(await step(1));
  steps.push(await step(2));
  await condition(() => steps.length > 10);
}
