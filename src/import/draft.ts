/**
 * The config an import writes, in the form a user writes `mesh.config.yaml` (durations as
 * `2s`, matches with `method`/`path`/`headers`), and the last step every import shares:
 * services whose dev server is unknown get a simulated placeholder, so the imported mesh
 * comes `up` at once.
 */
import type { HeaderOperations } from '../config/model.js';

/** A request match as written in the config. */
export interface DraftMatch {
  method?: string[];
  path?: string;
  headers?: Record<string, string | { regex?: string; present?: boolean }>;
}

/** A fault as written in the config. */
export interface DraftFault {
  match?: DraftMatch;
  delay?: { duration: string; percent: number };
  abort?: { status: number; percent: number };
}

/** Retries as written in the config. */
export interface DraftRetries {
  attempts: number;
  perTryTimeout?: string;
  retryOn?: Array<string | number>;
}

/** One entry of `services.<name>.routes`. */
export interface DraftRoute {
  name?: string;
  match?: DraftMatch;
  to?: string;
  split?: Record<string, number>;
  timeout?: string;
  retries?: DraftRetries;
  faults?: DraftFault[];
  mirror?: { to: string; percent?: number };
  headers?: { request?: HeaderOperations; response?: HeaderOperations };
}

/** How one instance runs: a dev server's port, or a simulation. */
export interface DraftInstance {
  port?: number;
  sim?: Record<string, unknown>;
}

/** One entry of `services:`. */
export interface DraftService extends DraftInstance {
  upstreams?: string[];
  versions?: Record<string, DraftInstance>;
  routes?: DraftRoute[];
  faults?: DraftFault[];
  timeout?: string;
  retries?: DraftRetries;
  circuitBreaker?: { consecutiveErrors?: number; openFor?: string; maxConcurrent?: number };
  allow?: Array<string | { from: string; methods?: string[]; paths?: string[] }>;
}

/** A gateway route as written in the config. */
export interface DraftGatewayRoute {
  path: string;
  service: string;
  version?: string;
  stripPrefix?: boolean;
  auth?: { require?: string; groups?: string[] };
  rateLimit?: { requests: number; per: string };
}

/** A whole config as an import writes it. */
export interface DraftConfig {
  version: 1;
  mesh: Record<string, unknown> & { name: string };
  gateway?: Record<string, unknown> & { port: number; routes: DraftGatewayRoute[] };
  services: Record<string, DraftService>;
  consumers?: Record<string, Record<string, unknown>>;
  plans?: Record<string, Record<string, unknown>>;
}

/** A service of the draft, created empty on first use. */
export function serviceOf(draft: DraftConfig, name: string): DraftService {
  draft.services[name] ??= {};
  return draft.services[name];
}

/** Adds `version` to a service (an instance to be filled in by `withPlaceholders`). */
export function addVersion(service: DraftService, version: string): void {
  service.versions ??= {};
  service.versions[version] ??= {};
}

/**
 * Gives every instance without a port a simulated placeholder answering `GET` on every
 * path with its service and version, and says so in a comment-ready list.
 */
export function withPlaceholders(draft: DraftConfig): string[] {
  const placeholders: string[] = [];
  const placeholder = (service: string, version?: string) => ({
    routes: [{ path: '/*', body: { service, ...(version && { version }), placeholder: true } }],
  });
  for (const [name, service] of Object.entries(draft.services)) {
    if (service.versions && Object.keys(service.versions).length > 0) {
      for (const [version, instance] of Object.entries(service.versions)) {
        if (instance.port !== undefined || instance.sim) continue;
        instance.sim = placeholder(name, version);
        placeholders.push(`${name} ${version}`);
      }
    } else if (service.port === undefined && !service.sim) {
      service.sim = placeholder(name);
      placeholders.push(name);
    }
  }
  return placeholders;
}

/** A split whose weights are any positive numbers, as percents that sum to exactly 100. */
export function percents(weights: ReadonlyArray<[string, number]>): Record<string, number> {
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  if (total <= 0) return Object.fromEntries(weights.map(([name]) => [name, 0]));
  const shares = weights.map(([name, weight]): [string, number] => [
    name,
    Math.round((weight / total) * 10_000) / 100,
  ]);
  // Rounding may leave the sum a hundredth off: the largest share absorbs it.
  const drift = Math.round((100 - shares.reduce((sum, [, share]) => sum + share, 0)) * 100) / 100;
  if (drift !== 0) {
    const largest = shares.reduce((best, entry) => (entry[1] > best[1] ? entry : best));
    largest[1] = Math.round((largest[1] + drift) * 100) / 100;
  }
  return Object.fromEntries(shares);
}

/**
 * A DNS label, what meshdev service names must be: lowercase letters, digits and `-`,
 * starting with a letter, at most 63 characters (`Web_Frontend` → `web-frontend`).
 */
export function dnsLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const lettered = /^[a-z]/.test(label) ? label : `svc-${label}`;
  return lettered.slice(0, 63).replace(/-+$/, '');
}
