/**
 * The API's routes, as data: method, path, parameters, body schema and handler. The router
 * serves exactly these, and the OpenAPI document is generated from them (src/api/openapi.ts), so
 * the two cannot drift apart.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod/v4';
import { type Policy, RESOLUTIONS, SEVERITIES, STAGES } from '../domain';
import { type ActionInputs, type ActionName, fetchCase, listCases, performAction } from './cases';
import { openApiDocument } from './openapi';

export const API_PREFIX = '/api/v1';

export interface RouteContext<Q = Record<string, unknown>, B = unknown> {
  client: Client;
  policy: Policy;
  /** The authenticated person (empty on an unauthenticated route). */
  identity: string;
  params: Record<string, string>;
  query: Q;
  body: B;
}

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** Under API_PREFIX, with `{name}` path parameters as OpenAPI writes them. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  authenticated: boolean;
  query?: z.ZodObject;
  body?: z.ZodObject;
  /** The 200 answer: its description and a JSON Schema (or $ref) for it. */
  ok: { description: string; schema: Record<string, unknown> };
  /** The error statuses this route can answer besides 401/403/503 (which every authenticated route can). */
  errors: number[];
  handle(ctx: RouteContext<any, any>): Promise<unknown>;
}

function route<Q extends z.ZodObject, B extends z.ZodObject>(
  r: Omit<ApiRoute, 'handle' | 'query' | 'body'> & {
    query?: Q;
    body?: B;
    handle(ctx: RouteContext<z.infer<Q>, z.infer<B>>): Promise<unknown>;
  },
): ApiRoute {
  return r as ApiRoute;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const text = (what: string, max = 2_000) => z.string().trim().min(1, `${what} is required`).max(max);
const reason = text('a reason');
const term = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, dashes');

export const CaseListQuery = z
  .object({
    stage: z.enum(STAGES).optional().describe('only cases in this stage (WardenStatus)'),
    severity: z.enum(SEVERITIES).optional().describe('only cases of this severity (WardenSeverity)'),
    category: term.optional().describe('only cases of this category (WardenCategory)'),
    queue: term.optional().describe('only cases owned by this queue (WardenQueue)'),
    all: z.enum(['true', 'false']).optional().describe('true: closed cases too (default: open cases only)'),
    problems: z.enum(['true', 'false']).optional().describe('true: only cases the server reports stuck (TemporalReportedProblems), see warden repair'),
    limit: z.coerce.number().int().min(1).max(1_000).optional().describe('at most this many cases (default 200)'),
  })
  .strict();

/** The body each action takes: the CLI's options, never the actor (that is the authenticated caller). */
export const ACTION_BODIES: { [A in ActionName]: z.ZodObject } = {
  acknowledge: z.object({}).strict(),
  confirm: z.object({ note: text('a note', 2_000).optional().describe('why the proposal stands') }).strict(),
  assign: z.object({ assignee: text('the assignee', 200).describe('the person to assign') }).strict(),
  escalate: z.object({ reason }).strict(),
  deescalate: z.object({ reason }).strict(),
  override: z
    .object({
      reason,
      category: term.optional().describe('the category id (from the policy taxonomy)'),
      severity: z.enum(SEVERITIES).optional(),
    })
    .strict()
    .refine((b) => b.category || b.severity, 'give a category, a severity, or both'),
  signoff: z.object({ criterion: text('the criterion', 200).describe('a recovery criterion id'), note: z.string().max(2_000).optional() }).strict(),
  close: z
    .object({
      reason,
      resolution: z.enum(RESOLUTIONS).optional().describe('default resolved'),
      review: z
        .object({
          summary: z.string().max(5_000).optional(),
          rootCause: z.string().max(5_000).optional(),
          impact: z.string().max(5_000).optional(),
          lessons: z.string().max(5_000).optional(),
          followUps: z.array(z.object({ action: z.string().min(1).max(500), owner: z.string().min(1).max(200), due: z.string().max(40).optional() }).strict()).max(100).optional(),
        })
        .strict()
        .optional()
        .describe('the post-incident review: required (fields per policy) to close a declared incident as resolved'),
    })
    .strict(),
  file: z
    .object({
      clock: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'a clock key such as gdpr-art33/notify-authority').describe('the regulatory clock, <regime>/<clock>'),
      reference: text('the filing reference', 500).describe("the authority's case number or submission receipt"),
    })
    .strict(),
  determine: z
    .object({
      determination: term.describe('a determination id from the policy (e.g. material)'),
      decision: z.boolean().describe('true: made; false: decided against'),
      reason,
      at: z.iso.datetime({ offset: true }).optional().describe('when it was made, if earlier than now; clocks count from this'),
    })
    .strict(),
  scope: z
    .object({
      reason,
      affected: z.number().int().min(0).optional().describe('individuals affected, as counted so far'),
      jurisdictions: z.array(z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,6})*$/, 'a jurisdiction code such as EU, US-CA or EU-DE')).min(1).max(50).optional(),
    })
    .strict()
    .refine((b) => b.affected !== undefined || b.jurisdictions, 'give affected, jurisdictions, or both'),
  addParty: z.object({ party: term.describe('a party id from the response plan'), reason: z.string().max(2_000).optional() }).strict(),
  acknowledgeParty: z.object({ party: term, reason: z.string().max(2_000).optional().describe('how it was acknowledged') }).strict(),
  releaseParty: z.object({ party: term, reason }).strict(),
  recordEvidence: z
    .object({
      description: text('a description'),
      collectedFrom: text('where it was collected from', 500),
      sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the SHA-256 hex digest of the stored body'),
      storageRef: text('the storage reference', 2_000).describe('where the body is kept (outside Warden)'),
      collectedAt: z.iso.datetime({ offset: true }).optional(),
      step: z.number().int().min(1).optional().describe("the forensic plan's step it answers"),
    })
    .strict(),
  transferCustody: z.object({ item: z.string().regex(/^E\d+$/, 'an evidence item id such as E1'), to: text('the recipient', 200), reason }).strict(),
};

const ACTION_SUMMARIES: { [A in ActionName]: string } = {
  acknowledge: 'Acknowledge the case',
  confirm: 'Confirm the triage Warden proposed (category, severity, page, or closing as a false alarm)',
  assign: 'Assign a person to the case',
  escalate: 'Escalate the case',
  deescalate: 'De-escalate the case',
  override: 'Overrule the automated category and/or severity',
  signoff: 'Sign off a recovery criterion',
  close: 'Close the case',
  file: 'Record a regulatory filing (stops its clock)',
  determine: 'Record a determination (e.g. materiality) that regulatory regimes wait on',
  scope: "Record the incident's scope: individuals affected, jurisdictions reached",
  addParty: 'Bring in a third party of the response plan',
  acknowledgeParty: "Record a third party's acknowledgement",
  releaseParty: 'Release a third party from the incident',
  recordEvidence: 'Record a collected evidence item (hash and storage reference)',
  transferCustody: 'Hand an evidence item to someone else (chain of custody)',
};

/** The path segment of an action: its name in kebab case (acknowledgeParty → acknowledge-party). */
export const actionPath = (action: ActionName) => action.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const caseId = { id: 'a case id (WRD-…) or its workflow id (case-WRD-…)' };

export const ROUTES: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    authenticated: false,
    ok: { description: 'the OpenAPI 3.1 document', schema: { type: 'object' } },
    errors: [],
    handle: async () => openApiDocument(),
  }),
  route({
    method: 'GET',
    path: '/cases',
    operationId: 'listCases',
    summary: 'List cases',
    description: 'Open cases by default, found through Temporal visibility by the search attributes the cases keep current.',
    authenticated: true,
    query: CaseListQuery,
    ok: { description: 'the cases', schema: { type: 'object', properties: { cases: { type: 'array', items: ref('CaseListRow') } }, required: ['cases'] } },
    errors: [400],
    handle: async ({ client, query }) => ({
      cases: await listCases(client, { ...query, all: query.all === 'true', problems: query.problems === 'true', limit: query.limit ?? 200 }),
    }),
  }),
  route({
    method: 'GET',
    path: '/cases/{id}',
    operationId: 'getCase',
    summary: 'Show a case',
    description: `The case view: stage, severity, category, recovery criteria and the timeline. ${caseId.id}.`,
    authenticated: true,
    ok: { description: 'the case view', schema: ref('CaseView') },
    errors: [404, 409],
    handle: ({ client, params }) => fetchCase(client, params.id),
  }),
  ...(Object.keys(ACTION_BODIES) as ActionName[]).map((action) =>
    route({
      method: 'POST',
      path: `/cases/{id}/${actionPath(action)}`,
      operationId: `${action}Case`,
      summary: ACTION_SUMMARIES[action],
      description:
        'Taken as the authenticated caller. The case refuses (403, with the reason, nothing changed) what the policy does not allow that person or what the case\'s stage does not allow.',
      authenticated: true,
      body: ACTION_BODIES[action],
      ok: { description: 'the case view after the action', schema: ref('CaseView') },
      errors: [400, 404, 409],
      handle: ({ client, params, identity, body }) => performAction(client, params.id, action, identity, body as ActionInputs[typeof action]),
    }),
  ),
];
