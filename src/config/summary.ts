/** One-line description of a loaded config, as `validate` and `up` print it. */
import type { MeshConfig } from './model.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `mesh shop: 5 services, 7 instances, 9 routes, 2 faults, 2 consumers, 3 checks` */
export function summarize(config: MeshConfig): string {
  const instances = config.services.reduce((n, s) => n + s.instances.length, 0);
  const routes =
    (config.gateway?.routes.length ?? 0) + config.services.reduce((n, s) => n + s.routes.length, 0);
  // The service's faults and its routes' own.
  const faults = config.services.reduce(
    (n, s) => n + s.faults.length + s.routes.reduce((m, r) => m + (r.faults?.length ?? 0), 0),
    0,
  );
  const parts = [
    plural(config.services.length, 'service'),
    plural(instances, 'instance'),
    plural(routes, 'route'),
    plural(faults, 'fault'),
    // The API half and CI, when the config has them.
    ...(config.consumers.length > 0 ? [plural(config.consumers.length, 'consumer')] : []),
    ...(config.checks.length > 0 ? [plural(config.checks.length, 'check')] : []),
  ];
  return `mesh ${config.mesh.name}: ${parts.join(', ')}`;
}
