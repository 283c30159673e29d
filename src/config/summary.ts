/** One-line description of a loaded config, as `validate` and `up` print it. */
import type { MeshConfig } from './model.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `mesh shop: 5 services, 7 instances, 9 routes, 2 faults` */
export function summarize(config: MeshConfig): string {
  const instances = config.services.reduce((n, s) => n + s.instances.length, 0);
  const routes =
    (config.gateway?.routes.length ?? 0) + config.services.reduce((n, s) => n + s.routes.length, 0);
  const faults = config.services.reduce((n, s) => n + s.faults.length, 0);
  return `mesh ${config.mesh.name}: ${plural(config.services.length, 'service')}, ${plural(instances, 'instance')}, ${plural(routes, 'route')}, ${plural(faults, 'fault')}`;
}
