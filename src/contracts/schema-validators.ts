/**
 * JSON Schema validators of one OpenAPI document, compiled with ajv once per schema path
 * and cached. OpenAPI 3.0 schemas get draft-04 semantics (boolean `exclusiveMinimum`,
 * `nullable`); 3.1 gets 2020-12 (`unevaluatedProperties`, `dependentRequired`) or the
 * dialect `jsonSchemaDialect` names. Requests and responses each see their own copy of
 * the document: `readOnly` properties are not required in a request, nor `writeOnly`
 * ones in a response, as OpenAPI says.
 */
import { createRequire } from 'node:module';
import type { Ajv, AnySchemaObject, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { LoadedSpec } from './spec-load.js';
import { fromPointer, toPointer, valueAt } from './pointer.js';
import type { DocPath } from './operations.js';
import { flaggedProperties, type DirectionFlag } from './direction-flags.js';

/** Which copy of the document a schema is read in. */
export type Direction = 'request' | 'response' | 'parameters';

/** A compiled validator: undefined errors means valid. */
export type SchemaCheck = (data: unknown) => readonly ErrorObject[] | undefined;

const SPEC_ID = 'meshdev-spec';

/** The check of a location that declares nothing. */
const ACCEPT_ANY: SchemaCheck = () => undefined;

type AjvClass = new (options: Options) => Ajv;

/** ajv and its plugins, loaded when the first validator compiles (CommonJS, so synchronously). */
interface AjvModules {
  Ajv: AjvClass;
  Ajv2019: AjvClass;
  Ajv2020: AjvClass;
  AjvDraft04: AjvClass;
  addFormats: (ajv: Ajv) => void;
}

let modules: AjvModules | undefined;

function ajvModules(): AjvModules {
  if (modules) return modules;
  const require = createRequire(import.meta.url);
  modules = {
    Ajv: (require('ajv') as { Ajv: AjvClass }).Ajv,
    Ajv2019: (require('ajv/dist/2019.js') as { Ajv2019: AjvClass }).Ajv2019,
    Ajv2020: (require('ajv/dist/2020.js') as { Ajv2020: AjvClass }).Ajv2020,
    // ajv-draft-04 and ajv-formats export their class and function as the module itself.
    AjvDraft04: require('ajv-draft-04') as AjvClass,
    addFormats: require('ajv-formats') as (ajv: Ajv) => void,
  };
  return modules;
}

/** Compiles and caches the validators of one document. */
export class SchemaValidators {
  private readonly engines = new Map<Direction, Ajv>();
  private readonly cache = new Map<string, SchemaCheck>();
  /** By the path arrays of the operation index themselves: no pointer built per call. */
  private readonly byPath = new Map<Direction, WeakMap<DocPath, SchemaCheck>>();

  constructor(private readonly spec: LoadedSpec) {}

  /** The validator of the schema at `path` in the document. */
  at(direction: Direction, path: DocPath): SchemaCheck {
    let known = this.byPath.get(direction);
    if (!known) this.byPath.set(direction, (known = new WeakMap()));
    const seen = known.get(path);
    if (seen) return seen;
    const key = `${direction}|at:${toPointer(path)}`;
    let check = this.cache.get(key);
    if (!check) {
      const pointer = this.target(path);
      check = this.compile(direction, `at:${this.content(pointer)}`, () => ({
        $ref: `${SPEC_ID}#${encodeURI(pointer)}`,
      }));
      this.cache.set(key, check);
    }
    known.set(path, check);
    return check;
  }

  /**
   * What a schema says, as text: schemas that say the same share one validator (specs
   * repeat the same `id` path parameter or pagination query on every operation). Nested
   * `$ref`s are absolute pointers into the one document, so equal text means equal schema.
   */
  private content(pointer: string): string {
    return JSON.stringify(valueAt(this.spec.doc, fromPointer(pointer))) ?? pointer;
  }

  /**
   * Where the schema at `path` really lives: a schema that is only a `$ref` (the usual
   * `schema: {$ref: '#/components/schemas/Order'}`) shares the validator of its target.
   */
  private target(path: DocPath): string {
    let pointer = toPointer(path);
    for (let hops = 0; hops < 8; hops++) {
      const node = valueAt(this.spec.doc, fromPointer(pointer)) as
        Record<string, unknown> | undefined;
      const ref = node?.$ref;
      if (typeof ref !== 'string' || !ref.startsWith('#/') || Object.keys(node!).length !== 1)
        break;
      pointer = ref.slice(1);
    }
    return pointer;
  }

  /**
   * The validator of an object whose properties are parameters (`{limit: "5"}`), with
   * types coerced from strings the way a server framework would read them.
   */
  parameters(
    key: string,
    properties: Array<{ name: string; path?: DocPath; required: boolean }>,
  ): SchemaCheck {
    // Most operations have no parameters in most locations: nothing to compile.
    if (properties.length === 0) return ACCEPT_ANY;
    const cached = this.cache.get(`params|${key}`);
    if (cached) return cached;
    const targets = properties.map((p) => ({ ...p, pointer: p.path && this.target(p.path) }));
    const content = JSON.stringify(
      targets.map((p) => [p.name, p.required, p.pointer && this.content(p.pointer)]),
    );
    const check = this.compile('parameters', `params:${content}`, () => ({
      type: 'object',
      properties: Object.fromEntries(
        targets.map((p) => [
          p.name,
          p.pointer ? { $ref: `${SPEC_ID}#${encodeURI(p.pointer)}` } : {},
        ]),
      ),
      required: targets.filter((p) => p.required).map((p) => p.name),
    }));
    this.cache.set(`params|${key}`, check);
    return check;
  }

  private compile(direction: Direction, key: string, schema: () => AnySchemaObject): SchemaCheck {
    const cacheKey = `${direction}|${key}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const validate: ValidateFunction = this.engine(direction).compile(schema());
    const check: SchemaCheck = (data) => (validate(data) ? undefined : (validate.errors ?? []));
    this.cache.set(cacheKey, check);
    return check;
  }

  private engine(direction: Direction): Ajv {
    let engine = this.engines.get(direction);
    if (engine) return engine;
    const options: Options = {
      strict: false,
      allErrors: true,
      verbose: true,
      validateSchema: false,
      coerceTypes: direction === 'parameters' ? 'array' : false,
    };
    engine = createAjv(this.spec, options);
    ajvModules().addFormats(engine);
    addOpenApiFormats(engine);
    const copy = structuredClone(this.spec.doc);
    relaxRequired(copy, direction === 'response' ? 'writeOnly' : 'readOnly');
    engine.addSchema(copy, SPEC_ID);
    this.engines.set(direction, engine);
    return engine;
  }
}

function createAjv(spec: LoadedSpec, options: Options): Ajv {
  const { Ajv, Ajv2019, Ajv2020, AjvDraft04 } = ajvModules();
  if (spec.openapi === '3.0') return new AjvDraft04(options);
  const dialect = spec.dialect ?? '';
  if (dialect.includes('draft-04')) return new AjvDraft04(options);
  if (dialect.includes('draft-07') || dialect.includes('draft-06')) return new Ajv(options);
  if (dialect.includes('2019-09')) return new Ajv2019(options);
  return new Ajv2020(options);
}

/** OpenAPI's own formats: numeric ranges checked, the rest accepted as documentation. */
function addOpenApiFormats(ajv: Ajv): void {
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  for (const name of ['binary', 'password']) ajv.addFormat(name, true);
}

/**
 * Removes from every `required` list the properties marked `flag` (`readOnly` for
 * requests, `writeOnly` for responses), on the property's schema or where its `$ref` points.
 */
function relaxRequired(doc: Record<string, unknown>, flag: DirectionFlag): void {
  const seen = new Set<object>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const object = node as Record<string, unknown>;
    const properties = object.properties as Record<string, unknown> | undefined;
    if (Array.isArray(object.required) && properties && typeof properties === 'object') {
      const flagged = flaggedProperties(doc, properties, flag);
      object.required = object.required.filter((name) => !flagged.includes(name as string));
    }
    for (const child of Object.values(object)) walk(child);
  };
  walk(doc);
}
