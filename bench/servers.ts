/**
 * Child processes the benchmark measures: the 1 KiB upstream, a bare http-proxy-3 hop,
 * nginx, and the mesh itself (`meshdev up`, the real CLI). Each prints its port.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ITEMS_BODY } from './items-spec.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** A started child with the ports it reported. */
export interface Child {
  process: ChildProcess;
  ports: Record<string, number>;
  stop(): Promise<void>;
  /** The project directory of a mesh started by `startMesh`. */
  dir?: string;
  /** The process that serves, when it is not `process` (nginx's worker), for its CPU time. */
  servingPid?: number;
}

/** Spawns `command args` and waits until `ready` parses a line into ports. */
export function spawnChild(
  command: string,
  args: string[],
  ready: (line: string) => Record<string, number> | undefined,
  options: { cwd?: string; startTimeoutMs?: number } = {},
): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    let buffer = '';
    let errors = '';
    const timer = setTimeout(
      () => reject(new Error(`${command} did not start: ${errors}`)),
      options.startTimeoutMs ?? 15_000,
    );
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        const ports = ready(line);
        if (ports) {
          clearTimeout(timer);
          child.stdout!.removeAllListeners('data');
          child.stdout!.resume();
          resolve({
            process: child,
            ports,
            stop: () =>
              new Promise((done) => {
                if (child.exitCode !== null || child.signalCode !== null) return done();
                child.once('exit', () => done());
                child.kill('SIGTERM');
                setTimeout(() => child.kill('SIGKILL'), 7000).unref();
              }),
          });
          return;
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`${command} exited ${code}: ${errors}`)));
  });
}

const portLine = (line: string) => {
  const match = /^PORT (\d+)$/.exec(line.trim());
  return match ? { port: Number(match[1]) } : undefined;
};

/**
 * A program Node runs under (`valgrind --tool=callgrind …`), with Node options of its own
 * and the time a start may take under it.
 */
export interface Launcher {
  command: string;
  args: string[];
  nodeArgs?: string[];
  startTimeoutMs?: number;
}

/** `node nodeArgs…` as a command and its arguments, under `launcher` when one is given. */
function nodeCommand(
  nodeArgs: string[],
  launcher?: Launcher,
): { command: string; args: string[]; startTimeoutMs?: number } {
  if (!launcher) return { command: process.execPath, args: nodeArgs };
  return {
    command: launcher.command,
    args: [...launcher.args, process.execPath, ...(launcher.nodeArgs ?? []), ...nodeArgs],
    startTimeoutMs: launcher.startTimeoutMs,
  };
}

/** The 1 KiB upstream, in its own process. */
export function startUpstream(): Promise<Child> {
  const code = `
    const http = require('node:http');
    const body = Buffer.alloc(1024, 'x');
    const server = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));`;
  return spawnChild(process.execPath, ['-e', code], portLine);
}

/** An upstream answering `GET /items` with ~1 KiB of JSON (what the bench spec declares). */
export function startJsonUpstream(): Promise<Child> {
  const code = `
    const http = require('node:http');
    const body = Buffer.from(${JSON.stringify(ITEMS_BODY)});
    const server = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));`;
  return spawnChild(process.execPath, ['-e', code], portLine);
}

/** A bare http-proxy-3 hop in front of `target`. */
export function startHttpProxy3(target: number): Promise<Child> {
  const code = `
    const http = require('node:http');
    const { createProxyServer } = require('http-proxy-3');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const proxy = createProxyServer({ target: 'http://127.0.0.1:${target}', agent });
    proxy.on('error', (e, req, res) => { res.writeHead && res.writeHead(502); res.end && res.end(); });
    const server = http.createServer((req, res) => proxy.web(req, res));
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));`;
  return spawnChild(process.execPath, ['-e', code], portLine);
}

/**
 * The hop's baseline: a bare forwarder written with the project's own undici (`bench/bare`);
 * with `meshHeaders`, one that also adds the headers a meshdev hop adds.
 */
export function startBareForwarder(
  target: number,
  meshHeaders = false,
  launcher?: Launcher,
): Promise<Child> {
  const { command, args, startTimeoutMs } = nodeCommand(
    [
      path.join(ROOT, 'bench/bare/forwarder.mjs'),
      String(target),
      ...(meshHeaders ? ['--mesh-headers'] : []),
    ],
    launcher,
  );
  return spawnChild(command, args, portLine, { startTimeoutMs });
}

/** The mTLS pair's baseline, with the certificates of the mesh whose state is in `stateDir`. */
export function startBareMtlsPair(
  target: number,
  stateDir: string,
  launcher?: Launcher,
): Promise<Child> {
  const { command, args, startTimeoutMs } = nodeCommand(
    [path.join(ROOT, 'bench/bare/mtls-pair.mjs'), String(target), stateDir],
    launcher,
  );
  return spawnChild(command, args, portLine, { startTimeoutMs });
}

/** A Node TCP pipe to `target` (`bench/bare/tcp-pipe.mjs`): a latency reference. */
export function startTcpPipe(target: number): Promise<Child> {
  return spawnChild(
    process.execPath,
    [path.join(ROOT, 'bench/bare/tcp-pipe.mjs'), String(target)],
    portLine,
  );
}

/** nginx as a reverse proxy with upstream keep-alive, when it is installed. */
export function startNginx(nginx: string, target: number, port: number): Promise<Child> {
  return runNginx(
    nginx,
    port,
    `upstream app { server 127.0.0.1:${target}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
  );
}

/**
 * The mTLS pair's second anchor: one nginx worker (one process, as meshdev and the bare
 * pair are) with an outbound side on `port` → mTLS with the caller's certificate
 * (`proxy_ssl_certificate`, the server verified against the mesh CA, sessions reused,
 * connections kept alive) → an inbound side that requires a client certificate from the
 * mesh CA → the app. The certificates are the ones the meshdev pair issued (`certsDir` is
 * its `.meshdev/`); the inbound side listens on `inboundPort`.
 */
export function startNginxMtlsPair(
  nginx: string,
  target: number,
  port: number,
  inboundPort: number,
  certsDir: string,
): Promise<Child> {
  const file = (name: string) => path.join(certsDir, name);
  return runNginx(
    nginx,
    port,
    `upstream app { server 127.0.0.1:${target}; keepalive 64; }
  upstream inbound { server 127.0.0.1:${inboundPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://inbound; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_certificate ${file('certs/client.crt')};
      proxy_ssl_certificate_key ${file('certs/client.key')};
      proxy_ssl_trusted_certificate ${file('ca/ca.crt')};
      proxy_ssl_verify on; proxy_ssl_name localhost; proxy_ssl_session_reuse on;
    }
  }
  server {
    listen 127.0.0.1:${inboundPort} ssl;
    ssl_certificate ${file('certs/api.crt')}; ssl_certificate_key ${file('certs/api.key')};
    ssl_client_certificate ${file('ca/ca.crt')}; ssl_verify_client on;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
  );
}

/** nginx in the foreground with one worker, `servers` as its `http` block's content. */
async function runNginx(nginx: string, port: number, servers: string): Promise<Child> {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-bench-nginx-'));
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${servers}
}
`,
  );
  const child = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  await untilAnswers(port, () => child.exitCode !== null);
  return {
    process: child,
    ports: { port },
    servingPid: onlyChildOf(child.pid!),
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGQUIT');
      }),
  };
}

/** The one child process of `pid` (Linux `/proc`), if it has exactly one. */
function onlyChildOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ');
    return children.length === 1 && children[0] ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `meshdev up` on `yaml`, reporting every listener's port by `kind:service:caller`.
 * `BENCH_MESH_NODE_ARGS` adds Node options to the mesh's process only, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under the bench's load; `launcher`
 * runs it under another program (callgrind).
 */
export function startMesh(
  yaml: string,
  extraArgs: string[] = [],
  files: Record<string, string> = {},
  launcher?: Launcher,
): Promise<Child> {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-bench-'));
  writeFileSync(path.join(dir, 'mesh.config.yaml'), yaml);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const { command, args, startTimeoutMs } = nodeCommand(
    [
      ...(process.env.BENCH_MESH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      path.join(ROOT, 'bin/meshdev.js'),
      'up',
      '--json',
      '--quiet',
      '--summary-interval',
      '0',
      ...extraArgs,
    ],
    launcher,
  );
  const started = spawnChild(
    command,
    args,
    (line) => {
      if (!line.includes('"event":"ready"')) return undefined;
      const ready = JSON.parse(line) as {
        admin: number;
        listeners: Array<{
          kind: string;
          service: string | null;
          caller: string | null;
          port: number;
        }>;
      };
      return {
        admin: ready.admin,
        ...Object.fromEntries(
          ready.listeners.map((l) => [`${l.kind}:${l.service ?? ''}:${l.caller ?? ''}`, l.port]),
        ),
      };
    },
    { cwd: dir, startTimeoutMs },
  );
  return started.then((child) => ({ ...child, dir }));
}

/**
 * The bench's mTLS pair: `client` calls `api` (the app on `target`) through its outbound
 * listener → mTLS → api's inbound listener → the app, in one meshdev process. `files` are
 * written into its directory first (a `.meshdev/` from another pair, to skip making a CA);
 * `launcher` runs it under another program.
 */
export function startPairMesh(
  target: number,
  options: { launcher?: Launcher; files?: Record<string, string> } = {},
): Promise<Child> {
  return startMesh(pairMeshYaml(target), [], options.files, options.launcher);
}

/** The config of the bench's mTLS pair (see `startPairMesh`), the app on `target`. */
export function pairMeshYaml(target: number): string {
  return `version: 1
mesh: { name: bench-pair, mtls: strict, ports: { from: 0 }, admin: { port: 0 } }
services:
  client: { port: 1, upstreams: [api] }
  api: { port: ${target} }
`;
}

/** The port of the pair mesh's outbound listener (client → api): where its calls go in. */
export const PAIR_OUTBOUND = 'outbound:api:client';

/**
 * The hop of a pair mesh as it stands: the TLS handshakes its inbound listener has made
 * (full/resumed, from the mesh's `/metrics`) and the connections established to it (`ss`),
 * e.g. `handshakes 5/45, connections 50` — whether a round reused connections or made them.
 */
export async function pairHopState(pair: Child): Promise<string> {
  const token = readFileSync(path.join(pair.dir!, '.meshdev', 'admin-token'), 'utf8').trim();
  const metrics = await (
    await fetch(`http://127.0.0.1:${pair.ports.admin}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).text();
  const handshakes = metrics
    .split('\n')
    .filter((line) => line.startsWith('meshdev_tls_handshakes_total{listener="inbound api'))
    .map((line) => line.split(' ').at(-1))
    .join('/');
  const inbound = pair.ports['inbound:api:']!;
  let established = '? (no ss)';
  try {
    const listing = execFileSync('ss', ['-tn', 'state', 'established', `( dport = :${inbound} )`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // A header line, then one line a connection.
    established = String(listing.trim().split('\n').length - 1);
  } catch {
    // iproute2's ss is not everywhere: the handshakes alone still tell what a round made.
  }
  return `handshakes ${handshakes}, connections ${established}`;
}

/** The bundled demo on free ports (gateway, admin, outbound): its config and spec files. */
export function demoCopy(): { yaml: string; files: Record<string, string> } {
  const yaml = readFileSync(path.join(ROOT, 'mesh.config.yaml'), 'utf8')
    .replace('port: 8080', 'port: 0')
    .replace('admin: { port: 15000 }', 'admin: { port: 0 }')
    .replace('ports: { from: 15100 }', 'ports: { from: 0 }');
  const files = Object.fromEntries(
    readdirSync(path.join(ROOT, 'specs')).map((name) => [
      `specs/${name}`,
      readFileSync(path.join(ROOT, 'specs', name), 'utf8'),
    ]),
  );
  return { yaml, files };
}

/** A free loopback port (bound, then released). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * `meshdev up` in a pseudo-terminal (util-linux `script`), 120×40, the output drained:
 * with its dashboard rendering, or (`ui` false) headless, so both start equally cold.
 * Resolves once the gateway on `gatewayPort` answers.
 */
export async function startMeshWithDashboard(
  yaml: string,
  gatewayPort: number,
  ui = true,
): Promise<Child> {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-bench-ui-'));
  writeFileSync(path.join(dir, 'mesh.config.yaml'), yaml);
  const env = { ...process.env };
  delete env.CI;
  const command = `stty cols 120 rows 40; exec ${process.execPath} ${path.join(ROOT, 'bin/meshdev.js')} up --no-load${ui ? '' : ' --no-ui --quiet --summary-interval 0'}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: dir,
    env,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdout!.resume();
  await untilAnswers(gatewayPort, () => child.exitCode !== null);
  return {
    process: child,
    ports: { gateway: gatewayPort },
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.stdin!.write('\u0003'); // Ctrl-C through the pty: SIGINT headless, quit in the dashboard
        setTimeout(() => child.kill('SIGKILL'), 7000).unref();
      }),
  };
}

/** Waits (up to 15 s) until something answers HTTP on `port`; fails early if `died()`. */
async function untilAnswers(port: number, died: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      if (died()) throw new Error(`the server for port ${port} exited`);
      if (Date.now() > deadline) throw new Error(`nothing answered on port ${port} within 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
