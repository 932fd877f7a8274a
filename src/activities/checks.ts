/**
 * Machine-verified recovery criteria. Each check is named in policy and gets the criterion's
 * parameters and the case facts it needs; it answers passed or not, with the evidence.
 */
import { readFile } from 'node:fs/promises';
import { durationToMs } from '../domain';

export interface CheckFacts {
  caseId: string;
  lastEvidenceAt: string;
  indicators: { ips: string[]; domains: string[]; urls: string[]; hashes: string[] };
}

export interface CheckResult {
  passed: boolean;
  detail: string;
}

export type RecoveryCheck = (params: Record<string, unknown>, facts: CheckFacts) => Promise<CheckResult>;

/** No new report for the case within `window` (e.g. "30m"): the activity has stopped. */
export const quietPeriod: RecoveryCheck = async (params, facts) => {
  const window = String(params.window ?? '30m');
  const quietFor = Date.now() - Date.parse(facts.lastEvidenceAt);
  const needed = durationToMs(window);
  return quietFor >= needed
    ? { passed: true, detail: `no new report for ${Math.round(quietFor / 1000)}s (needed ${window})` }
    : { passed: false, detail: `last report ${Math.round(quietFor / 1000)}s ago; needs ${window} of quiet` };
};

/**
 * Every IP and domain of the case is on the blocklist file (one entry a line) that the
 * perimeter team publishes; `params.file` or WARDEN_BLOCKLIST_FILE names it.
 */
export const indicatorsBlocked: RecoveryCheck = async (params, facts) => {
  const file = String(params.file ?? process.env.WARDEN_BLOCKLIST_FILE ?? '');
  if (!file) return { passed: false, detail: 'no blocklist configured (params.file or WARDEN_BLOCKLIST_FILE)' };
  const listed = new Set(
    (await readFile(file, 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  const missing = [...facts.indicators.ips, ...facts.indicators.domains].filter((i) => !listed.has(i));
  return missing.length
    ? { passed: false, detail: `not yet blocked: ${missing.slice(0, 10).join(', ')}` }
    : { passed: true, detail: `all ${facts.indicators.ips.length + facts.indicators.domains.length} indicators blocked` };
};

export const RECOVERY_CHECKS: Record<string, RecoveryCheck> = {
  'quiet-period': quietPeriod,
  'indicators-blocked': indicatorsBlocked,
};
