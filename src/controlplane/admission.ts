/**
 * The one admission path for runtime changes — admin API, CLI and dashboard alike: parse
 * with the config's own schema, check the config's own rules, build the new service view
 * (compiling every match), and only then swap it in. A change that fails any step is
 * refused with a `RuntimeChangeError` naming the key, and nothing of it is kept. File
 * reloads take the same steps in `MeshController.reload`.
 */
import * as z from 'zod';
import { toFault } from '../config/normalize.js';
import { checkFault } from '../config/rules.js';
import { faultSchema, match } from '../config/schema.js';
import { parseDuration } from '../config/units.js';
import {
  RuntimeChangeError,
  type MeshRuntime,
  type RuntimeFault,
  type RuntimeRoute,
} from '../dataplane/runtime.js';

/** A runtime fault as callers send it: a config fault plus where it goes and for how long. */
export const runtimeFaultSchema = faultSchema.extend({
  service: z.string(),
  version: z.string().optional(),
  for: z.string().optional(),
});

/** A runtime fault in its input form (`delay: "2s"`, `bandwidth: "8KiB"`, `for: "30s"`). */
export type RuntimeFaultInput = z.input<typeof runtimeFaultSchema>;

const splitSchema = z.strictObject({ weights: z.record(z.string(), z.number()).nullable() });

/** A runtime route: the config's match, then one version (`to`) or a split. */
const runtimeRouteSchema = z.strictObject({
  service: z.string(),
  match: match.optional(),
  to: z.string().optional(),
  split: z.record(z.string(), z.number()).optional(),
  timeout: z.string().optional(),
  mirror: z.strictObject({ to: z.string(), percent: z.number().optional() }).optional(),
});

/** A schema failure as one refusal: `path: message; path: message`. */
function refused(error: z.ZodError, what: string): RuntimeChangeError {
  return new RuntimeChangeError(
    error.issues
      .map((issue) => `${issue.path.join('.') || what}: ${issue.message.split('\n')[0]}`)
      .join('; '),
  );
}

/** Admits a runtime route (`{"service", "match"?, "to" | "split"}`): matched before the file's. */
export function admitRoute(runtime: MeshRuntime, input: unknown): RuntimeRoute {
  const parsed = runtimeRouteSchema.safeParse(input);
  if (!parsed.success) throw refused(parsed.error, 'route');
  const { service, match: condition, to, split, timeout, mirror } = parsed.data;
  const timeoutMs = timeout === undefined ? undefined : parseDuration(timeout);
  if (timeout !== undefined && timeoutMs === undefined) {
    throw new RuntimeChangeError(`timeout: "${timeout}" is not a duration (e.g. 500ms, 3s)`);
  }
  return runtime.addRoute(service, {
    match: condition,
    to,
    timeoutMs,
    split: split && Object.entries(split).map(([version, weight]) => ({ version, weight })),
    ...(mirror && { mirror: { to: mirror.to, percent: mirror.percent ?? 100 } }),
  });
}

/** Admits a runtime fault: the same schema and rules as a fault in the file. */
export function admitFault(runtime: MeshRuntime, input: unknown, now = Date.now()): RuntimeFault {
  const parsed = runtimeFaultSchema.safeParse(input);
  if (!parsed.success) throw refused(parsed.error, 'fault');
  const { service, version, for: lifetime, ...fault } = parsed.data;
  const problems: string[] = [];
  checkFault(fault, [], (path, message) =>
    problems.push(`${path.join('.') || 'fault'}: ${message}`),
  );
  if (problems.length > 0) throw new RuntimeChangeError(problems.join('; '));
  const ttl = lifetime === undefined ? undefined : parseDuration(lifetime);
  if (lifetime !== undefined && ttl === undefined) {
    throw new RuntimeChangeError(`for: "${lifetime}" is not a duration (e.g. 30s, 5m)`);
  }
  const { id: _unused, ...rule } = toFault(fault, 'runtime', service);
  return runtime.addFault({
    ...rule,
    version,
    expiresAt: ttl === undefined ? undefined : now + ttl,
  });
}

/** Admits a runtime split (`{"weights": {"v1": 90, "v2": 10}}`, or `null` to remove it). */
export function admitSplit(runtime: MeshRuntime, service: string, input: unknown): void {
  const parsed = splitSchema.safeParse(input);
  if (!parsed.success) {
    throw new RuntimeChangeError('expected {"weights": {"v1": 90, "v2": 10}} or {"weights": null}');
  }
  runtime.setSplit(service, parsed.data.weights);
}
