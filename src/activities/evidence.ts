/**
 * Evidence activities: the workflow's door to the evidence store (src/evidence/store.ts). The
 * workflow hands over a payload; the activity stores its canonical JSON and returns the small ref
 * the case keeps. Storing is idempotent (content-addressed), so a retried attempt, or the same
 * payload stored by the intake before, gives the same ref and writes nothing again.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CanonicalJsonError, canonicalJsonBytes } from '../evidence/canonical';
import type { EvidenceRef, EvidenceStore } from '../evidence/store';

export interface StoreEvidenceInput {
  caseId: string;
  /** What the payload is, e.g. `report`. */
  kind: string;
  /** Any JSON value; stored as its canonical JSON (application/json). */
  payload: unknown;
}

export function createEvidenceActivities(store: EvidenceStore) {
  return {
    /**
     * Store a payload's canonical JSON in the evidence store; its ref. A payload with no JSON
     * form (undefined, a non-finite number...) fails for good (EvidenceNotJson); the store being
     * unavailable fails the attempt, and the activity's retry policy tries again.
     */
    async storeEvidence(input: StoreEvidenceInput): Promise<EvidenceRef> {
      let bytes: Buffer;
      try {
        bytes = canonicalJsonBytes(input.payload);
      } catch (err) {
        if (err instanceof CanonicalJsonError) throw ApplicationFailure.nonRetryable(`evidence for ${input.caseId}: ${err.message}`, 'EvidenceNotJson');
        throw err;
      }
      return store.put(bytes, { caseId: input.caseId, kind: input.kind, contentType: 'application/json' });
    },
  };
}

export type EvidenceActivities = ReturnType<typeof createEvidenceActivities>;
