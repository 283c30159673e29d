/**
 * The shape of a config: what its listeners and instances are. Two configs of the same
 * shape differ only in policy (routes, faults, retries, allow…), which the runtime
 * applies in place; a change of shape restarts the data plane.
 */
import type { MeshConfig } from '../config/model.js';

/** A stable string of everything that decides which listeners and instances exist. */
export function shapeOf(config: MeshConfig): string {
  return JSON.stringify({
    mesh: [
      config.mesh.mtls,
      config.mesh.trustDomain,
      config.mesh.namespace,
      config.mesh.certTtlMs,
      config.mesh.adminPort,
    ],
    gateway: config.gateway && [config.gateway.port, config.gateway.tls, config.gateway.routes],
    outbound: config.outbound,
    services: config.services.map((service) => [
      service.name,
      service.instances.map((instance) => [
        instance.version,
        instance.port,
        instance.command,
        instance.cwd,
        instance.env,
        instance.health,
        instance.sim,
      ]),
    ]),
  });
}
