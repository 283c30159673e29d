/** Starts one simulated server per `sim:` instance of a config. */
import type { MeshConfig } from '../config/model.js';
import { meshRandom } from '../mesh/random.js';
import { startSimServer, type SimServer } from './sim-server.js';

/** The started servers and their ports by `service@version`. */
export interface Simulators {
  sims: SimServer[];
  simPorts: Map<string, number>;
}

/**
 * Starts every simulated instance. Each gets its own generator (seeded from `mesh.seed`
 * and its position) so its errors and latencies do not depend on other traffic.
 */
export async function startSimulators(
  config: MeshConfig,
  outboundUrl: (caller: string, upstream: string) => string | undefined,
): Promise<Simulators> {
  const sims: SimServer[] = [];
  const simPorts = new Map<string, number>();
  let index = 0;
  try {
    for (const service of config.services) {
      for (const instance of service.instances) {
        index++;
        if (!instance.sim) continue;
        const seed = config.mesh.seed === undefined ? undefined : config.mesh.seed + index;
        const sim = await startSimServer({
          service: service.name,
          version: instance.version,
          spec: instance.sim,
          random: meshRandom(seed),
          outboundUrl: (upstream) => outboundUrl(service.name, upstream),
        });
        sims.push(sim);
        simPorts.set(`${service.name}@${instance.version}`, sim.port);
      }
    }
  } catch (error) {
    await Promise.allSettled(sims.map((sim) => sim.close()));
    throw error;
  }
  return { sims, simPorts };
}
