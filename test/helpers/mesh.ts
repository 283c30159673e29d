/** Starts a mesh from YAML text on free ports, for integration tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { Mesh, type MeshOptions } from '../../src/dataplane/mesh.js';
import type { CallRecord } from '../../src/telemetry/call-record.js';

export interface TestMesh {
  mesh: Mesh;
  stateDir: string;
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
  // Certificates and other state go to a temp directory: tests never share it.
  const stateDir = mkdtempSync(path.join(tmpdir(), 'meshdev-state-'));
  const mesh = await Mesh.start(config, { ephemeralPorts: true, stateDir, ...options });
  const calls: CallRecord[] = [];
  mesh.bus.on('call', (call) => calls.push(call));
  return {
    mesh,
    stateDir,
    calls,
    gateway: `http://127.0.0.1:${mesh.gatewayPort() ?? 0}`,
    outbound: (caller, service) => `http://127.0.0.1:${mesh.outboundPort(caller, service) ?? 0}`,
    stop: () => mesh.stop(1000),
  };
}
