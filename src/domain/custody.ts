/**
 * Forensic evidence with chain of custody. Evidence bodies live outside workflow history (a
 * storage reference); the case holds each item's SHA-256, who collected it, when and from where,
 * and every transfer of custody. Pure: verification of the stored bodies happens where the
 * bodies are (the CLI), against these records.
 */
export interface CustodyTransfer {
  at: string;
  from: string;
  to: string;
  by: string;
  reason: string;
}

export interface EvidenceItem {
  id: string;
  description: string;
  /** The system or place it was collected from (host, mailbox, bucket...). */
  collectedFrom: string;
  collectedBy: string;
  collectedAt: string;
  sha256: string;
  /** Where the body is kept, e.g. file:///evidence/WRD-…/mem.lime or s3://bucket/key. */
  storageRef: string;
  /** The forensic plan step it fulfils (1-based), when it does. */
  step?: number;
  holder: string;
  custody: CustodyTransfer[];
}

export const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface CustodyProblem {
  item: string;
  problem: string;
}

/** The custody chain's own consistency: every transfer starts from the holder before it. */
export function custodyProblems(items: EvidenceItem[]): CustodyProblem[] {
  const problems: CustodyProblem[] = [];
  for (const item of items) {
    if (!SHA256_HEX.test(item.sha256)) problems.push({ item: item.id, problem: 'the recorded hash is not a SHA-256 hex digest' });
    let holder = item.collectedBy;
    let last = item.collectedAt;
    for (const t of item.custody) {
      if (t.from !== holder) problems.push({ item: item.id, problem: `transfer at ${t.at} is from ${t.from}, but ${holder} held it` });
      if (Date.parse(t.at) < Date.parse(last)) problems.push({ item: item.id, problem: `transfer at ${t.at} precedes the previous record` });
      holder = t.to;
      last = t.at;
    }
    if (holder !== item.holder) problems.push({ item: item.id, problem: `the chain ends with ${holder}, but the item says ${item.holder}` });
  }
  return problems;
}
