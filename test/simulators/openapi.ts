/**
 * Request (and response) validation against a vendor's published OpenAPI 3.0 document, with ajv.
 *
 * The simulators call `validateRequest` on every request they receive and record what it returns
 * as contract violations; tests call `validateResponse` to check that a simulator answers in the
 * shapes the vendor documents.
 *
 * What it covers:
 *   - the operation for method + path, path templates included (`/v2/incidents/{id}/actions/edit`),
 *     with the server URL's base path stripped (PagerDuty's server is `https://events.pagerduty.com/v2`);
 *   - the JSON request body against the operation's requestBody schema (required or not, media type);
 *   - query parameters: required ones present, no unknown ones, values against their schema (strings
 *     coerced to integer/number/boolean; arrays from repeated keys; objects from `name[key]=value`);
 *   - path parameters against their schema;
 *   - responses: status (exact, `5XX`, `default`) and JSON body against the documented schema.
 *
 * OpenAPI 3.0 is not JSON Schema: schemas are converted first. `nullable: true` becomes a union
 * with null (also for enums and `$ref`s), `$ref` siblings are dropped (OpenAPI 3.0 ignores them),
 * `#/components/schemas/*` references point into one registered schema per document, and
 * `format: url` is an absolute http(s)/ftp URL (see the constructor), and formats ajv-formats does
 * not know are accepted unchecked (listed in `uncheckedFormats`).
 * Headers, cookies, security requirements and non-JSON bodies are not checked here.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
}

export interface ResolvedOperation {
  method: string;
  /** The path template as the document spells it (`/v2/incidents/{id}`). */
  template: string;
  operationId?: string;
  pathParams: Record<string, string>;
}

export interface RequestToValidate {
  method: string;
  /** The request path, with or without the server's base path; a query string is allowed. */
  path: string;
  query?: URLSearchParams;
  /** The content-type header, when a body was sent. */
  contentType?: string;
  /** The parsed JSON body; undefined when there was none. */
  body?: unknown;
}

let documents = 0;

export class OpenApiValidator {
  readonly uncheckedFormats = new Set<string>();
  private readonly ajv: Ajv;
  private readonly docId: string;
  private readonly basePath: string;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; segments: string[] }[];

  static load(file: string): OpenApiValidator {
    return new OpenApiValidator(JSON.parse(readFileSync(file, 'utf8')) as JsonObject);
  }

  constructor(readonly doc: JsonObject) {
    if (typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.')) throw new Error('not an OpenAPI 3 document');
    this.docId = `urn:openapi:${++documents}`;
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    // `url` is in neither JSON Schema's nor OpenAPI's format registry. ajv-formats' `url` is a
    // public-web-address pattern that refuses localhost and private addresses, which no vendor
    // document asks for; here it means an absolute http(s) or ftp URL, as the WHATWG parser reads it.
    this.ajv.addFormat('url', (value: string) => {
      try {
        return /^(https?|ftp):$/.test(new URL(value).protocol);
      } catch {
        return false;
      }
    });
    const schemas = ((doc.components as JsonObject | undefined)?.schemas ?? {}) as JsonObject;
    const definitions: JsonObject = {};
    for (const [name, schema] of Object.entries(schemas)) definitions[name] = this.convert(schema);
    this.ajv.addSchema({ $id: this.docId, definitions });
    const server = ((doc.servers as JsonObject[] | undefined)?.[0]?.url as string | undefined) ?? '/';
    this.basePath = new URL(server, 'http://base.invalid').pathname.replace(/\/$/, '');
    this.templates = Object.keys(doc.paths as JsonObject)
      .map((template) => ({ template, segments: template.split('/') }))
      // literal segments win over templates: /a/b before /a/{id}
      .sort((a, b) => templateCount(a.segments) - templateCount(b.segments));
  }

  /** The operation that serves method + path, or undefined. */
  operation(method: string, rawPath: string): ResolvedOperation | undefined {
    const m = method.toLowerCase();
    const path = this.stripBase(rawPath.split('?')[0]);
    const segments = path.split('/');
    for (const { template, segments: parts } of this.templates) {
      if (parts.length !== segments.length) continue;
      const pathParams: Record<string, string> = {};
      let match = true;
      for (let i = 0; i < parts.length && match; i++) {
        const param = /^\{(.+)\}$/.exec(parts[i]);
        if (param) {
          if (!segments[i]) match = false;
          else pathParams[param[1]] = decodeURIComponent(segments[i]);
        } else if (parts[i] !== segments[i]) match = false;
      }
      if (!match) continue;
      const op = (this.doc.paths as JsonObject)[template] as JsonObject;
      if (!op[m]) continue;
      return { method: m, template, operationId: (op[m] as JsonObject).operationId as string | undefined, pathParams };
    }
    return undefined;
  }

  /** Every way the request departs from the document; empty when it conforms. */
  validateRequest(req: RequestToValidate): string[] {
    const resolved = this.operation(req.method, req.path);
    if (!resolved) return [`${req.method.toUpperCase()} ${req.path}: no such operation in the document`];
    const where = `${resolved.method.toUpperCase()} ${resolved.template}`;
    const pathItem = (this.doc.paths as JsonObject)[resolved.template] as JsonObject;
    const op = pathItem[resolved.method] as JsonObject;
    const errors: string[] = [];

    const params = new Map<string, Parameter>();
    for (const p of [...((pathItem.parameters as Json[]) ?? []), ...((op.parameters as Json[]) ?? [])]) {
      const param = this.deref(p as JsonObject) as unknown as Parameter;
      params.set(`${param.in}:${param.name}`, param);
    }
    for (const param of params.values())
      if (param.in === 'path' && param.schema)
        errors.push(...this.check(`${where}#path:${param.name}`, param.schema, resolved.pathParams[param.name], `path parameter ${param.name}`));

    const query = req.query ?? new URLSearchParams(req.path.includes('?') ? req.path.slice(req.path.indexOf('?') + 1) : '');
    const seen = new Set<string>();
    for (const key of query.keys()) {
      const name = key.replace(/\[.*$/, '');
      seen.add(name);
      if (!params.has(`query:${name}`)) errors.push(`${where}: unknown query parameter "${name}"`);
    }
    for (const param of params.values()) {
      if (param.in !== 'query') continue;
      if (!seen.has(param.name)) {
        if (param.required) errors.push(`${where}: query parameter "${param.name}" is required`);
        continue;
      }
      if (param.schema)
        errors.push(...this.check(`${where}#query:${param.name}`, param.schema, queryValue(query, param.name, param.schema), `query parameter ${param.name}`));
    }

    const requestBody = op.requestBody ? (this.deref(op.requestBody as JsonObject) as JsonObject) : undefined;
    if (!requestBody) {
      if (req.body !== undefined) errors.push(`${where}: the operation takes no request body`);
      return errors;
    }
    if (req.body === undefined) {
      if (requestBody.required) errors.push(`${where}: a request body is required`);
      return errors;
    }
    const content = requestBody.content as JsonObject;
    const media = mediaType(content, req.contentType);
    if (!media) {
      errors.push(`${where}: content-type "${req.contentType ?? '(none)'}" is not one of ${Object.keys(content).join(', ')}`);
      return errors;
    }
    const schema = (content[media] as JsonObject).schema as JsonObject | undefined;
    if (schema) errors.push(...this.check(`${where}#body`, schema, req.body, 'body'));
    return errors;
  }

  /** Every way a response departs from the document (status documented, JSON body against its schema). */
  validateResponse(method: string, path: string, status: number, body: unknown): string[] {
    const resolved = this.operation(method, path);
    if (!resolved) return [`${method.toUpperCase()} ${path}: no such operation in the document`];
    const where = `${resolved.method.toUpperCase()} ${resolved.template} → ${status}`;
    const op = ((this.doc.paths as JsonObject)[resolved.template] as JsonObject)[resolved.method] as JsonObject;
    const responses = op.responses as JsonObject;
    const key = [String(status), `${String(status)[0]}XX`, `${String(status)[0]}xx`, 'default'].find((k) => k in responses);
    if (!key) return [`${where}: status not documented (documented: ${Object.keys(responses).join(', ')})`];
    const response = this.deref(responses[key] as JsonObject) as JsonObject;
    const schema = ((response.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema as JsonObject | undefined;
    return schema ? this.check(`${where}#response`, schema, body, 'response') : [];
  }

  private check(cacheKey: string, schema: JsonObject, value: unknown, label: string): string[] {
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(this.convert(schema) as object);
      this.compiled.set(cacheKey, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${cacheKey.split('#')[0]}: ${label}${describe(e)}`);
  }

  private stripBase(path: string): string {
    return this.basePath && (path === this.basePath || path.startsWith(`${this.basePath}/`)) ? path.slice(this.basePath.length) || '/' : path;
  }

  /** Follow a `#/components/...` reference (parameters, request bodies, responses). */
  private deref(node: JsonObject): JsonObject {
    let current = node;
    for (let hops = 0; typeof current.$ref === 'string' && hops < 20; hops++) current = this.pointer(current.$ref);
    return current;
  }

  private pointer(ref: string): JsonObject {
    if (!ref.startsWith('#/')) throw new Error(`unsupported reference ${ref}: only references inside the document are resolved`);
    let node: Json = this.doc;
    for (const part of ref.slice(2).split('/')) {
      node = (node as JsonObject)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`unresolved reference ${ref}`);
    }
    return node as JsonObject;
  }

  /** OpenAPI 3.0 schema object → JSON Schema that ajv understands. */
  private convert(schema: Json): Json {
    if (Array.isArray(schema)) return schema.map((s) => this.convert(s));
    if (!schema || typeof schema !== 'object') return schema;
    if (typeof schema.$ref === 'string') {
      const ref = schema.$ref;
      const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
      if (!match) throw new Error(`unsupported schema reference ${ref}`);
      const converted: JsonObject = { $ref: `${this.docId}#/definitions/${match[1]}` };
      // OpenAPI 3.0 ignores $ref siblings; `nullable` next to a $ref is honoured, as most tools do.
      return schema.nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
    }
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'nullable' || key === 'example' || key === 'examples' || key === 'discriminator' || key === 'xml' || key === 'externalDocs' || key.startsWith('x-'))
        continue;
      if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
        out[key] = Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, this.convert(v)]));
      } else if (['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'].includes(key)) {
        out[key] = this.convert(value);
      } else {
        out[key] = value;
      }
    }
    if (typeof out.format === 'string' && !knownFormat(this.ajv, out.format)) {
      this.uncheckedFormats.add(out.format);
      this.ajv.addFormat(out.format, true);
    }
    if (schema.nullable === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      if (out.type === undefined && (out.allOf || out.anyOf || out.oneOf)) return { anyOf: [out, { type: 'null' }] };
    }
    return out;
  }
}

function templateCount(segments: string[]): number {
  return segments.filter((s) => s.startsWith('{')).length;
}

function knownFormat(ajv: Ajv, format: string): boolean {
  return Boolean((ajv as unknown as { formats: Record<string, unknown> }).formats[format]);
}

function mediaType(content: JsonObject, contentType: string | undefined): string | undefined {
  const keys = Object.keys(content);
  if (!contentType) return keys.find((k) => k === 'application/json');
  const base = contentType.split(';')[0].trim().toLowerCase();
  return keys.find((k) => k.toLowerCase() === base) ?? keys.find((k) => k === '*/*');
}

/** A query parameter's value, shaped like its schema wants it (query strings only carry text). */
function queryValue(query: URLSearchParams, name: string, schema: JsonObject): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object') {
    const value: Record<string, unknown> = {};
    for (const [key, v] of query.entries()) {
      const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\[([^\\]]+)\\](\\[\\])?$`).exec(key);
      if (!m) continue;
      const inner = (schema.additionalProperties as JsonObject | undefined)?.type;
      value[m[1]] = inner === 'array' ? [...((value[m[1]] as unknown[]) ?? []), v] : v;
    }
    return value;
  }
  const values = query.getAll(name);
  const coerce = (v: string, t: Json | undefined): unknown => {
    if (t === 'integer' || t === 'number') return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    if (t === 'boolean') return v === 'true' ? true : v === 'false' ? false : v;
    return v;
  };
  if (type === 'array') return values.flatMap((v) => v.split(',')).map((v) => coerce(v, (schema.items as JsonObject | undefined)?.type));
  if (values.length > 1) return values.map((v) => coerce(v, type));
  return coerce(values[0], type);
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '';
  if (e.keyword === 'additionalProperties') return `${at}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum') return `${at} ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${at} ${e.message ?? e.keyword}`;
}
