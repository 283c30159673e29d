/** Starts a mesh from YAML text on free ports, for integration tests. */
import { loadConfigText } from '../../src/config/load.js';
import { Mesh, type MeshOptions } from '../../src/mesh/mesh.js';
import type { CallRecord } from '../../src/telemetry/call-record.js';

export interface TestMesh {
  mesh: Mesh;
  calls: CallRecord[];
  gateway: string;
  outbound(caller: string, service: string): string;
  stop(): Promise<void>;
}

/** Loads `yaml` (with `${VAR}` from `env`) and starts the mesh on ephemeral ports. */
export async function startMesh(
  yaml: string,
  env: Record<string, string> = {},
  options: MeshOptions = {},
): Promise<TestMesh> {
  const config = loadConfigText(yaml, 'test.mesh.config.yaml', { env });
  const mesh = await Mesh.start(config, { ephemeralPorts: true, ...options });
  const calls: CallRecord[] = [];
  mesh.bus.on('call', (call) => calls.push(call));
  return {
    mesh,
    calls,
    gateway: `http://127.0.0.1:${mesh.gatewayPort() ?? 0}`,
    outbound: (caller, service) => `http://127.0.0.1:${mesh.outboundPort(caller, service) ?? 0}`,
    stop: () => mesh.stop(1000),
  };
}
