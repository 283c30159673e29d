/**
 * One service's (or one version's) contract: its OpenAPI document loaded, operations
 * indexed, every validator compiled up front (so a broken schema is reported at load
 * time), and the names of its secrets. A spec from the `SpecCache` compiled before,
 * unchanged: its validators are compiled by `compileAll` (the mesh calls it once it is
 * up), or each when first needed.
 */
import { ConfigError } from '../config/config-error.js';
import { displayPath } from '../config/display-path.js';
import { OperationIndex, type DocPath, type Operation } from './operations.js';
import { resolveRef, valueAt } from './pointer.js';
import { SchemaValidators, type SchemaCheck } from './schema-validators.js';
import { loadSpec, type JsonObject, type LoadedSpec } from './spec-load.js';
import { Redactor } from './violation.js';
import { SpecCache } from './spec-cache.js';

/** Where parameters travel. */
type ParameterPlace = 'path' | 'query' | 'header' | 'cookie';

/** A compiled contract. */
export class Contract {
  readonly index: OperationIndex;
  readonly validators: SchemaValidators;
  readonly redactor: Redactor;

  constructor(readonly spec: LoadedSpec) {
    this.index = new OperationIndex(spec.doc);
    this.validators = new SchemaValidators(spec);
    this.redactor = new Redactor(secretNames(spec.doc));
    if (!spec.cached) this.compileAll();
  }

  /** The spec's file. */
  get file(): string {
    return this.spec.file;
  }

  /** Every declared `METHOD /template STATUS` pair, for coverage (worked out once). */
  get declaredPairs(): readonly string[] {
    this.pairs ??= this.index.operations.flatMap((op) =>
      op.responses.map((response) => `${op.key} ${response.key}`),
    );
    return this.pairs;
  }

  private pairs: string[] | undefined;
  private compiled = false;

  private readonly parameterChecks = new WeakMap<
    Operation,
    Partial<Record<ParameterPlace, SchemaCheck>>
  >();

  /** The validator of a parameter location of `operation` (built once, then looked up). */
  parameterCheck(operation: Operation, where: ParameterPlace): SchemaCheck {
    let checks = this.parameterChecks.get(operation);
    if (!checks) this.parameterChecks.set(operation, (checks = {}));
    return (checks[where] ??= this.buildParameterCheck(operation, where));
  }

  private buildParameterCheck(
    operation: Operation,
    where: 'path' | 'query' | 'header' | 'cookie',
  ): SchemaCheck {
    const params = operation.parameters.filter(
      (p) => p.in === where && !ignoredHeader(p.name, where),
    );
    return this.validators.parameters(
      `${operation.key}|${where}`,
      params.map((p) => ({
        name: where === 'header' ? p.name.toLowerCase() : p.name,
        path: p.schemaPath,
        required: p.required,
      })),
    );
  }

  /** The validator of a response's headers. */
  responseHeaderCheck(operation: Operation, responseKey: string) {
    const response = operation.responses.find((r) => r.key === responseKey);
    return this.validators.parameters(
      `${operation.key}|response ${responseKey}|header`,
      (response?.headers ?? []).map((h) => ({
        name: h.name,
        path: h.schemaPath,
        required: h.required,
      })),
    );
  }

  /**
   * Compiles every validator the request path can ask for (those compiled already are
   * kept); a broken schema is a ConfigError.
   */
  compileAll(): void {
    if (this.compiled) return;
    const compile = (what: string, build: () => unknown) => {
      try {
        build();
      } catch (error) {
        throw new ConfigError([
          {
            file: displayPath(this.spec.file),
            line: 0,
            column: 0,
            path: what,
            message: `schema does not compile: ${(error as Error).message}`,
            hint: 'fix the schema (ajv could not compile it)',
          },
        ]);
      }
    };
    for (const op of this.index.operations) {
      for (const where of ['path', 'query', 'header', 'cookie'] as const) {
        compile(`${op.key} ${where} parameters`, () => this.parameterCheck(op, where));
      }
      for (const media of op.body?.content ?? []) {
        if (!media.schemaPath) continue;
        compile(`${op.key} request body`, () =>
          this.bodyCheck('request', media.type, media.schemaPath!),
        );
      }
      for (const response of op.responses) {
        compile(`${op.key} ${response.key} headers`, () =>
          this.responseHeaderCheck(op, response.key),
        );
        for (const media of response.content) {
          if (!media.schemaPath) continue;
          compile(`${op.key} ${response.key} body`, () =>
            this.bodyCheck('response', media.type, media.schemaPath!),
          );
        }
      }
    }
    this.compiled = true;
  }

  /** The validator of a body; form bodies are coerced from strings like parameters. */
  bodyCheck(direction: 'request' | 'response', mediaType: string, path: DocPath) {
    const form = mediaType.startsWith('application/x-www-form-urlencoded');
    return this.validators.at(form ? 'parameters' : direction, path);
  }
}

/** Loads and compiles the contract in `file`; a new or changed spec that compiles is cached. */
export async function loadContract(
  file: string,
  cache: SpecCache = new SpecCache(),
): Promise<Contract> {
  const spec = await loadSpec(file, cache);
  const contract = new Contract(spec);
  if (!spec.cached) await cache.store(spec);
  return contract;
}

/** `Accept`, `Content-Type` and `Authorization` header parameters are ignored, as OpenAPI says. */
function ignoredHeader(name: string, where: string): boolean {
  return (
    where === 'header' && ['accept', 'content-type', 'authorization'].includes(name.toLowerCase())
  );
}

/** Property names the spec marks `format: password` or `writeOnly`, and apiKey names. */
function secretNames(doc: JsonObject): Set<string> {
  const names = new Set<string>();
  const seen = new Set<object>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const object = node as JsonObject;
    const properties = object.properties;
    if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
      for (const [name, schema] of Object.entries(properties as JsonObject)) {
        const ref = (schema as { $ref?: unknown })?.$ref;
        const resolved =
          typeof ref === 'string' && ref.startsWith('#')
            ? resolveRef(doc, ref.slice(2).split('/').map(unescape))?.value
            : (schema as JsonObject);
        if (resolved?.format === 'password' || resolved?.writeOnly === true) names.add(name);
      }
    }
    for (const child of Object.values(object)) walk(child);
  };
  walk(doc);
  const schemes = valueAt(doc, ['components', 'securitySchemes']) as JsonObject | undefined;
  for (const scheme of Object.values(schemes ?? {}) as JsonObject[]) {
    if (scheme?.type === 'apiKey' && typeof scheme.name === 'string') names.add(scheme.name);
  }
  return names;
}

function unescape(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}
