/** Baseline workflows for benchmarks: what Temporal alone does on this machine. */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export const ping = defineSignal<[unknown]>('ping');

/** Takes signals and does nothing with them until told to stop: the raw signal rate's yardstick. */
export async function noopSink(): Promise<number> {
  let received = 0;
  let done = false;
  setHandler(ping, (value) => {
    if (value === 'stop') done = true;
    else received += 1;
  });
  await condition(() => done);
  return received;
}
