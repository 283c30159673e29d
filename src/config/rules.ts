/**
 * Cross-field rules the structural schema cannot express: names, references between
 * services and versions, split sums, the shape of each instance, and port clashes.
 * Every rule reports a key path; the loader turns it into file:line:column.
 */
import { ANYONE } from './model.js';
import type { RawConfig, RawFault, RawInstance, RawService } from './schema.js';
import type { PathIssue } from './zod-issues.js';
import { suggest } from './zod-issues.js';
import { checkChecks } from './check-rules.js';
import { checkAuth } from './auth-rules.js';

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Caller names the mesh itself uses; a service cannot take them. */
export const RESERVED_CALLERS = ['gateway', 'load'] as const;

/**
 * Runs every rule; an empty list means the config is consistent. `opaque` names services
 * that exist but failed the structural check: references to them count as valid and
 * their insides are not checked, so one broken service hides no other error.
 */
export function checkRules(
  config: RawConfig,
  opaque: ReadonlySet<string> = new Set(),
  gatewayPruned = false,
): PathIssue[] {
  const issues: PathIssue[] = [];
  const names = [...Object.keys(config.services), ...opaque];
  const exists = (name: string) => config.services[name] !== undefined || opaque.has(name);
  const report = (path: PropertyKey[], message: string, hint?: string, atKey = false) =>
    issues.push({ path, message, hint, atKey });
  const unknownService = (path: PropertyKey[], name: string, extra: string[] = []) => {
    const guess = suggest(name, [...names, ...extra]);
    report(
      path,
      `unknown service "${name}"` + (guess ? ` — did you mean "${guess}"?` : ''),
      `services defined: ${names.join(', ') || '(none)'}`,
    );
  };

  for (const [name, service] of Object.entries(config.services)) {
    const at = ['services', name];
    if (!DNS_LABEL.test(name)) {
      report(
        at,
        `service name "${name}" is not a DNS label`,
        `use lowercase letters, digits and "-" (names become env vars and SPIFFE ids: my-svc → MY_SVC_URL, spiffe://…/sa/my-svc)`,
        true,
      );
    } else if ((RESERVED_CALLERS as readonly string[]).includes(name)) {
      report(at, `"${name}" is reserved for the mesh's own caller`, 'rename the service', true);
    }
    checkShape(service, at, report);
    const versions = Object.keys(service.versions ?? {});

    const seen = new Set<string>();
    service.upstreams.forEach((upstream, i) => {
      if (!exists(upstream)) unknownService([...at, 'upstreams', i], upstream);
      else if (upstream === name)
        report([...at, 'upstreams', i], 'a service cannot be its own upstream');
      else if (seen.has(upstream)) report([...at, 'upstreams', i], `"${upstream}" is listed twice`);
      seen.add(upstream);
    });

    service.routes.forEach((route, i) => {
      const path = [...at, 'routes', i];
      // Neither: the route keeps every version (its own timeout, retries or faults only).
      if (route.to !== undefined && route.split !== undefined) {
        report(path, 'a route takes "to" or "split", not both');
      }
      if ((route.to !== undefined || route.split) && versions.length === 0) {
        report(
          path,
          `service "${name}" has no versions to route to`,
          'declare them under versions:',
        );
        return;
      }
      if (route.to !== undefined && !versions.includes(route.to)) {
        report([...path, 'to'], unknownVersion(name, route.to, versions));
      }
      if (route.mirror && !versions.includes(route.mirror.to)) {
        report(
          [...path, 'mirror', 'to'],
          versions.length === 0
            ? `service "${name}" has no versions to mirror to`
            : unknownVersion(name, route.mirror.to, versions),
          versions.length === 0 ? 'declare them under versions:' : undefined,
        );
      }
      if (route.split) {
        for (const version of Object.keys(route.split)) {
          if (!versions.includes(version))
            report(
              [...path, 'split', version],
              unknownVersion(name, version, versions),
              undefined,
              true,
            );
        }
        const sum = Object.values(route.split).reduce((a, b) => a + b, 0);
        if (Math.abs(sum - 100) > 1e-6) {
          report(
            [...path, 'split'],
            `split weights sum to ${round(sum)}, not 100`,
            'adjust the weights so they add up to 100',
          );
        }
      }
      checkHeaders(route.match?.headers, [...path, 'match', 'headers'], report);
    });

    service.faults.forEach((fault, i) => checkFault(fault, [...at, 'faults', i], report));

    service.allow?.forEach((rule, i) => {
      const from = typeof rule === 'string' ? rule : rule.from;
      if (from !== 'gateway' && from !== ANYONE && !exists(from)) {
        unknownService([...at, 'allow', i, ...(typeof rule === 'string' ? [] : ['from'])], from, [
          'gateway',
          ANYONE,
        ]);
      }
    });

    for (const [instancePath, instance] of instancesOf(service, at)) {
      instance.sim?.routes.forEach((route, r) => {
        route.calls?.forEach((call, c) => {
          const path = [...instancePath, 'sim', 'routes', r, 'calls', c, 'service'];
          if (!exists(call.service)) unknownService(path, call.service);
          else if (!service.upstreams.includes(call.service)) {
            report(
              path,
              `"${name}" calls "${call.service}" but does not declare it as an upstream`,
              `add ${call.service} to services.${name}.upstreams`,
            );
          }
        });
      });
    }
  }

  config.gateway?.routes.forEach((route, i) => {
    const path = ['gateway', 'routes', i];
    if (!exists(route.service)) return unknownService([...path, 'service'], route.service);
    const target = config.services[route.service];
    if (!target) return;
    const versions = Object.keys(target.versions ?? {});
    if (route.version !== undefined && !versions.includes(route.version)) {
      report([...path, 'version'], unknownVersion(route.service, route.version, versions));
    }
  });

  config.load.forEach((load, i) => {
    const path = ['load', i];
    if (!config.gateway && !gatewayPruned)
      report(
        path,
        'load is sent to the gateway, but no gateway is configured',
        'add a gateway: section',
      );
    if ((load.rps === undefined) === (load.concurrency === undefined)) {
      report(path, 'a load needs exactly one of "rps" (open loop) or "concurrency" (closed loop)');
    }
  });

  for (const [name, service] of Object.entries(config.services)) {
    for (const [path, instance] of instancesOf(service, ['services', name])) {
      if (instance.sim?.spec && !(instance.spec ?? service.spec)) {
        report(
          [...path, 'sim', 'spec'],
          'sim.spec answers from the OpenAPI spec, but this service has none',
          'add spec: ./openapi.yaml to the service (or the version)',
        );
      }
    }
  }
  checkChecks(config, exists, unknownService, report);
  checkAuth(config, report);
  checkPorts(config, report);
  return issues;
}

export type Report = (path: PropertyKey[], message: string, hint?: string, atKey?: boolean) => void;

function checkShape(service: RawService, at: PropertyKey[], report: Report): void {
  if (service.versions) {
    for (const key of ['port', 'command', 'sim'] as const) {
      if (service[key] !== undefined) {
        report(
          [...at, key],
          `"${key}" cannot sit beside "versions"`,
          `move it under each version (versions.<v>.${key})`,
          true,
        );
      }
    }
    if (Object.keys(service.versions).length === 0)
      report([...at, 'versions'], 'versions is empty');
    for (const [version, instance] of Object.entries(service.versions)) {
      if (!DNS_LABEL.test(version)) {
        report(
          [...at, 'versions', version],
          `version name "${version}" is not a DNS label`,
          'use lowercase letters, digits and "-", e.g. v1',
          true,
        );
      }
      checkInstance(instance, [...at, 'versions', version], report);
    }
  } else {
    checkInstance(service, at, report);
  }
}

function checkInstance(instance: RawInstance, at: PropertyKey[], report: Report): void {
  if (instance.port !== undefined && instance.sim !== undefined) {
    report(
      [...at, 'sim'],
      'an instance is either a real server ("port") or simulated ("sim"), not both',
      'remove one of them',
      true,
    );
  } else if (instance.port === undefined && instance.sim === undefined) {
    report(
      at,
      'missing "port" (where the service listens) or "sim" (a simulated service)',
      'add port: 3000, sim: {...} or versions: {...}',
    );
  } else if (instance.command !== undefined && instance.port === undefined) {
    report(
      [...at, 'command'],
      '"command" needs "port" so the mesh knows where it listens',
      undefined,
      true,
    );
  }
}

function instancesOf(service: RawService, at: PropertyKey[]): Array<[PropertyKey[], RawInstance]> {
  if (!service.versions) return [[at, service]];
  return Object.entries(service.versions).map(([version, instance]) => [
    [...at, 'versions', version],
    instance,
  ]);
}

/**
 * The rules of one fault: an action, a delay that is fixed or a p50/p99 model, header
 * matches that compile. Runtime faults (admin API, CLI, dashboard) are held to the same.
 */
export function checkFault(fault: RawFault, path: PropertyKey[], report: Report): void {
  if (!fault.delay && !fault.abort && !fault.reset && !fault.bandwidth) {
    report(path, 'a fault needs at least one of delay, abort, reset or bandwidth');
  }
  if (fault.delay !== undefined && typeof fault.delay === 'object') {
    const { duration, p50, p99 } = fault.delay;
    const fixed = duration !== undefined && p50 === undefined && p99 === undefined;
    const model = duration === undefined && p50 !== undefined && p99 !== undefined;
    if (!fixed && !model) {
      report([...path, 'delay'], 'a delay needs either "duration" or both "p50" and "p99"');
    } else if (p50 !== undefined && p99 !== undefined && p99 < p50) {
      report([...path, 'delay', 'p99'], 'p99 cannot be below p50');
    }
  }
  checkHeaders(fault.match?.headers, [...path, 'match', 'headers'], report);
}

function checkHeaders(
  headers: Record<string, unknown> | undefined,
  at: PropertyKey[],
  report: Report,
): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value !== 'object' || value === null) continue;
    const { exact, present, regex } = value as {
      exact?: string;
      present?: boolean;
      regex?: string;
    };
    const given = [exact, present, regex].filter((v) => v !== undefined).length;
    if (given !== 1)
      report([...at, name], 'a header match needs exactly one of exact, present or regex');
    if (regex !== undefined) {
      try {
        new RegExp(regex);
      } catch (error) {
        const reason = (error as Error).message.replace(/^Invalid regular expression: /, '');
        report([...at, name, 'regex'], `invalid regular expression: ${reason}`);
      }
    }
  }
}

function checkPorts(config: RawConfig, report: Report): void {
  const fixed: Array<[PropertyKey[], number]> = [
    [['mesh', 'admin', 'port'], config.mesh.admin.port],
  ];
  if (config.gateway) {
    fixed.push([['gateway', 'port'], config.gateway.port]);
    if (typeof config.gateway.tls === 'object')
      fixed.push([['gateway', 'tls', 'port'], config.gateway.tls.port]);
  }
  for (const [name, service] of Object.entries(config.services)) {
    for (const [path, instance] of instancesOf(service, ['services', name])) {
      if (instance.port !== undefined) fixed.push([[...path, 'port'], instance.port]);
    }
  }
  const owners = new Map<number, PropertyKey[]>();
  for (const [path, port] of fixed) {
    if (port === 0) continue; // any free port: cannot clash
    const owner = owners.get(port);
    if (owner)
      report(
        path,
        `port ${port} is already used by ${owner.join('.')}`,
        'give each listener its own port',
      );
    else owners.set(port, path);
  }
  const outboundCount =
    config.mesh.ports.from === 0
      ? 0 // outbound listeners on free ports
      : Object.values(config.services).reduce((n, s) => n + s.upstreams.length, 0);
  const from = config.mesh.ports.from;
  const to = from + outboundCount - 1;
  if (outboundCount > 0 && to > 65535) {
    report(
      ['mesh', 'ports', 'from'],
      `the ${outboundCount} outbound listeners need ports ${from}–${to}, past 65535`,
      'choose a lower mesh.ports.from',
    );
  }
  for (const [path, port] of fixed) {
    if (outboundCount > 0 && port >= from && port <= to) {
      report(
        path,
        `port ${port} lies in the outbound range ${from}–${to} (mesh.ports.from + ${outboundCount} listeners)`,
        'move this port or mesh.ports.from',
      );
    }
  }
}

function unknownVersion(service: string, version: string, versions: string[]): string {
  const guess = suggest(version, versions);
  return (
    `"${version}" is not a version of ${service}` +
    (guess
      ? ` — did you mean "${guess}"?`
      : versions.length
        ? ` (versions: ${versions.join(', ')})`
        : '')
  );
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
