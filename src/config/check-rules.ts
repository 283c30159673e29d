/**
 * Cross-field rules of `checks:` (run by `meshdev check`): names unique, faults and
 * splits on services and versions that exist, split weights summing to 100, expectations
 * about services that exist, and some traffic to measure.
 */
import type { RawConfig } from './schema.js';
import { checkFault, type Report } from './rules.js';

/** Checks every entry of `checks:`; `exists` tells whether a service name is defined. */
export function checkChecks(
  config: RawConfig,
  exists: (name: string) => boolean,
  unknownService: (path: PropertyKey[], name: string, extra?: string[]) => void,
  report: Report,
): void {
  const names = new Set<string>();
  const versionsOf = (service: string) => Object.keys(config.services[service]?.versions ?? {});
  config.checks.forEach((check, i) => {
    const at = ['checks', i];
    if (names.has(check.name))
      report([...at, 'name'], `a check named "${check.name}" is already defined`);
    names.add(check.name);
    check.faults.forEach((fault, j) => {
      const path = [...at, 'faults', j];
      if (!exists(fault.service)) unknownService([...path, 'service'], fault.service);
      else if (fault.version !== undefined && !versionsOf(fault.service).includes(fault.version)) {
        report(
          [...path, 'version'],
          `service "${fault.service}" has no version "${fault.version}"`,
        );
      }
      checkFault(fault, path, report);
    });
    for (const [service, weights] of Object.entries(check.splits ?? {})) {
      const path = [...at, 'splits', service];
      if (!exists(service)) {
        unknownService(path, service);
        continue;
      }
      const versions = versionsOf(service);
      for (const version of Object.keys(weights)) {
        if (!versions.includes(version))
          report(
            [...path, version],
            `service "${service}" has no version "${version}"`,
            undefined,
            true,
          );
      }
      const sum = Object.values(weights).reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 100) > 1e-9) report(path, `split weights add up to ${sum}, not 100`);
    }
    const { expect } = check;
    for (const key of ['errorRate', 'p50', 'p99'] as const) {
      const bound = expect[key];
      if (
        bound &&
        typeof bound === 'object' &&
        bound.service !== undefined &&
        !exists(bound.service)
      ) {
        unknownService([...at, 'expect', key, 'service'], bound.service);
      }
    }
    expect.calls?.forEach((edge, j) => {
      if (edge.from !== 'gateway' && !exists(edge.from))
        unknownService([...at, 'expect', 'calls', j, 'from'], edge.from, ['gateway']);
      if (!exists(edge.to)) unknownService([...at, 'expect', 'calls', j, 'to'], edge.to);
    });
    if ((check.requests.length > 0 || check.load || check.explore) && !config.gateway) {
      report(
        at,
        'requests, load and explore are sent through the gateway, but no gateway is configured',
        'add a gateway: section',
      );
    }
    check.explore?.services?.forEach((service, j) => {
      const path = [...at, 'explore', 'services', j];
      if (!exists(service)) return unknownService(path, service);
      const raw = config.services[service]!;
      const hasSpec =
        raw.spec !== undefined || Object.values(raw.versions ?? {}).some((v) => v.spec);
      if (!hasSpec)
        report(
          path,
          `service "${service}" has no spec to explore`,
          'give it spec: ./<file>.openapi.yaml',
        );
      else if (config.gateway && !config.gateway.routes.some((route) => route.service === service))
        report(
          path,
          `explore sends through the gateway, and no gateway route reaches "${service}"`,
          `add a route: { path: /${service}, service: ${service}, stripPrefix: true }`,
        );
    });
    if (check.requests.length === 0 && !check.load && !check.run && !check.explore) {
      report(
        at,
        'a check needs traffic: requests, load, explore or run',
        'add requests: [{path: /}]',
        true,
      );
    }
    if (check.load && (check.load.rps === undefined) === (check.load.concurrency === undefined)) {
      report(
        [...at, 'load'],
        'a load needs exactly one of "rps" (open loop) or "concurrency" (closed loop)',
      );
    }
  });
}
