/**
 * How well does triage classify real incidents? Runs each classifier over the labeled HHS OCR
 * breach reports in ../shared/datasets/hhs-ocr-dev.jsonl and prints accuracy per category,
 * macro-F1, regulated-data recall and precision, and severity agreement.
 *
 *   npm run bench:classify                      rules engine (and the LLM one when WARDEN_LLM_URL/WARDEN_LLM_MODEL are set)
 *
 * The dataset's labels are the HHS portal's breach types, coarser than Warden's taxonomy, so
 * both sides are mapped onto the portal's groups (MAPPING below):
 *   Hacking/IT Incident            ← malware, phishing, credential-compromise, vulnerability-exploitation, denial-of-service
 *   Unauthorized Access/Disclosure ← data-exposure, insider-misuse
 *   Theft, Loss                    ← lost-device   (one group: the text rarely tells lost from stolen reliably)
 *   Improper Disposal              ← improper-disposal
 *   Other, Unknown                 ← other
 * A record with several labels counts as right when the prediction falls in any of them.
 * Severity: the reference is a documented banding of individuals affected (the only size the
 * portal records): ≥100,000 → SEV1, ≥10,000 → SEV2, ≥1,000 → SEV3, else SEV4.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { classifierFromEnv, type Classifier, rulesClassifier } from '../src/activities/classifier';
import { loadPolicyFile } from '../src/config';
import { assessSeverity, detectDataClasses, type Policy, type Severity } from '../src/domain';
import { emitResult, round } from './result';

const DATASET = resolve(__dirname, '../../shared/datasets/hhs-ocr-dev.jsonl');

const GROUP_OF_CATEGORY: Record<string, string> = {
  malware: 'hacking',
  phishing: 'hacking',
  'credential-compromise': 'hacking',
  'vulnerability-exploitation': 'hacking',
  'denial-of-service': 'hacking',
  'data-exposure': 'unauthorized-access',
  'insider-misuse': 'unauthorized-access',
  'lost-device': 'theft-or-loss',
  'improper-disposal': 'improper-disposal',
  other: 'other',
};
const GROUP_OF_LABEL: Record<string, string> = {
  'Hacking/IT Incident': 'hacking',
  'Unauthorized Access/Disclosure': 'unauthorized-access',
  Theft: 'theft-or-loss',
  Loss: 'theft-or-loss',
  'Improper Disposal': 'improper-disposal',
  Other: 'other',
  Unknown: 'other',
};
const GROUPS = ['hacking', 'unauthorized-access', 'theft-or-loss', 'improper-disposal', 'other'];

interface Record_ {
  id: string;
  text: string;
  labels: { type_of_breach: string[]; individuals_affected: number; regulated_data: string[] };
}

function referenceSeverity(n: number): Severity {
  return n >= 100_000 ? 'SEV1' : n >= 10_000 ? 'SEV2' : n >= 1_000 ? 'SEV3' : 'SEV4';
}

/** "… of 640,436 individuals" → 640436; the text's own count, when it gives one. */
function individualsIn(text: string): number | undefined {
  const m = /([\d,]{3,})\s+(individuals|patients|people|persons|members|residents)/i.exec(text);
  return m ? Number(m[1].replace(/,/g, '')) : undefined;
}

async function evaluate(name: string, classifier: Classifier, records: Record_[], policy: Policy): Promise<Record<string, unknown>> {
  const started = Date.now();
  const confusion: Record<string, Record<string, number>> = {};
  let correct = 0;
  let regulatedFound = 0;
  let regulatedClaimed = 0;
  let regulatedClaimedRight = 0;
  let severityAgreed = 0;
  const perGroup: Record<string, { tp: number; fp: number; fn: number; n: number; right: number }> = Object.fromEntries(
    GROUPS.map((g) => [g, { tp: 0, fp: 0, fn: 0, n: 0, right: 0 }]),
  );
  for (const r of records) {
    const title = r.text.split(/(?<=\.)\s/)[0].slice(0, 200);
    const c = await classifier.classify({ title, description: r.text, source: 'hhs-ocr' }, policy);
    const predicted = GROUP_OF_CATEGORY[c.category] ?? 'other';
    const truth = [...new Set(r.labels.type_of_breach.map((l) => GROUP_OF_LABEL[l] ?? 'other'))];
    const right = truth.includes(predicted);
    if (right) correct++;
    const primary = right ? predicted : truth[0];
    confusion[primary] ??= {};
    confusion[primary][predicted] = (confusion[primary][predicted] ?? 0) + 1;
    for (const g of truth) {
      perGroup[g].n++;
      if (g === predicted) perGroup[g].right++;
    }
    if (right) perGroup[predicted].tp++;
    else {
      perGroup[predicted].fp++;
      perGroup[truth[0]].fn++;
    }

    const detected = detectDataClasses(r.text).map((d) => d.dataClass);
    const labeledHealth = r.labels.regulated_data.includes('medical');
    if (detected.includes('health')) {
      regulatedClaimed++;
      if (labeledHealth) regulatedClaimedRight++;
    }
    if (labeledHealth && detected.includes('health')) regulatedFound++;

    const n = individualsIn(r.text) ?? r.labels.individuals_affected;
    const users = Array.from({ length: Math.min(n, 1_000) }, (_, i) => `u${i}`);
    const assessment = assessSeverity({ assets: [], users, dataClasses: detected, reportCount: 1 }, policy);
    if (assessment.severity === referenceSeverity(r.labels.individuals_affected)) severityAgreed++;
  }
  const pct = (x: number, of: number) => (of ? `${((100 * x) / of).toFixed(1)}%` : 'n/a');
  const f1s = GROUPS.filter((g) => perGroup[g].n > 0).map((g) => {
    const { tp, fp, fn } = perGroup[g];
    const p = tp + fp ? tp / (tp + fp) : 0;
    const rc = tp + fn ? tp / (tp + fn) : 0;
    return { g, p, rc, f1: p + rc ? (2 * p * rc) / (p + rc) : 0 };
  });
  const labeledRegulated = records.filter((r) => r.labels.regulated_data.includes('medical')).length;
  console.log(`\n== ${name} over ${records.length} HHS OCR breach reports (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  console.log(`accuracy: ${pct(correct, records.length)}   macro-F1: ${(f1s.reduce((s, x) => s + x.f1, 0) / f1s.length).toFixed(3)}`);
  console.log('group                  n   accuracy  precision  recall   F1');
  for (const { g, p, rc, f1 } of f1s)
    console.log(`${g.padEnd(20)} ${String(perGroup[g].n).padStart(4)}   ${pct(perGroup[g].right, perGroup[g].n).padStart(6)}    ${p.toFixed(3)}    ${rc.toFixed(3)}   ${f1.toFixed(3)}`);
  console.log(`regulated data (health): recall ${pct(regulatedFound, labeledRegulated)}, precision ${pct(regulatedClaimedRight, regulatedClaimed)} (every record is labeled medical, so precision cannot fall here: it is measured on positives only)`);
  console.log(`severity agreement with the individuals-affected banding: ${pct(severityAgreed, records.length)}`);
  console.log('confusion (rows: label group, columns: predicted group):');
  console.log(`${''.padEnd(20)} ${GROUPS.map((g) => g.slice(0, 12).padStart(12)).join(' ')}`);
  for (const g of GROUPS) console.log(`${g.padEnd(20)} ${GROUPS.map((p) => String(confusion[g]?.[p] ?? 0).padStart(12)).join(' ')}`);
  const share = (x: number, of: number) => (of ? round(x / of) : null);
  return {
    classifier: name,
    records: records.length,
    seconds: round((Date.now() - started) / 1000, 1),
    accuracy: share(correct, records.length),
    macroF1: round(f1s.reduce((s, x) => s + x.f1, 0) / f1s.length),
    groups: Object.fromEntries(f1s.map(({ g, p, rc, f1 }) => [g, { n: perGroup[g].n, accuracy: share(perGroup[g].right, perGroup[g].n), precision: round(p), recall: round(rc), f1: round(f1) }])),
    regulatedHealth: { recall: share(regulatedFound, labeledRegulated), precision: share(regulatedClaimedRight, regulatedClaimed) },
    severityAgreement: share(severityAgreed, records.length),
    confusion,
  };
}

async function main(): Promise<void> {
  const policy = loadPolicyFile(resolve(__dirname, '../config/policy.yaml'));
  const records = readFileSync(DATASET, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record_);
  const results = [await evaluate('rules engine', rulesClassifier, records, policy)];
  const configured = classifierFromEnv();
  if (configured !== rulesClassifier) results.push(await evaluate(`LLM (${process.env.WARDEN_LLM_MODEL})`, configured, records, policy));
  emitResult({ dataset: 'hhs-ocr-dev.jsonl', classifiers: results });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
