/**
 * Authorization between services, with Istio AuthorizationPolicy semantics: a call is
 * allowed when some rule names its principal and, if the rule says so, its method and
 * path (exact, `prefix*` or `*suffix`). `"*"` admits any caller, even one with no
 * verified identity. Denials explain which config line to change.
 */
import { displayPath } from '../config/display-path.js';
import { ANYONE, type ServiceConfig } from '../config/model.js';

/** The outcome of a check; `reason` says what to change when denied. */
export type Decision = { allowed: true } | { allowed: false; reason: string };

/** Every allowed call's decision: one object, not one per call. */
const ALLOWED: Decision = Object.freeze({ allowed: true });

/** Whether `principal` (a service name, or `gateway`) may call `service` with this request. */
export function authorize(
  service: ServiceConfig,
  principal: string | undefined,
  method: string,
  pathname: string,
): Decision {
  const who = principal ?? 'an unauthenticated caller';
  for (const rule of service.allow) {
    if (rule.from !== ANYONE && (principal === undefined || rule.from !== principal)) continue;
    if (rule.methods && !rule.methods.includes(method)) continue;
    if (rule.paths && !rule.paths.some((pattern) => pathMatches(pattern, pathname))) continue;
    return ALLOWED;
  }
  const { file, line, explicit } = service.allowSource;
  const where = `${displayPath(file)}:${line}`;
  const byRule = principal !== undefined && service.allow.some((rule) => rule.from === principal);
  const fix =
    principal === undefined
      ? `only a client certificate of the mesh CA proves who calls: call through an outbound listener, or add "*" to services.${service.name}.allow (${where}) to let anyone in`
      : byRule
        ? `a rule for ${principal} exists but does not allow ${method} ${pathname}: widen its methods or paths in services.${service.name}.allow (${where})`
        : explicit
          ? `add ${principal ?? 'the caller'} to services.${service.name}.allow (${where})`
          : `declare ${service.name} in the caller's upstreams, or add an allow list to services.${service.name} (${where})`;
  return { allowed: false, reason: `${who} is not allowed to call ${service.name}: ${fix}` };
}

/** `exact`, `prefix*` or `*suffix`, as Istio's AuthorizationPolicy paths. */
export function pathMatches(pattern: string, pathname: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return pathname.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return pathname.endsWith(pattern.slice(1));
  return pathname === pattern;
}
