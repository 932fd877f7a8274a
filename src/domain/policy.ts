/**
 * Policy: everything a team decides before the bad day. Taxonomy, severity scoring, queues,
 * paging threshold, escalation criteria, SLAs, recovery criteria and roles are data, validated
 * here at start-up, and a snapshot of the policy travels into every case workflow so that a case
 * is always judged by the rules it was opened under.
 *
 * Pure: no I/O. `parsePolicy` takes already-read text, so workflows and activities can share it.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isDeadline, isTimeZone, needsCalendar } from './deadlines';
import { isDuration } from './duration';
import { SourceTypes } from './source-types';

export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export const Criticality = z.enum(CRITICALITIES);
export type Criticality = z.infer<typeof Criticality>;

export const SENSITIVITIES = ['public', 'internal', 'confidential', 'regulated'] as const;
export const Sensitivity = z.enum(SENSITIVITIES);
export type Sensitivity = z.infer<typeof Sensitivity>;

/** The human actions on a case that the policy grants to roles. */
export const ACTIONS = ['acknowledge', 'assign', 'escalate', 'deescalate', 'close', 'override'] as const;
export type CaseAction = (typeof ACTIONS)[number];

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes (e.g. "incident-commander")');
const Duration = z.string().refine(isDuration, 'a duration such as 30s, 15m, 4h or 3d');
const Pattern = z.string().refine((text) => {
  try {
    new RegExp(text, 'i');
    return true;
  } catch {
    return false;
  }
}, 'a valid regular expression');

/** How to reach a person named in roles: their Slack user id and e-mail address. */
const Person = z.object({
  name: z.string().optional(),
  slack: z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id such as U012AB3CD').optional(),
  email: z.string().email().optional(),
});

const Role = z.object({
  description: z.string().default(''),
  members: z.array(z.string().min(1)).min(1, 'a role needs at least one member'),
});

const Category = z.object({
  id: Id,
  name: z.string().min(1),
  description: z.string().default(''),
  /** Words and phrases that point to this category (case-insensitive, whole words). */
  keywords: z.array(z.string().min(1)).default([]),
  /** Report sources that point to this category (e.g. the phishing-report mailbox). */
  sources: z.array(z.string().min(1)).default([]),
  /** The queue that owns this category when no asset owner claims the case. */
  queue: Id.optional(),
  /**
   * The impact of what happened, in severity points: destructive ransomware and active intrusion
   * weigh more than a lost encrypted laptop. Activity signals add to it (severity.signals).
   */
  impact: z.number().min(0).max(100).default(10),
});

const Queue = z.object({
  id: Id,
  name: z.string().min(1),
  /** Slack channel for the queue's case cards (id or #name). */
  slackChannel: z.string().min(1),
});

const Asset = z.object({
  /** Asset id as reports name it; a trailing * matches a prefix (e.g. "db-prod-*"). */
  id: z.string().min(1),
  name: z.string().optional(),
  criticality: Criticality,
  dataClassification: Sensitivity.default('internal'),
  owner: z.string().optional(),
  queue: Id.optional(),
  /** Where the asset and its data are, for regimes triggered by jurisdiction (e.g. "EU-DE", "US-NY"). */
  jurisdictions: z.array(z.string().min(1)).default([]),
  /**
   * The kinds of data the asset holds (personal, payment, health…): a finding on the asset
   * involves them, for severity, the regulated-data criterion and regulatory regimes.
   */
  dataClasses: z.array(z.string().min(1)).default([]),
});

/** An activity signal: something that happened that makes a case worse, found by its phrases. */
const Signal = z.object({
  id: Id,
  description: z.string().default(''),
  /** Severity points it adds to the impact of what happened (negative for a mitigating fact). */
  points: z.number().min(-100).max(100),
  /** Regular expressions (case-insensitive) that find it in a report's words. */
  phrases: z.array(Pattern).default([]),
});

const PagerPriority = z.enum(['critical', 'error', 'warning', 'info']);

const Sla = z.object({ acknowledgeBy: Duration, respondBy: Duration });

const RecoveryCriterion = z
  .object({
    id: Id,
    description: z.string().min(1),
    verification: z.enum(['machine', 'human']),
    /** human: the roles whose members may sign this criterion off. */
    signers: z.array(Id).default([]),
    /** machine: the name of the check activity, its parameters, and how often to re-run it. */
    check: z.string().optional(),
    params: z.record(z.unknown()).default({}),
    recheckEvery: Duration.default('5m'),
  })
  .superRefine((criterion, ctx) => {
    if (criterion.verification === 'human' && criterion.signers.length === 0)
      ctx.addIssue({ code: 'custom', message: `human criterion "${criterion.id}" needs at least one signer role` });
    if (criterion.verification === 'machine' && !criterion.check)
      ctx.addIssue({ code: 'custom', message: `machine criterion "${criterion.id}" needs a check` });
  });

const FalseAlarmRule = z.object({
  id: Id,
  /** Matched case-insensitively against the report title. */
  titleMatches: Pattern.optional(),
  /** Report source that the rule applies to (any when absent). */
  source: z.string().optional(),
  /**
   * Matches when every indicator of the report is in this list (e.g. the phishing-simulation
   * vendor). Never closes a report whose adapter dropped or could not read an indicator.
   */
  indicatorsAllIn: z.array(z.string()).optional(),
  /**
   * Matches when the reported mail's sender domain, as the organisation's own mail servers
   * authenticated it (Report.verified, set by the mailbox only), is one of these or under one.
   * A report that merely claims such a sender is not closed: the timeline says why.
   */
  senderDomainIn: z.array(z.string().min(1)).optional(),
  /** What the reporter is told, politely. */
  explanation: z.string().min(1),
  /** The category whose measured trust lets Warden close by this rule alone (default: the default category). */
  category: Id.optional(),
});

export const PolicySchema = z
  .object({
    version: z.string().min(1),
    organization: z.string().default('Security Operations'),
    roles: z.record(Id, Role),
    /** Contact details of the people in roles, by their Warden id. */
    people: z.record(z.string(), Person).default({}),
    /** Roles allowed each action; `override` (category/severity) defaults to the roles that may escalate. */
    permissions: z
      .object({
        ...(Object.fromEntries(ACTIONS.filter((a) => a !== 'override').map((action) => [action, z.array(Id).min(1)])) as Record<
          Exclude<CaseAction, 'override'>,
          z.ZodArray<typeof Id>
        >),
        override: z.array(Id).min(1).optional(),
      })
      .transform((p) => ({ ...p, override: p.override ?? p.escalate })),
    /** The role whose members command an escalated incident (paged on escalation). */
    incidentCommanderRole: Id,
    queues: z.array(Queue).min(1),
    defaultQueue: Id,
    taxonomy: z.array(Category).min(1),
    defaultCategory: Id,
    /**
     * How the category is decided when several classifiers vote (src/domain/votes.ts): the
     * trained text model, the confidence below which a person decides, and what each vote
     * weighs. A case's policy snapshot carries only this (a path and numbers), never the model.
     */
    classification: z
      .object({
        /**
         * The text model written by `warden classifier train`, relative to the policy file (or
         * absolute); null: no model. A model file that is missing leaves rules (and the LLM).
         */
        model: z.string().min(1).nullable().default('models/category.json'),
        /** Below this combined confidence the case waits in triage for a person, with the candidates. */
        minConfidence: z.number().min(0).max(1).default(0.6),
        /**
         * The model votes only on a report whose content words it mostly knows (this share of
         * them): on other kinds of reports than it was trained on, its answer is a guess.
         */
        minCoverage: z.number().min(0).max(1).default(0.5),
        /** What each classifier's vote weighs (0 leaves it out). The LLM alone never outvotes rules and model agreeing. */
        weights: z
          .object({ rules: z.number().nonnegative().default(1), model: z.number().nonnegative().default(1), llm: z.number().nonnegative().default(1) })
          .default({}),
      })
      .default({}),
    /**
     * What structured sources say a finding is (src/domain/source-types.ts): per report source,
     * the vendor's types (exact, or a prefix ending in *) mapped to a taxonomy category, the
     * activity signals the type establishes and its ATT&CK technique. The most specific entry
     * wins; none by default, so an older policy stays valid and its reports are read by keywords.
     */
    sourceTypes: SourceTypes,
    assets: z.array(Asset).default([]),
    /**
     * The severity model (src/domain/scoring.ts): what happened, to what, and how much.
     *   score = min(whatHappenedMax, impact[category] + Σ signals) + assetCriticality[most critical asset]
     *         + dataSensitivity[most sensitive data] + min(spread.max, spread)
     * and a scale tier (people or records affected) sets a floor under the severity.
     */
    severity: z.object({
      /** Cap on what happened (category impact plus signals), so it cannot outweigh asset and scale. */
      whatHappenedMax: z.number().nonnegative().default(30),
      signals: z.array(Signal).default([]),
      assetCriticality: z.record(Criticality, z.number().nonnegative()),
      /** Criticality of an asset the inventory does not know; a report naming no asset scores none. */
      unknownAssetCriticality: Criticality.default('medium'),
      dataSensitivity: z.record(Sensitivity, z.number().nonnegative()),
      /** Data classes that make a case "regulated" (and its sensitivity the highest). */
      regulatedDataClasses: z.array(z.string().min(1)).default(['personal', 'health', 'payment', 'credentials']),
      /** People or records affected: each tier reached sets the lowest severity the case can have. */
      scale: z
        .object({ tiers: z.array(z.object({ atLeast: z.number().int().positive(), severity: Severity })).default([]) })
        .default({}),
      /** Spread beyond the first asset and report: more assets, more reports, named accounts. */
      spread: z.object({
        perAdditionalAsset: z.number().nonnegative(),
        perAffectedUser: z.number().nonnegative(),
        perAdditionalReport: z.number().nonnegative(),
        max: z.number().nonnegative(),
      }),
      /** Lowest score for each severity; anything below SEV3's is SEV4. */
      thresholds: z.object({ SEV1: z.number(), SEV2: z.number(), SEV3: z.number() }),
    }),
    /**
     * Trust that builds (src/domain/trust.ts): per category, the measured agreement of Warden's
     * automated decisions with humans decides whether it acts alone or proposes.
     */
    trust: z
      .object({
        /** Agreement (0..1) at or above which Warden acts alone. */
        bar: z.number().min(0).max(1).default(0.9),
        /** Judged cases of a category before its agreement counts. */
        minCases: z.number().int().positive().default(20),
        /** What Warden does for a category not yet measured. */
        untilMeasured: z.enum(['act', 'propose']).default('act'),
      })
      .default({}),
    paging: z.object({
      pageAtOrAbove: Severity,
      /** The page's priority for each severity (PagerDuty event severities). */
      priority: z
        .object({ SEV1: PagerPriority, SEV2: PagerPriority, SEV3: PagerPriority, SEV4: PagerPriority })
        .default({ SEV1: 'critical', SEV2: 'error', SEV3: 'warning', SEV4: 'info' }),
    }),
    escalation: z.object({
      priority: z.object({ atOrAbove: Severity }).optional(),
      blastRadius: z
        .object({ assets: z.number().int().positive().optional(), users: z.number().int().positive().optional() })
        .optional(),
      regulatedData: z.boolean().default(true),
      responseTimeExceeded: z.boolean().default(true),
    }),
    slas: z.object({ SEV1: Sla, SEV2: Sla, SEV3: Sla, SEV4: Sla }),
    recovery: z.object({ criteria: z.array(RecoveryCriterion).min(1) }),
    falseAlarms: z.array(FalseAlarmRule).default([]),
    /** Forensic collection steps per category (most volatile first, after RFC 3227); "default" for the rest. */
    forensics: z.record(z.array(z.string().min(1))).default({}),
    /**
     * Regulatory regimes flagged at triage by the data classes involved. Each may carry durable
     * clocks: a deadline from the recorded awareness time, warnings before it, and the roles that
     * own the filing. The texts say what the policy says; this is not legal advice.
     */
    /**
     * Facts about the organization that regulatory regimes are triggered by: the kinds of entity
     * it is (e.g. "public-company", "nis2-essential-entity", "financial-entity") and where it is
     * established ("EU", "US-NY"). A case's jurisdictions are these, its assets' and any a
     * responder records.
     */
    regulatoryProfile: z
      .object({ entityTypes: z.array(z.string().min(1)).default([]), jurisdictions: z.array(z.string().min(1)).default([]) })
      .default({}),
    /**
     * Decisions only a human can make that start regulatory clocks (e.g. "material" for SEC 8-K
     * Item 1.05, "major-ict-incident" for DORA): what is asked, and which roles decide it.
     */
    determinations: z.array(z.object({ id: Id, question: z.string().min(1), deciders: z.array(Id).min(1) })).default([]),
    /** Business-day calendars for deadlines counted in business days ("4bd"). */
    calendars: z
      .record(
        Id,
        z.object({
          timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as America/New_York'),
          weekend: z.array(z.enum(WEEKDAYS)).default(['sat', 'sun']),
          holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')).default([]),
        }),
      )
      .default({}),
    /**
     * Regulatory regimes: when each applies to a case and the notification clocks it starts. This
     * is what the policy says, not legal advice.
     */
    regulatory: z
      .array(
        z
          .object({
            id: Id,
            name: z.string().min(1),
            /** Shorthand for `when.dataClasses` (the form older policies use). */
            dataClasses: z.array(z.string().min(1)).min(1).optional(),
            /**
             * The regime applies when every condition given holds; a list holds when any of its
             * entries does. Jurisdictions match by prefix: "EU" covers a case in "EU-DE".
             */
            when: z
              .object({
                dataClasses: z.array(z.string().min(1)).min(1).optional(),
                jurisdictions: z.array(z.string().min(1)).min(1).optional(),
                entityTypes: z.array(z.string().min(1)).min(1).optional(),
                /** Human determinations (ids from `determinations`) that must have been made. */
                determinations: z.array(Id).min(1).optional(),
                /** At least this many individuals affected (a count a responder records). */
                minAffected: z.number().int().positive().optional(),
                /** Only once the case is a declared incident (escalated at least once). */
                declared: z.literal(true).optional(),
              })
              .default({}),
            deadline: z.string().min(1),
            clocks: z
              .array(
                z.object({
                  id: Id,
                  name: z.string().min(1),
                  /** What the clock counts from: "awareness", "determination:<id>" or "filing:<clock id>" (an earlier stage). */
                  from: z
                    .string()
                    .regex(/^(awareness|determination:[a-z0-9-]+|filing:[a-z0-9-]+)$/, 'awareness, determination:<id> or filing:<clock id>')
                    .default('awareness'),
                  /** 72h, 3d; 1mo (calendar months); 4bd (business days, with `calendar`). */
                  due: z.string().refine(isDeadline, 'a deadline such as 24h, 3d, 1mo or 4bd'),
                  calendar: Id.optional(),
                  /** A second limit that also binds (the earlier wins), e.g. DORA: 4h from classification, no later than 24h from awareness. */
                  notLaterThan: z
                    .object({
                      from: z.string().regex(/^(awareness|determination:[a-z0-9-]+|filing:[a-z0-9-]+)$/, 'awareness, determination:<id> or filing:<clock id>'),
                      due: z.string().refine(isDeadline, 'a deadline such as 24h, 3d, 1mo or 4bd'),
                    })
                    .optional(),
                  warnBefore: z.array(Duration).default([]),
                  owners: z.array(Id).min(1),
                }),
              )
              .default([]),
          })
          .transform(({ dataClasses, ...regime }) => ({ ...regime, when: { ...regime.when, dataClasses: regime.when.dataClasses ?? dataClasses } }))
          .refine((r) => Object.values(r.when).some((v) => v !== undefined), 'a regime needs at least one condition in `when` (or `dataClasses`)'),
      )
      .default([]),
    /**
     * The response plan's third parties (RS.MA-01): who is told when an incident is declared,
     * by which route, what they receive, and whether and by when they must acknowledge.
     */
    parties: z
      .array(
        z
          .object({
            id: Id,
            name: z.string().min(1),
            /** Contact route: an e-mail address, a Slack (Connect) channel, or a webhook URL. */
            email: z.string().email().optional(),
            slackChannel: z.string().optional(),
            webhook: z.string().url().optional(),
            /** What they must receive, in words (goes into the notice). */
            receives: z.string().default('the incident summary'),
            /** Involved when the case's category is one of these (any when absent)… */
            categories: z.array(Id).optional(),
            /** …and its severity is at or above this (any when absent). */
            atOrAbove: Severity.optional(),
            acknowledgeWithin: Duration.optional(),
            remindEvery: Duration.default('4h'),
            /** Tell the incident commander when the party stays silent this long. */
            escalateAfter: Duration.default('24h'),
          })
          .refine((p) => p.email || p.slackChannel || p.webhook, 'a party needs a contact route: email, slackChannel or webhook'),
      )
      .default([]),
    /** What closing a declared (escalated) incident as resolved requires. */
    review: z
      .object({ required: z.array(z.enum(['summary', 'rootCause', 'impact', 'lessons', 'followUps'])).default(['summary', 'rootCause', 'impact', 'lessons', 'followUps']) })
      .default({}),
    intake: z
      .object({
        /** Report fields that together identify "the same thing" per source; "default" for the rest. */
        fingerprint: z.record(z.array(z.string().min(1)).min(1)).default({ default: ['source', 'title', 'assets'] }),
        /** Fields a workable case needs, per source ("default" for the rest); a report without them still opens its case, which asks the reporter. */
        requiredFields: z.record(z.array(z.string().min(1))).default({ default: ['description', 'assets'] }),
        /** Reports per workflow run before the case continues as new, keeping history small. */
        evidencePerRun: z.number().int().positive().default(500),
        /**
         * Where notices to a machine reporter (a scanner, GuardDuty, Alertmanager: no person to
         * DM) go: "queue" posts them in the owning queue's channel, "none" sends nothing. Either
         * way the case records it.
         */
        machineReporterNotices: z.enum(['queue', 'none']).default('queue'),
      })
      .default({}),
    /**
     * The most a case keeps in its state of each list, so that no report (or storm of them) can
     * make a case too large to read or act on. Beyond these, values are counted and digested
     * (CaseState.overflow), full payloads stay in the evidence store, and older timeline entries
     * move there too.
     */
    limits: z
      .object({
        /** Distinct values kept per indicator kind (IPs, domains, URLs, hashes). */
        indicators: z.number().int().min(10).max(10_000).default(500),
        users: z.number().int().min(10).max(10_000).default(1_000),
        assets: z.number().int().min(10).max(10_000).default(500),
        reporters: z.number().int().min(10).max(10_000).default(1_000),
        /** Timeline entries kept in the case; older ones (after the opening ones) are archived. */
        timeline: z.number().int().min(40).max(10_000).default(1_000),
        /** Report entries kept (the most recent); every report is counted. */
        evidence: z.number().int().min(10).max(1_000).default(50),
      })
      .default({}),
  })
  .superRefine((policy, ctx) => {
    const roles = new Set(Object.keys(policy.roles));
    const queues = new Set(policy.queues.map((q) => q.id));
    const categories = new Set(policy.taxonomy.map((c) => c.id));
    const need = (ok: boolean, path: (string | number)[], message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    const knownRoles = [...roles].join(', ');
    for (const action of ACTIONS)
      (policy.permissions[action] ?? []).forEach((role, i) =>
        need(roles.has(role), ['permissions', action, i], `unknown role "${role}" (roles: ${knownRoles})`),
      );
    need(roles.has(policy.incidentCommanderRole), ['incidentCommanderRole'], `unknown role "${policy.incidentCommanderRole}"`);
    need(queues.has(policy.defaultQueue), ['defaultQueue'], `unknown queue "${policy.defaultQueue}"`);
    need(categories.has(policy.defaultCategory), ['defaultCategory'], `unknown category "${policy.defaultCategory}"`);
    policy.taxonomy.forEach((c, i) =>
      need(!c.queue || queues.has(c.queue), ['taxonomy', i, 'queue'], `unknown queue "${c.queue}"`),
    );
    for (const [source, table] of Object.entries(policy.sourceTypes))
      for (const [type, entry] of Object.entries(table.types))
        need(categories.has(entry.category), ['sourceTypes', source, 'types', type, 'category'], `unknown category "${entry.category}" (taxonomy: ${[...categories].join(', ')})`);
    policy.assets.forEach((a, i) =>
      need(!a.queue || queues.has(a.queue), ['assets', i, 'queue'], `unknown queue "${a.queue}"`),
    );
    const determinations = new Set(policy.determinations.map((d) => d.id));
    policy.determinations.forEach((d, i) =>
      d.deciders.forEach((role, j) => need(roles.has(role), ['determinations', i, 'deciders', j], `unknown role "${role}" (roles: ${knownRoles})`)),
    );
    policy.regulatory.forEach((r, i) => {
      (r.when.determinations ?? []).forEach((d, j) =>
        need(determinations.has(d), ['regulatory', i, 'when', 'determinations', j], `unknown determination "${d}" (determinations: ${[...determinations].join(', ') || 'none'})`),
      );
      const clockIds = r.clocks.map((c) => c.id);
      const anchor = (from: string, path: (string | number)[]) => {
        const [kind, id] = from.split(':');
        if (kind === 'determination') need(determinations.has(id), path, `unknown determination "${id}"`);
        if (kind === 'filing') need(clockIds.includes(id), path, `no clock "${id}" in regime ${r.id} (clocks: ${clockIds.join(', ')})`);
      };
      r.clocks.forEach((c, j) => {
        c.owners.forEach((role, k) =>
          need(roles.has(role), ['regulatory', i, 'clocks', j, 'owners', k], `unknown role "${role}" (roles: ${knownRoles})`),
        );
        anchor(c.from, ['regulatory', i, 'clocks', j, 'from']);
        need(c.from !== `filing:${c.id}`, ['regulatory', i, 'clocks', j, 'from'], 'a clock cannot start from its own filing');
        if (c.notLaterThan) anchor(c.notLaterThan.from, ['regulatory', i, 'clocks', j, 'notLaterThan', 'from']);
        for (const [due, path] of [[c.due, 'due'], [c.notLaterThan?.due, 'notLaterThan']] as const)
          if (due && needsCalendar(due))
            need(!!c.calendar && Object.hasOwn(policy.calendars, c.calendar), ['regulatory', i, 'clocks', j, path], `"${due}" counts business days: name a calendar from calendars (${Object.keys(policy.calendars).join(', ') || 'none'})`);
      });
    });
    policy.recovery.criteria.forEach((c, i) =>
      c.signers.forEach((role, j) =>
        need(roles.has(role), ['recovery', 'criteria', i, 'signers', j], `unknown role "${role}" (roles: ${knownRoles})`),
      ),
    );
    const unique = (ids: string[], path: string) =>
      ids.forEach((id, i) => need(ids.indexOf(id) === i, [path, i], `duplicate id "${id}"`));
    unique(policy.queues.map((q) => q.id), 'queues');
    unique(policy.taxonomy.map((c) => c.id), 'taxonomy');
    unique(policy.recovery.criteria.map((c) => c.id), 'recovery');
    unique(policy.regulatory.map((r) => r.id), 'regulatory');
    unique(policy.determinations.map((d) => d.id), 'determinations');
    const t = policy.severity.thresholds;
    need(t.SEV1 > t.SEV2 && t.SEV2 > t.SEV3, ['severity', 'thresholds'], 'thresholds must fall from SEV1 to SEV3');
    unique(policy.severity.signals.map((x) => x.id), 'severity.signals');
  });

export type Policy = z.infer<typeof PolicySchema>;
export type RecoveryCriterion = Policy['recovery']['criteria'][number];
export type Queue = Policy['queues'][number];
export type Category = Policy['taxonomy'][number];

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`policy ${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyError';
  }
}

/** Validate a policy object, throwing a PolicyError that lists every problem with its path. */
export function validatePolicy(raw: unknown, source = '(inline)'): Policy {
  const result = PolicySchema.safeParse(raw);
  if (!result.success)
    throw new PolicyError(
      source,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  return result.data;
}

/** Read policy YAML (or JSON, which is YAML) text into a raw object, not yet validated. */
export function readPolicyText(text: string, source = '(inline)'): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PolicyError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PolicyError(source, ['the policy must be a YAML mapping']);
  return raw as Record<string, unknown>;
}

/** Parse and validate policy text. */
export function parsePolicy(text: string, source = '(inline)'): Policy {
  return validatePolicy(readPolicyText(text, source), source);
}

/**
 * An overlay policy (one with `extends: base.yaml`) over its base: mappings merge key by key,
 * everything else (lists, values) the overlay replaces.
 */
export function overlayPolicy(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (key === 'extends') continue;
    const under = merged[key];
    const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
    merged[key] = isMap(under) && isMap(value) ? overlayPolicy(under, value) : value;
  }
  return merged;
}

/**
 * A per-name entry of a policy map (per source, per category…), or the map's "default" entry.
 * Only the map's own keys count: a report naming its source "constructor" gets the default.
 */
export function entryFor<T>(map: Record<string, T>, name: string | undefined): T | undefined {
  if (name !== undefined && Object.hasOwn(map, name)) return map[name];
  return Object.hasOwn(map, 'default') ? map.default : undefined;
}

/** Lower rank is more severe: SEV1 → 1. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity) + 1;
}

export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) <= severityRank(threshold);
}

export function rolesOf(policy: Policy, actor: string): string[] {
  return Object.entries(policy.roles)
    .filter(([, role]) => role.members.includes(actor))
    .map(([id]) => id);
}

/** Whether `actor` holds one of `roles`; the reason when not. */
export function authorize(policy: Policy, actor: string, roles: string[], what: string): string | undefined {
  if (!actor) return `${what}: the actor is required`;
  const held = rolesOf(policy, actor);
  if (held.some((role) => roles.includes(role))) return undefined;
  return `${actor} may not ${what}: the policy allows ${roles.join(' or ')}${held.length ? `, and ${actor} is ${held.join(', ')}` : `, and ${actor} holds no role`}`;
}

/** The Warden id for a Slack user: the person whose `slack` is that id, else the Slack id itself. */
export function personForSlackUser(policy: Policy, slackUserId: string): string {
  return Object.entries(policy.people).find(([, p]) => p.slack === slackUserId)?.[0] ?? slackUserId;
}

export function findAsset(policy: Policy, assetId: string): Policy['assets'][number] | undefined {
  return (
    policy.assets.find((a) => a.id === assetId) ??
    policy.assets.find((a) => a.id.endsWith('*') && assetId.startsWith(a.id.slice(0, -1)))
  );
}
