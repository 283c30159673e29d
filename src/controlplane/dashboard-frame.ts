/**
 * One frame of what the dashboard shows, as plain JSON: built by the controller for the
 * dashboard in the same process and for `GET /v1/dashboard`, which `meshdev top` (and the
 * dashboard of `meshdev up`, a process of its own) polls.
 */
import { instanceLabel } from '../config/model.js';
import type { ServiceState } from '../dataplane/runtime.js';
import { spiffeId } from '../dataplane/pki/identity.js';
import type { CallRecord } from '../telemetry/call-record.js';
import type { ContractsSnapshot } from '../telemetry/contract-ledger.js';
import type { StatsSnapshot } from '../telemetry/stats.js';
import type { MeshController, UsageReport } from './controller.js';

/** One instance as the dashboard lists it. */
export interface InstanceInfo {
  service: string;
  version: string;
  /** up / starting / unhealthy / crashed / crash-loop for commands; `sim` or `external` otherwise. */
  state: string;
  port?: number;
  inboundPort?: number;
}

/** Everything one frame needs, taken at once, as JSON. */
export interface FrameData {
  mesh: string;
  mtls: string;
  startedAt: number;
  config: { status: string; at: number; message: string };
  stats: StatsSnapshot;
  services: ServiceState[];
  instances: InstanceInfo[];
  calls: CallRecord[];
  /** Each service's SPIFFE ID. */
  spiffeIds: Record<string, string>;
  /** Present when asked for (the views that show them are open). */
  contracts?: ContractsSnapshot;
  usage?: UsageReport[];
}

/** What a frame may carry beyond the always-present parts. */
export interface FrameOptions {
  contracts?: boolean;
  usage?: boolean;
  /** How many recent calls (newest first); 200 by default. */
  calls?: number;
}

/** Takes one frame of `controller`'s mesh. */
export function dashboardFrame(
  controller: MeshController,
  startedAt: number,
  options: FrameOptions = {},
): FrameData {
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
            l.kind === 'inbound' && l.service === service.name && l.version === instance.version,
        )?.port,
      };
    }),
  );
  return {
    mesh: config.mesh.name,
    mtls: config.mesh.mtls,
    startedAt,
    config: controller.configState(),
    stats: controller.stats.snapshot(),
    services: mesh.runtime.state(),
    instances,
    calls: controller.stats.recent(options.calls ?? 200),
    spiffeIds: Object.fromEntries(
      config.services.map((service) => [service.name, spiffeId(config.mesh, service.name)]),
    ),
    ...(options.contracts && { contracts: controller.contracts.snapshot() }),
    ...(options.usage && { usage: controller.usageReport() }),
  };
}
