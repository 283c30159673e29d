/**
 * The operations of one OpenAPI document, indexed for matching requests: path templates
 * compiled to regular expressions (concrete paths before templated ones, as OpenAPI
 * says), parameters merged from path and operation level, `$ref`s resolved to the paths
 * their schemas live at (validators are compiled per path).
 */
import { resolveRef, valueAt } from './pointer.js';
import { escapeRegex } from '../lib/regex.js';
import type { JsonObject } from './spec-load.js';

/** A path in the bundled document. */
export type DocPath = (string | number)[];

/** One parameter of an operation (or one header of a response). */
export interface ParameterSpec {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  deprecated: boolean;
  style: string;
  explode: boolean;
  /** Where its schema lives (or its `content` media type's schema). */
  schemaPath?: DocPath;
  /** The resolved schema's `type`, to deserialize arrays and objects. */
  type?: string;
  /** Property names of an object schema (form-exploded objects read them as keys). */
  properties?: string[];
  /** Parameters with `content: {application/json: …}` carry JSON. */
  json: boolean;
}

/** One declared media type and its schema. */
export interface MediaSpec {
  type: string;
  /** Where the Media Type Object lives (its `example`, `examples`). */
  path: DocPath;
  schemaPath?: DocPath;
}

/** One declared response: `200`, `2XX` or `default`. */
export interface ResponseSpec {
  key: string;
  content: MediaSpec[];
  headers: ParameterSpec[];
}

/** A scheme of `components.securitySchemes`, reduced to where its credential travels. */
export type SecurityScheme =
  | { kind: 'apiKey'; in: 'header' | 'query' | 'cookie'; name: string }
  | { kind: 'http'; scheme: string }
  | { kind: 'bearer' }
  | { kind: 'other' };

/** Alternatives (any one suffices), each a set of schemes that must all be present. */
export type SecurityAlternatives = Array<Array<{ name: string; scheme: SecurityScheme }>>;

/** One operation: `GET /users/{id}`. */
export interface Operation {
  /** `GET /users/{id}`: how reports name it. */
  key: string;
  operationId?: string;
  method: string;
  template: string;
  parameters: ParameterSpec[];
  body?: { required: boolean; content: MediaSpec[] };
  responses: ResponseSpec[];
  /** Undefined or empty: no credential required. */
  security?: SecurityAlternatives;
  deprecated: boolean;
}

/** What matching a request against the document found. */
export type OperationMatch =
  | { kind: 'operation'; operation: Operation; pathParams: Record<string, string> }
  | { kind: 'unknown-path' }
  | { kind: 'unknown-method'; template: string };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface CompiledTemplate {
  template: string;
  regex: RegExp;
  names: string[];
  operations: Map<string, Operation>;
}

/** All operations of one document. */
export class OperationIndex {
  readonly operations: readonly Operation[];
  private readonly templates: CompiledTemplate[];
  private readonly bases: string[];

  /** The path of the document's first server (`/v1`), or '' — where requests to it go. */
  get basePath(): string {
    return this.bases[0]!;
  }

  constructor(doc: JsonObject) {
    this.bases = serverBasePaths(doc);
    const schemes = securitySchemes(doc);
    const globalSecurity = doc.security;
    const templates: CompiledTemplate[] = [];
    const operations: Operation[] = [];
    for (const [template, rawItem] of Object.entries((doc.paths ?? {}) as JsonObject)) {
      const item = resolveRef(doc, ['paths', template]);
      if (!item || !rawItem) continue;
      const shared = parameters(doc, [...item.path, 'parameters']);
      const compiled = compileTemplate(template);
      for (const method of METHODS) {
        const op = item.value[method] as JsonObject | undefined;
        if (!op || typeof op !== 'object') continue;
        const opPath = [...item.path, method];
        const own = parameters(doc, [...opPath, 'parameters']);
        const merged = new Map(shared.map((p) => [`${p.in}:${p.name}`, p]));
        for (const p of own) merged.set(`${p.in}:${p.name}`, p);
        const operation: Operation = {
          key: `${method.toUpperCase()} ${template}`,
          operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
          method: method.toUpperCase(),
          template,
          parameters: [...merged.values()],
          body: requestBody(doc, [...opPath, 'requestBody']),
          responses: responses(doc, [...opPath, 'responses']),
          security: security(op.security ?? globalSecurity, schemes),
          deprecated: op.deprecated === true,
        };
        compiled.operations.set(operation.method, operation);
        operations.push(operation);
      }
      templates.push(compiled);
    }
    // Concrete paths first, then fewer parameters, then longer templates.
    templates.sort(
      (a, b) => a.names.length - b.names.length || b.template.length - a.template.length,
    );
    this.templates = templates;
    this.operations = operations;
  }

  /** The methods one path template declares, in the document's order (a 405's `Allow`). */
  methodsOf(template: string): string[] {
    const found = this.templates.find((compiled) => compiled.template === template);
    return found ? [...found.operations.keys()] : [];
  }

  /** The operation `method pathname` calls, or why there is none. */
  match(method: string, pathname: string): OperationMatch {
    let pathKnown: string | undefined;
    for (const base of this.bases) {
      if (base && !(pathname === base || pathname.startsWith(base + '/'))) continue;
      const rest = base ? pathname.slice(base.length) || '/' : pathname;
      for (const template of this.templates) {
        const found = template.regex.exec(rest);
        if (!found) continue;
        const operation = template.operations.get(method.toUpperCase());
        if (!operation) {
          pathKnown ??= template.template;
          continue;
        }
        const pathParams: Record<string, string> = {};
        template.names.forEach((name, index) => (pathParams[name] = safeDecode(found[index + 1]!)));
        return { kind: 'operation', operation, pathParams };
      }
    }
    return pathKnown ? { kind: 'unknown-method', template: pathKnown } : { kind: 'unknown-path' };
  }
}

function compileTemplate(template: string): CompiledTemplate {
  const names: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (!param) return escapeRegex(part);
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('');
  return { template, regex: new RegExp(`^${source}/?$`), names, operations: new Map() };
}

/** Path parts of `servers[].url` (`https://api.example.com/v1` → `/v1`); `''` always tried last. */
function serverBasePaths(doc: JsonObject): string[] {
  const bases = new Set<string>();
  for (const server of (Array.isArray(doc.servers) ? doc.servers : []) as JsonObject[]) {
    const url = typeof server?.url === 'string' ? server.url : '';
    const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/\{[^}]*\}/g, '');
    const trimmed = path.replace(/\/+$/, '');
    if (trimmed.startsWith('/')) bases.add(trimmed);
  }
  bases.add('');
  return [...bases];
}

function parameters(doc: JsonObject, path: DocPath): ParameterSpec[] {
  const list = valueAt(doc, path);
  if (!Array.isArray(list)) return [];
  const out: ParameterSpec[] = [];
  list.forEach((_, index) => {
    const resolved = resolveRef(doc, [...path, index]);
    if (!resolved) return;
    const spec = parameter(doc, resolved.value, resolved.path);
    if (spec) out.push(spec);
  });
  return out;
}

function parameter(doc: JsonObject, raw: JsonObject, path: DocPath): ParameterSpec | undefined {
  const where = raw.in as ParameterSpec['in'];
  if (typeof raw.name !== 'string' || !['path', 'query', 'header', 'cookie'].includes(where)) {
    return undefined;
  }
  return headerLike(doc, raw, path, raw.name, where);
}

/** A parameter or a response header: both are described the same way. */
function headerLike(
  doc: JsonObject,
  raw: JsonObject,
  path: DocPath,
  name: string,
  where: ParameterSpec['in'],
): ParameterSpec {
  const defaultStyle = where === 'query' || where === 'cookie' ? 'form' : 'simple';
  const style = typeof raw.style === 'string' ? raw.style : defaultStyle;
  const content = raw.content as JsonObject | undefined;
  const mediaType = content ? Object.keys(content)[0] : undefined;
  const schemaPath = raw.schema
    ? [...path, 'schema']
    : mediaType && (content![mediaType] as JsonObject)?.schema
      ? [...path, 'content', mediaType, 'schema']
      : undefined;
  const schema = schemaPath ? resolveRef(doc, schemaPath)?.value : undefined;
  return {
    name,
    in: where,
    required: raw.required === true || where === 'path',
    deprecated: raw.deprecated === true,
    style,
    explode: typeof raw.explode === 'boolean' ? raw.explode : style === 'form',
    schemaPath,
    type: schemaType(schema),
    properties:
      schema?.properties && typeof schema.properties === 'object'
        ? Object.keys(schema.properties)
        : undefined,
    json: mediaType !== undefined && /json/.test(mediaType),
  };
}

function schemaType(schema: JsonObject | undefined): string | undefined {
  if (!schema) return undefined;
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null') as string;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  return undefined;
}

function mediaTypes(doc: JsonObject, path: DocPath): MediaSpec[] {
  const content = valueAt(doc, path);
  if (!content || typeof content !== 'object') return [];
  return Object.entries(content as JsonObject).map(([type, media]) => ({
    type: type.toLowerCase(),
    path: [...path, type],
    schemaPath:
      media && typeof media === 'object' && 'schema' in media
        ? [...path, type, 'schema']
        : undefined,
  }));
}

function requestBody(doc: JsonObject, path: DocPath): Operation['body'] {
  const resolved = resolveRef(doc, path);
  if (!resolved) return undefined;
  return {
    required: resolved.value.required === true,
    content: mediaTypes(doc, [...resolved.path, 'content']),
  };
}

function responses(doc: JsonObject, path: DocPath): ResponseSpec[] {
  const all = valueAt(doc, path);
  if (!all || typeof all !== 'object') return [];
  return Object.keys(all).map((key) => {
    const resolved = resolveRef(doc, [...path, key]);
    const headersPath = resolved ? [...resolved.path, 'headers'] : [];
    const headers = resolved ? (valueAt(doc, headersPath) as JsonObject | undefined) : undefined;
    return {
      key: key.toUpperCase(),
      content: resolved ? mediaTypes(doc, [...resolved.path, 'content']) : [],
      headers: Object.keys(headers ?? {})
        .filter((name) => name.toLowerCase() !== 'content-type')
        .flatMap((name) => {
          const header = resolveRef(doc, [...headersPath, name]);
          return header
            ? [headerLike(doc, header.value, header.path, name.toLowerCase(), 'header')]
            : [];
        }),
    };
  });
}

function securitySchemes(doc: JsonObject): Map<string, SecurityScheme> {
  const out = new Map<string, SecurityScheme>();
  const schemes = valueAt(doc, ['components', 'securitySchemes']) as JsonObject | undefined;
  for (const name of Object.keys(schemes ?? {})) {
    const scheme = resolveRef(doc, ['components', 'securitySchemes', name])?.value;
    if (!scheme) continue;
    if (scheme.type === 'apiKey' && typeof scheme.name === 'string') {
      out.set(name, { kind: 'apiKey', in: scheme.in as 'header', name: scheme.name });
    } else if (scheme.type === 'http') {
      out.set(name, { kind: 'http', scheme: String(scheme.scheme ?? '').toLowerCase() });
    } else if (scheme.type === 'oauth2' || scheme.type === 'openIdConnect') {
      out.set(name, { kind: 'bearer' });
    } else {
      out.set(name, { kind: 'other' });
    }
  }
  return out;
}

function security(
  raw: unknown,
  schemes: Map<string, SecurityScheme>,
): SecurityAlternatives | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.map((requirement: JsonObject) =>
    Object.keys(requirement ?? {}).map((name) => ({
      name,
      scheme: schemes.get(name) ?? { kind: 'other' as const },
    })),
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
