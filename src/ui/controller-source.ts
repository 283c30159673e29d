/** The dashboard's view of a running `MeshController`. */
import { instanceLabel } from '../config/model.js';
import { admitFault, admitSplit, type RuntimeFaultInput } from '../controlplane/admission.js';
import type { MeshController } from '../controlplane/controller.js';
import { spiffeId } from '../dataplane/pki/identity.js';
import type { DashboardSource, FaultKind, InstanceInfo } from './source.js';

/** Faults the dashboard adds, by kind (percent chosen in the editor), as the config writes them. */
const FAULTS: Record<FaultKind, (percent: number) => Partial<RuntimeFaultInput>> = {
  abort: (percent) => ({ abort: { status: 503, percent } }),
  delay: (percent) => ({ delay: { duration: '1s', percent } }),
  reset: (percent) => ({ reset: { percent } }),
  bandwidth: (percent) => ({ bandwidth: { rate: '8KiB', percent } }),
};

export function controllerSource(
  controller: MeshController,
  startedAt = Date.now(),
): DashboardSource {
  let configStatus = { status: 'ok', at: startedAt, message: 'loaded' };
  controller.bus.on('config', (status) => (configStatus = status));
  return {
    frame() {
      const mesh = controller.mesh;
      const config = mesh.runtime.current;
      const processes = new Map(controller.processes().map((p) => [p.instance, p.state]));
      const listeners = mesh.listenerInfo();
      const instances: InstanceInfo[] = config.services.flatMap((service) =>
        service.instances.map((instance) => {
          const key = instanceLabel(service.name, instance.version);
          return {
            service: service.name,
            version: instance.version,
            state: processes.get(key) ?? (instance.sim ? 'sim' : 'external'),
            port: instance.port,
            inboundPort: listeners.find(
              (l) =>
                l.kind === 'inbound' &&
                l.service === service.name &&
                l.version === instance.version,
            )?.port,
          };
        }),
      );
      return {
        mesh: config.mesh.name,
        mtls: config.mesh.mtls,
        startedAt,
        config: configStatus,
        stats: controller.stats.snapshot(),
        services: mesh.runtime.state(),
        instances,
        calls: controller.stats.recent(200),
        spiffe: (service) => spiffeId(config.mesh, service),
        contracts: () => controller.contracts.snapshot(),
        usage: () => controller.usageReport(),
      };
    },
    logs: (instance) => controller.logs(instance),
    addFault: (service, kind, percent) => {
      admitFault(controller.mesh.runtime, { service, ...FAULTS[kind](percent) });
    },
    removeFault: (id) => {
      controller.mesh.runtime.removeFault(id);
    },
    setSplit: (service, weights) => admitSplit(controller.mesh.runtime, service, { weights }),
  };
}
