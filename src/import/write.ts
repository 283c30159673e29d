/**
 * Turns an imported draft into `mesh.config.yaml` text: a new file, or the existing one
 * with the import merged in — comments and everything the import does not speak of kept,
 * what it does speak of (a service's routes, faults, policy, allow; new services, gateway
 * routes, consumers, plans) replaced or added.
 */
import {
  Document,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type YAMLMap,
} from 'yaml';
import { parseDuration } from '../config/units.js';
import type { DraftConfig, DraftGatewayRoute } from './draft.js';

/** Fields of a service that an import owns: merged in, they replace what the file had. */
const SERVICE_POLICY = [
  'routes',
  'faults',
  'timeout',
  'retries',
  'circuitBreaker',
  'allow',
] as const;

/** How the config is written: lines never folded. */
const TEXT_OPTIONS = { lineWidth: 0 };

/** What a service's imported routes decide along with them. */
const ROUTE_POLICY: readonly string[] = ['timeout', 'retries', 'faults'];

const PLACEHOLDER_NOTE = ' placeholder: your dev server (`command:` and `port:`) goes here';

/** Small maps written on one line, as the bundled configs write them. */
const FLOW_KEYS = new Set([
  'match',
  'split',
  'retries',
  'circuitBreaker',
  'sim',
  'rateLimit',
  'quota',
  'auth',
  'delay',
  'abort',
]);

/** The order keys are written in (others keep theirs, after these). */
const TOP_ORDER = ['version', 'mesh', 'gateway', 'consumers', 'plans', 'services'];
const KEY_ORDER = [
  'name',
  'port',
  'require',
  'path',
  'service',
  'versions',
  'upstreams',
  'match',
  'to',
  'split',
  'timeout',
  'retries',
  'faults',
  'circuitBreaker',
  'allow',
  'routes',
];

/** A new config file from `draft`, with `header` as its opening comment. */
export function newConfigText(draft: DraftConfig, header: string): string {
  const doc = new Document(ordered(draft));
  doc.commentBefore = header;
  style(doc);
  return doc.toString(TEXT_OPTIONS);
}

/** `value` with its keys in TOP_ORDER, and those of every object inside in KEY_ORDER. */
function ordered(value: unknown, order = TOP_ORDER): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item, KEY_ORDER));
  if (typeof value !== 'object' || value === null) return value;
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => rank(a) - rank(b))
      // What a simulated body says is the user's, in its order.
      .map(([key, inner]) => [key, key === 'body' ? inner : ordered(inner, KEY_ORDER)]),
  );
}

/** `existing` (a config's text) with `draft` merged in. */
export function mergedConfigText(existing: string, draft: DraftConfig): string {
  const doc = parseDocument(existing);
  for (const key of ['mtls', 'namespace', 'trustDomain'] as const)
    if (draft.mesh[key] !== undefined) doc.setIn(['mesh', key], draft.mesh[key]);
  for (const [name, service] of Object.entries(draft.services)) {
    if (!doc.hasIn(['services', name])) {
      doc.setIn(['services', name], doc.createNode(ordered(service, KEY_ORDER)));
      continue;
    }
    for (const field of SERVICE_POLICY)
      if (service[field] !== undefined)
        doc.setIn(['services', name, field], doc.createNode(ordered(service[field], KEY_ORDER)));
      // Imported routes come with their whole call policy: what the source left out is not kept.
      else if (service.routes && ROUTE_POLICY.includes(field))
        doc.deleteIn(['services', name, field]);
    const upstreams = new Set([
      ...((
        doc.getIn(['services', name, 'upstreams']) as { toJSON(): string[] } | undefined
      )?.toJSON() ?? []),
      ...(service.upstreams ?? []),
    ]);
    if (upstreams.size > 0)
      doc.setIn(['services', name, 'upstreams'], doc.createNode([...upstreams]));
    // Versions the file lacks are added; the ones it has keep how they run.
    for (const [version, instance] of Object.entries(service.versions ?? {}))
      if (!doc.hasIn(['services', name, 'versions', version]))
        doc.setIn(['services', name, 'versions', version], doc.createNode(instance));
  }
  if (draft.gateway) mergeGateway(doc, draft.gateway);
  // A plan the file already has under another name (the same limits) is that plan.
  const filePlans = Object.entries(
    (doc.getIn(['plans']) as { toJSON(): Record<string, unknown> } | undefined)?.toJSON() ?? {},
  );
  const planName = new Map<string, string>();
  for (const [name, plan] of Object.entries(draft.plans ?? {})) {
    const same = filePlans.find(([, existing]) => sameLimits(existing, plan));
    if (same) planName.set(name, same[0]);
    else doc.setIn(['plans', name], doc.createNode(plan));
  }
  for (const [name, consumer] of Object.entries(draft.consumers ?? {})) {
    const plan = typeof consumer.plan === 'string' ? planName.get(consumer.plan) : undefined;
    doc.setIn(['consumers', name], doc.createNode(plan ? { ...consumer, plan } : consumer));
  }
  style(doc);
  return keepFormatting(existing, doc.toString(TEXT_OPTIONS));
}

/**
 * The yaml library writes every flow collection its own way (`[ a ]`); a line the merge
 * did not change comes back as the user wrote it, so the diff shows only what changed.
 */
function keepFormatting(before: string, after: string): string {
  const shape = (line: string) => line.replace(/([[{]) /g, '$1').replace(/ ([\]}])/g, '$1');
  const written = new Map(before.split('\n').map((line) => [shape(line), line]));
  return after
    .split('\n')
    .map((line) => written.get(shape(line)) ?? line)
    .join('\n');
}

function mergeGateway(doc: Document, gateway: NonNullable<DraftConfig['gateway']>): void {
  if (!doc.hasIn(['gateway'])) {
    doc.setIn(['gateway'], doc.createNode(ordered(gateway, KEY_ORDER)));
    return;
  }
  // An imported route's auth is relative to the imported gateway's; in the file it must be
  // relative to the file's, or a public route would turn private (or the reverse).
  const importedDefault = (gateway.auth as { require?: string } | undefined)?.require ?? 'none';
  const fileDefault = String(doc.getIn(['gateway', 'auth', 'require']) ?? 'none');
  const routes = doc.getIn(['gateway', 'routes']);
  for (const added of gateway.routes) {
    const node = doc.createNode(
      ordered(relativeAuth(added, importedDefault, fileDefault), KEY_ORDER),
    );
    if (isMap(node) && JSON.stringify(node.toJSON()).length < 90) node.flow = true;
    // A route of the same path is replaced in place; the file's other routes stay as written.
    const index = isSeq(routes)
      ? routes.items.findIndex((item) => isMap(item) && item.get('path') === added.path)
      : -1;
    if (isSeq(routes) && index >= 0) routes.items[index] = node;
    else if (isSeq(routes)) routes.items.push(node);
    else doc.setIn(['gateway', 'routes'], doc.createNode([node]));
  }
  for (const [key, value] of Object.entries(gateway))
    if (key !== 'routes' && key !== 'port' && !doc.hasIn(['gateway', key]))
      doc.setIn(['gateway', key], doc.createNode(value));
}

/** `route` with its auth requirement said against `fileDefault` instead of `importedDefault`. */
function relativeAuth(
  route: DraftGatewayRoute,
  importedDefault: string,
  fileDefault: string,
): DraftGatewayRoute {
  const { auth, ...plain } = route;
  const { require = importedDefault, ...rest } = auth ?? {};
  const relative = { ...(require !== fileDefault && { require }), ...rest };
  return Object.keys(relative).length > 0 ? { ...plain, auth: relative } : plain;
}

/** Two plans with the same limits (durations compared in ms: `1m` is `60s`). */
function sameLimits(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown) =>
    JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'string' && parseDuration(inner) !== undefined
        ? parseDuration(inner)
        : inner,
    );
  return canonical(a) === canonical(b);
}

/**
 * Small maps on one line (FLOW_KEYS) and a comment above each placeholder `sim:` saying
 * what to put there instead. Nodes the file already had keep their style.
 */
function style(doc: Document): void {
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || !isCollection(pair.value) || pair.value.range) return;
      const key = String(pair.key.value);
      if (FLOW_KEYS.has(key) || (key === 'faults' && pair.value.items.length <= 2))
        pair.value.flow = true;
      if (key === 'sim' && isMap(pair.value) && isPlaceholder(pair.value))
        pair.key.commentBefore = PLACEHOLDER_NOTE;
    },
  });
  // Routes of a gateway and `allow` entries read best one per line.
  visit(doc, {
    Seq(key, seq) {
      if (seq.range) return;
      if (seq.items.every(isScalar) && JSON.stringify(seq.toJSON()).length < 90) seq.flow = true;
      for (const item of seq.items)
        if (isMap(item) && JSON.stringify(item.toJSON()).length < 90) item.flow = true;
    },
  });
}

function isPlaceholder(sim: YAMLMap): boolean {
  return JSON.stringify(sim.toJSON()).includes('"placeholder":true');
}
