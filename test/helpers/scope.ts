/**
 * Per-test resources that clean themselves up: servers, meshes, projects and spawned
 * `meshdev` processes are stopped after each test, whatever it asserted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { startServer, type TestServer } from '../../fixtures/servers/upstreams.js';
import type { MeshOptions } from '../../src/dataplane/mesh.js';
import { startMesh, type TestMesh } from './mesh.js';
import type { RunningCli } from './process.js';

/** Registers an afterEach hook in the calling test file and returns the helpers. */
export function testScope() {
  let cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(cleanup.map((stop) => stop()));
    cleanup = [];
  });
  const defer = (stop: () => Promise<unknown>) => void cleanup.push(stop);
  return {
    defer,
    /** A real HTTP server on a free port. */
    async server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
      const started = await startServer(handler);
      defer(() => started.close());
      return started;
    },
    /** A mesh started in-process on free ports from YAML text. */
    async mesh(
      yaml: string,
      env: Record<string, string> = {},
      options: MeshOptions = {},
    ): Promise<TestMesh> {
      const started = await startMesh(yaml, env, options);
      defer(() => started.stop());
      return started;
    },
    /** A temp project directory holding `mesh.config.yaml`. */
    project(yaml: string, prefix = 'meshdev-test-'): string {
      const dir = mkdtempSync(path.join(tmpdir(), prefix));
      writeFileSync(path.join(dir, 'mesh.config.yaml'), yaml);
      return dir;
    },
    /** Kills a spawned `meshdev` at the end of the test if it is still running. */
    running(cli: RunningCli): RunningCli {
      defer(async () => {
        if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
        await cli.exit;
      });
      return cli;
    },
  };
}
