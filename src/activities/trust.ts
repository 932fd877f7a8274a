/**
 * The trust loop's measure, read from Temporal visibility: over closed cases, how often humans
 * agreed with the category Warden decided (search attributes WardenAutoCategory and
 * WardenVerdict, set by the case). Two count queries per category, cached briefly: no workflow
 * code runs for them.
 */
import type { Client } from '@temporalio/client';
import type { MeasuredAgreement } from '../domain';

export interface AgreementOptions {
  /** Count only cases of this task queue (tests, or several Warden deployments in one namespace). */
  taskQueue?: string;
  /** How long a measure is reused (default 60 s). */
  cacheMs?: number;
}

export function agreementFromVisibility(client: Client, options: AgreementOptions = {}): (category: string) => Promise<MeasuredAgreement> {
  const cache = new Map<string, { at: number; value: MeasuredAgreement }>();
  const ttl = options.cacheMs ?? 60_000;
  return async (category) => {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(category)) throw new Error(`not a category id: ${JSON.stringify(category).slice(0, 80)}`);
    const hit = cache.get(category);
    if (hit && Date.now() - hit.at < ttl) return hit.value;
    const scope = options.taskQueue ? ` AND TaskQueue = '${options.taskQueue.replace(/'/g, '')}'` : '';
    const judged = `WardenAutoCategory = '${category}' AND WardenVerdict IS NOT NULL AND ExecutionStatus != 'Running'${scope}`;
    const [cases, agreed] = await Promise.all([client.workflow.count(judged), client.workflow.count(`${judged} AND WardenVerdict = 'agreed'`)]);
    const value = { cases: cases.count, agreed: agreed.count };
    cache.set(category, { at: Date.now(), value });
    return value;
  };
}
