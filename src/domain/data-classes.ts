/**
 * Data classes named in free text: reporters rarely fill a "data involved" field, but their
 * words say it ("protected health information", "Social Security numbers", "card numbers").
 * Deterministic phrase rules; each hit says which phrase found it.
 */
const RULES: { dataClass: string; phrases: RegExp }[] = [
  { dataClass: 'health', phrases: /\b(e?PHI|protected health information|medical (records?|information|histor(y|ies))|diagnos[ie]s|treatment information|health (insurance|information|records?)|patients?['’]? (records?|information|data|names?|files?|charts?|facesheets?)|clinical (information|data|records?|notes?)|healthcare payment information|(health )?insurance information|health risk assessments?|retinal scans?|x-rays?|prescriptions?|lab(oratory)? results)\b/i },
  { dataClass: 'personal', phrases: /\b(social security numbers?|SSNs?|dates? of birth|driver'?s licen[cs]e|passport numbers?|home addresses|personal (data|information)|PII|demographic (information|data)|names?,? (and )?(home |mailing )?(addresses|dates of birth|email addresses|phone numbers)|email addresses of (\d[\d,]*|the|its|their)|member (information|names?)|(member|patient|client|subscriber) (id|identification) (numbers?|cards?)|identification cards?|clients?['’]? (data|names?|records?|information)|private client data|names? and (home |mailing )?address(es)?|(disclos\w*|expos\w*|displayed|revealing|contain\w*|leaked)( the| their| all)?( complete)? e-?mail addresses|(patients|members|recipients|customers|individuals)['’] (complete )?e-?mail addresses|identity theft)\b/i },
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
