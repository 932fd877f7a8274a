/**
 * The declared incident's commands: regulatory filings, third parties, forensic evidence and its
 * chain of custody, the forensic plan and the post-incident review. They talk to Temporal
 * directly (the HTTP API does not carry them yet).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ActionRefusedError, fetchCase } from './api/cases';
import { type CaseView, custodyProblems, entryFor, type EvidenceItem, type Policy, responseDurations, reviewMarkdown } from './domain';
import {
  acknowledgePartyUpdate,
  addPartyUpdate,
  recordEvidenceUpdate,
  recordFilingUpdate,
  releasePartyUpdate,
  transferCustodyUpdate,
  workflowIdFor,
} from './workflows/definitions';

export class IncidentUsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

async function update<A extends object>(client: Client, caseRef: string, def: UpdateDefinition<CaseView, [A]>, input: A): Promise<CaseView> {
  try {
    return await client.workflow.getHandle(workflowIdFor(caseRef)).executeUpdate(def, { args: [input] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new ActionRefusedError(err.cause?.message ?? err.message);
    throw err;
  }
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
  connect: () => Promise<Client>,
  policy: () => Policy,
  out: (data: unknown, text: () => string) => void,
): Promise<number | undefined> {
  const [command, sub, third, fourth] = positionals;
  const actor = () => need(values.as, `${command}: say who is acting with --as <user>`);
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
    const view = await update(await connect(), caseRef, recordFilingUpdate, { actor: actor(), clock, reference: need(values.reference, 'file: give --reference') });
    out(view, () => view.clocks.map((c) => `${c.key}: ${c.filed ? `filed by ${c.filed.by} (${c.filed.reference})` : `due ${c.dueAt}`}`).join('\n'));
    return 0;
  }
  if (command === 'review') {
    const view = await fetchCase(await connect(), need(sub, 'review: which case?'));
    out({ caseId: view.caseId, review: view.closure?.review, durations: responseDurations(view), timeline: view.timeline }, () => reviewMarkdown(view));
    return 0;
  }
  if (command === 'party') {
    const caseRef = need(third, `party ${sub}: which case?`);
    const party = need(fourth, `party ${sub}: which party?`);
    const def = sub === 'ack' ? acknowledgePartyUpdate : sub === 'release' ? releasePartyUpdate : sub === 'add' ? addPartyUpdate : undefined;
    if (!def) throw new IncidentUsageError('party: ack, release or add');
    const view = await update(await connect(), caseRef, def, { actor: actor(), party, reason: values.reason as string | undefined });
    out(view.parties, () => view.parties.map((p) => `${p.id.padEnd(12)} ${p.status.padEnd(12)} ${p.detail}`).join('\n'));
    return 0;
  }
  if (command === 'evidence') {
    const caseRef = need(third, `evidence ${sub}: which case?`);
    const client = await connect();
    if (sub === 'add') {
      const file = resolve(need(values.file, 'evidence add: give --file <path> (its SHA-256 is computed here; the file stays where it is)'));
      const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      const view = await update(client, caseRef, recordEvidenceUpdate, {
        actor: actor(),
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
      const view = await update(client, caseRef, transferCustodyUpdate, {
        actor: actor(),
        item: need(fourth, 'evidence transfer: which item (E1, E2…)?'),
        to: need(values.to, 'evidence transfer: give --to <person>'),
        reason: need(values.reason, 'evidence transfer: give --reason'),
      });
      out(view.evidenceItems, () => renderCustody(view));
      return 0;
    }
    const view = await fetchCase(client, caseRef);
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
