/** What every part of the case machine shares: its context, the timeline's pen, and the results it waits on. */
import { type CaseState, record, type Stage, type TimelineEntry } from '../case';
import { ACTIVE_STAGES } from '../case-actions';
import { type Policy } from '../policy';


export const WARDEN = 'warden';
/** How many recent report ids a case remembers to ignore a report filed twice. */
export const RECENT_REPORT_IDS = 1_000;

/** What the machine knows of the world besides the case: the policy it is judged by, and the time. */
export interface MachineContext {
  policy: Policy;
  /** Milliseconds since the epoch: the workflow's deterministic clock. */
  now: number;
}

export type Notice = 'false-alarm' | 'received' | 'resolved' | 'needs-info';

export const iso = (ctx: MachineContext) => new Date(ctx.now).toISOString();
export const note = (state: CaseState, ctx: MachineContext, actor: string, action: string, reason?: string): TimelineEntry =>
  record(state, iso(ctx), actor, action, reason);
export const awaiting = (state: CaseState, key: string) => state.awaiting.includes(key);
export const wait = (state: CaseState, key: string) => {
  if (!awaiting(state, key)) state.awaiting.push(key);
};
export const done = (state: CaseState, key: string) => {
  state.awaiting = state.awaiting.filter((k) => k !== key);
};
export const isActive = (stage: Stage) => ACTIVE_STAGES.includes(stage);
