/**
 * The declared incident's commands: regulatory determinations, scope and filings, third parties,
 * forensic evidence and its chain of custody, the forensic plan and the post-incident review.
 * Like the other actions they go through the HTTP API when the CLI is given one, else to Temporal.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActionInputs, ActionName } from './api/cases';
import { type CaseView, custodyProblems, entryFor, type EvidenceItem, formatDuration, type Policy, responseDurations, reviewMarkdown } from './domain';

export class IncidentUsageError extends Error {}

type Values = Record<string, string | boolean | string[] | undefined>;

/** Where the commands read a case and act on it (the API, or Temporal directly). */
export interface IncidentCases {
  show(caseRef: string): Promise<CaseView>;
  perform<A extends ActionName>(caseRef: string, action: A, input: ActionInputs[A]): Promise<CaseView>;
}

/** The regulatory picture of a case: determinations still to make, and every clock with its time left. */
export function renderRegulatory(view: CaseView, now = Date.now()): string {
  const lines = [
    ...view.determinationsNeeded.map((d) => `determine  ${d.determination}: ${d.question} (${d.regimes.join(', ')}; ${d.deciders.join(' or ')})`),
    ...view.determinations.map((d) => `decided    ${d.id}: ${d.decision ? 'yes' : 'no'} by ${d.by} at ${d.at} (${d.reason})`),
    ...view.clocks.map((c) => {
      const state = c.filed ? `filed by ${c.filed.by} (${c.filed.reference})` : c.withdrawn ? `withdrawn (${c.withdrawn.reason})` : c.missedAt ? `MISSED (due ${c.dueAt})` : `${formatDuration(Date.parse(c.dueAt) - now)} left, due ${c.dueAt}`;
      return `clock      ${c.key}: ${state}${c.dueBecause ? ` [${c.dueBecause}]` : ''}`;
    }),
  ];
  return lines.length ? lines.join('\n') : 'no regulatory regime applies';
}

const need = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || !value) throw new IncidentUsageError(what);
  return value;
};

/** Verify each item's stored body (file:// references, read here) against its recorded SHA-256, and the custody chain. */
export function verifyEvidence(items: EvidenceItem[]): { item: string; ok: boolean; detail: string }[] {
  const results = custodyProblems(items).map((p) => ({ item: p.item, ok: false, detail: p.problem }));
  for (const item of items) {
    if (!item.storageRef.startsWith('file://')) {
      results.push({ item: item.id, ok: true, detail: `stored at ${item.storageRef}: verify its hash where it is kept` });
      continue;
    }
    try {
      const actual = createHash('sha256').update(readFileSync(fileURLToPath(item.storageRef))).digest('hex');
      results.push(actual === item.sha256 ? { item: item.id, ok: true, detail: 'body matches its recorded SHA-256' } : { item: item.id, ok: false, detail: `body hash ${actual} differs from the recorded ${item.sha256}` });
    } catch (err) {
      results.push({ item: item.id, ok: false, detail: `body unreadable: ${(err as Error).message}` });
    }
  }
  return results;
}

export function renderCustody(view: CaseView): string {
  if (!view.evidenceItems.length) return 'no evidence recorded';
  return view.evidenceItems
    .map((e) =>
      [
        `${e.id}  ${e.description}`,
        `    collected from ${e.collectedFrom} by ${e.collectedBy} at ${e.collectedAt}${e.step ? ` (plan step ${e.step})` : ''}`,
        `    sha256 ${e.sha256}`,
        `    stored at ${e.storageRef}; held by ${e.holder}`,
        ...e.custody.map((t) => `    ${t.at}  ${t.from} → ${t.to} (by ${t.by}: ${t.reason})`),
      ].join('\n'),
    )
    .join('\n');
}

/** Runs an incident command; undefined when `command` is not one of them. */
export async function runIncidentCommand(
  positionals: string[],
  values: Values,
  cases: IncidentCases,
  policy: () => Policy,
  out: (data: unknown, text: () => string) => void,
): Promise<number | undefined> {
  const [command, sub, third, fourth] = positionals;
  if (command === 'forensics') {
    const category = need(sub, 'forensics: which category?');
    const p = policy();
    if (!p.taxonomy.some((c) => c.id === category)) throw new IncidentUsageError(`forensics: unknown category ${category} (taxonomy: ${p.taxonomy.map((c) => c.id).join(', ')})`);
    const steps = entryFor(p.forensics, category) ?? [];
    const target = values.target as string | undefined;
    out({ category, target, steps }, () => [`Forensic collection for ${category}${target ? ` on ${target}` : ''} (most volatile first):`, ...steps.map((s, i) => `  ${i + 1}. ${s}`)].join('\n'));
    return 0;
  }
  if (command === 'file') {
    const caseRef = need(sub, 'file: which case?');
    const clock = need(third, 'file: which clock (e.g. gdpr-art33/notify-authority)?');
    const view = await cases.perform(caseRef, 'file', { clock, reference: need(values.reference, 'file: give --reference') });
    out(view.clocks, () => renderRegulatory(view));
    return 0;
  }
  if (command === 'determine') {
    const caseRef = need(sub, 'determine: which case?');
    const determination = need(third, 'determine: which determination (e.g. material)?');
    if (!!values.yes === !!values.no) throw new IncidentUsageError('determine: say --yes (made) or --no (decided against)');
    const view = await cases.perform(caseRef, 'determine', {
      determination,
      decision: !!values.yes,
      reason: need(values.reason, 'determine: give --reason'),
      ...(values.at ? { at: need(values.at, 'determine: --at <ISO time>') } : {}),
    });
    out({ determinations: view.determinations, determinationsNeeded: view.determinationsNeeded, clocks: view.clocks }, () => renderRegulatory(view));
    return 0;
  }
  if (command === 'scope') {
    const caseRef = need(sub, 'scope: which case?');
    const affected = values.affected === undefined ? undefined : Number(values.affected);
    if (affected !== undefined && !Number.isInteger(affected)) throw new IncidentUsageError('scope: --affected takes a whole number');
    const jurisdictions = (values.jurisdiction as string[] | undefined)?.flatMap((j) => j.split(',')).map((j) => j.trim()).filter(Boolean);
    const view = await cases.perform(caseRef, 'scope', {
      reason: need(values.reason, 'scope: give --reason'),
      ...(affected !== undefined ? { affected } : {}),
      ...(jurisdictions?.length ? { jurisdictions } : {}),
    });
    out({ affected: view.affected, jurisdictions: view.jurisdictions, regulatoryFlags: view.regulatoryFlags, clocks: view.clocks }, () => renderRegulatory(view));
    return 0;
  }
  if (command === 'regulatory') {
    const view = await cases.show(need(sub, 'regulatory: which case?'));
    out({ regulatoryFlags: view.regulatoryFlags, determinations: view.determinations, determinationsNeeded: view.determinationsNeeded, clocks: view.clocks }, () => renderRegulatory(view));
    return 0;
  }
  if (command === 'review') {
    const view = await cases.show(need(sub, 'review: which case?'));
    out({ caseId: view.caseId, review: view.closure?.review, durations: responseDurations(view), timeline: view.timeline }, () => reviewMarkdown(view));
    return 0;
  }
  if (command === 'party') {
    const caseRef = need(third, `party ${sub}: which case?`);
    const party = need(fourth, `party ${sub}: which party?`);
    const action = ({ ack: 'acknowledgeParty', release: 'releaseParty', add: 'addParty' } as const)[sub as 'ack' | 'release' | 'add'];
    if (!action) throw new IncidentUsageError('party: ack, release or add');
    const view = await cases.perform(caseRef, action, { party, ...(values.reason ? { reason: values.reason as string } : {}) });
    out(view.parties, () => view.parties.map((p) => `${p.id.padEnd(12)} ${p.status.padEnd(12)} ${p.detail}`).join('\n'));
    return 0;
  }
  if (command === 'evidence') {
    const caseRef = need(third, `evidence ${sub}: which case?`);
    if (sub === 'add') {
      const file = resolve(need(values.file, 'evidence add: give --file <path> (its SHA-256 is computed here; the file stays where it is)'));
      const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      const view = await cases.perform(caseRef, 'recordEvidence', {
        description: need(values.description, 'evidence add: give --description'),
        collectedFrom: need(values.from, 'evidence add: give --from <host or source>'),
        sha256,
        storageRef: `file://${file}`,
        ...(values.step ? { step: Number(values.step) } : {}),
      });
      out(view.evidenceItems.at(-1), () => renderCustody(view));
      return 0;
    }
    if (sub === 'transfer') {
      const view = await cases.perform(caseRef, 'transferCustody', {
        item: need(fourth, 'evidence transfer: which item (E1, E2…)?'),
        to: need(values.to, 'evidence transfer: give --to <person>'),
        reason: need(values.reason, 'evidence transfer: give --reason'),
      });
      out(view.evidenceItems, () => renderCustody(view));
      return 0;
    }
    const view = await cases.show(caseRef);
    if (sub === 'export') {
      out({ caseId: view.caseId, items: view.evidenceItems }, () => renderCustody(view));
      return 0;
    }
    if (sub === 'verify') {
      const results = verifyEvidence(view.evidenceItems);
      out(results, () => (results.length ? results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.item}: ${r.detail}`).join('\n') : 'no evidence recorded'));
      return results.every((r) => r.ok) ? 0 : 1;
    }
    throw new IncidentUsageError('evidence: add, transfer, export or verify');
  }
  return undefined;
}
