/**
 * Data classes named in free text: reporters rarely fill a "data involved" field, but their
 * words say it ("protected health information", "Social Security numbers", "card numbers").
 * Deterministic phrase rules; each hit says which phrase found it.
 */
const RULES: { dataClass: string; phrases: RegExp }[] = [
  { dataClass: 'health', phrases: /\b(e?PHI|protected health information|medical (records?|information|histor(y|ies))|diagnos[ie]s|treatment information|health (insurance|information|records?)|patient (records?|information|data)|prescriptions?|lab(oratory)? results)\b/i },
  { dataClass: 'personal', phrases: /\b(social security numbers?|SSNs?|dates? of birth|driver'?s licen[cs]e|passport numbers?|home addresses|personal (data|information)|PII)\b/i },
  { dataClass: 'payment', phrases: /\b(credit card|debit card|card numbers?|payment card|bank account (numbers?|information)|cardholder data|PAN)\b/i },
  { dataClass: 'credentials', phrases: /\b(usernames and passwords|passwords (were|was|are) (exposed|stolen|leaked)|login credentials|login (details|information)|api keys?|access tokens?|private keys?)\b/i },
];

export interface DetectedDataClass {
  dataClass: string;
  phrase: string;
}

export function detectDataClasses(text: string): DetectedDataClass[] {
  const found: DetectedDataClass[] = [];
  for (const rule of RULES) {
    const match = rule.phrases.exec(text);
    if (match) found.push({ dataClass: rule.dataClass, phrase: match[0] });
  }
  return found;
}
