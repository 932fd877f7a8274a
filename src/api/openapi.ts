/**
 * The OpenAPI 3.1 document, generated from the route table (src/api/routes.ts): the router serves
 * it at GET /api/v1/openapi.json, and docs/openapi.json is this output, regenerated with
 *
 *   npx ts-node --transpile-only src/api/openapi.ts
 *
 * (test/api.test.ts fails when the committed file differs from what the routes generate).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod/v4';
import { RESOLUTIONS, SEVERITIES, STAGES } from '../domain';
import { API_PREFIX, type ApiRoute, ROUTES } from './routes';

const STATUS_TEXT: Record<number, string> = {
  400: 'the request is invalid: one reason per problem',
  401: 'no valid credentials (see the WWW-Authenticate header)',
  403: 'refused: the caller holds no role, or the case refused the action (the reason says why; nothing changed)',
  404: 'no such case',
  409: 'the case cannot take this now (closed, terminated or failed)',
  503: 'Temporal or the identity provider cannot be reached; retry later',
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** A body with required fields is required; one without (acknowledge) may be left out. */
function requestBody(schema: Record<string, unknown>): Record<string, unknown> {
  const required = Array.isArray(schema.required) && schema.required.length > 0;
  return { required, content: { 'application/json': { schema } } };
}

function operation(r: ApiRoute): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  for (const name of r.path.match(/\{(\w+)\}/g) ?? [])
    parameters.push({
      name: name.slice(1, -1),
      in: 'path',
      required: true,
      description: 'a case id (WRD-…) or its workflow id (case-WRD-…)',
      schema: { type: 'string' },
    });
  if (r.query) {
    const shape = jsonSchema(r.query) as { properties: Record<string, Record<string, unknown>>; required?: string[] };
    for (const [name, { description, ...schema }] of Object.entries(shape.properties))
      parameters.push({ name, in: 'query', required: shape.required?.includes(name) ?? false, ...(description ? { description } : {}), schema });
  }
  const errors = [...r.errors, ...(r.authenticated ? [401, 403, 503] : [])].sort((a, b) => a - b);
  return {
    operationId: r.operationId,
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(r.body ? { requestBody: requestBody(jsonSchema(r.body)) } : {}),
    responses: {
      200: { description: r.ok.description, content: { 'application/json': { schema: r.ok.schema } } },
      ...Object.fromEntries(
        errors.map((status) => [status, { description: STATUS_TEXT[status], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
      ),
    },
    security: r.authenticated ? [{ bearer: [] }] : [],
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Warden API',
      version: '1',
      description:
        'Security-incident cases for people and tools: list and read cases, and take the human actions on them as the authenticated caller. The case workflow enforces the policy (roles per action, signers per recovery criterion).',
    },
    servers: [{ url: API_PREFIX }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A static API token (WARDEN_API_TOKENS) or a JWT from the configured OIDC issuer (WARDEN_OIDC_*). The identity must be a person in the policy roles.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: { error: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } } },
          required: ['error'],
        },
        CaseListRow: {
          type: 'object',
          properties: {
            caseId: { type: 'string' },
            status: { type: 'string', description: 'the workflow status (RUNNING, COMPLETED, …)' },
            stage: { type: 'string' },
            severity: { type: 'string' },
            category: { type: 'string' },
            queue: { type: 'string' },
            openedAt: { type: 'string', format: 'date-time' },
            title: { type: 'string', description: "the first report's title, from the workflow memo" },
            problems: { type: 'array', items: { type: 'string' } },
          },
          required: ['caseId', 'status', 'stage', 'severity', 'category', 'queue', 'openedAt'],
        },
        CaseView: {
          type: 'object',
          description: 'The case as every surface renders it (the workflow query caseView, or a closed case result).',
          properties: {
            caseId: { type: 'string' },
            stage: { type: 'string', enum: [...STAGES] },
            severity: { type: 'string', enum: [...SEVERITIES] },
            title: { type: 'string' },
            escalated: { type: 'boolean' },
            acknowledgedBy: { type: 'string' },
            assignees: { type: 'array', items: { type: 'string' } },
            closure: {
              type: 'object',
              properties: { at: { type: 'string' }, by: { type: 'string' }, resolution: { type: 'string', enum: [...RESOLUTIONS] }, reason: { type: 'string' } },
            },
            evidenceCount: { type: 'integer' },
            openTasks: { type: 'array', items: { type: 'string' } },
            recovery: {
              type: 'array',
              items: {
                type: 'object',
                properties: { id: { type: 'string' }, passed: { type: 'boolean' }, by: { type: 'string' }, at: { type: 'string' }, detail: { type: 'string' } },
              },
            },
            timeline: {
              type: 'array',
              items: {
                type: 'object',
                properties: { at: { type: 'string', format: 'date-time' }, actor: { type: 'string' }, action: { type: 'string' }, reason: { type: 'string' } },
                required: ['at', 'actor', 'action'],
              },
            },
          },
          required: ['caseId', 'stage', 'timeline'],
          additionalProperties: true,
        },
      },
    },
  };
}

/** docs/openapi.json in the checkout (from src/api, or dist/src/api when built). */
export const OPENAPI_PATH = resolve(__dirname, __dirname.split('/').includes('dist') ? '../../..' : '../..', 'docs/openapi.json');

export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_PATH, openApiText());
  console.log(`wrote ${OPENAPI_PATH}`);
}
