/**
 * `npm run bench:instructions -- <base> [variant] [--seconds 30] [--top 25]`: instructions
 * per request on the serving process's main thread, counted by valgrind's callgrind, by
 * function and by kind of code — for one path, or two side by side with the difference.
 * Paths: `bare` (the bare undici forwarder), `gateway` (the gateway hop, no credentials),
 * `api-key` and `jwt` (with their consumer's plan), `no-spec` and `contracts` (a JSON
 * service without and with its OpenAPI contract, `contracts: report`).
 *
 * Each path's process runs under callgrind with `--perf-basic-prof` (so V8's compiled
 * functions get names), is warmed by wrk for `--warm` seconds, then counted while the
 * open-loop sender sends a fixed 60 req/s for `--seconds`: a fixed rate, so per-second work
 * (timers, sampling) weighs the same per request in both. Counts repeat within a few
 * percent (V8 still compiles and collects at different moments), whatever else the machine
 * does. Needs valgrind (every machine here has it) and wrk.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  byCategory,
  compareCosts,
  costsPerRequest,
  parsePerfMap,
  type FunctionCost,
} from './instruction-profile.js';
import { edgeGatewayYaml } from './edge-config.js';
import { ITEMS_SPEC } from './items-spec.js';
import { latencyAtRate, throughput } from './measure.js';
import { startJsonUpstream, startUpstream, type Child } from './servers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PATHS = ['bare', 'gateway', 'api-key', 'jwt', 'no-spec', 'contracts'] as const;
type PathName = (typeof PATHS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '30' },
    warm: { type: 'string', default: '40' },
    rate: { type: 'string', default: '60' },
    top: { type: 'string', default: '25' },
  },
});
const chosen = positionals as PathName[];
if (chosen.length < 1 || chosen.length > 2 || chosen.some((p) => !PATHS.includes(p))) {
  console.error(
    `usage: npm run bench:instructions -- <path> [path]   (paths: ${PATHS.join(', ')})`,
  );
  process.exit(2);
}
const wrk = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((file) => existsSync(file));
if (!wrk) {
  console.error('wrk is needed for the warm-up (apt-get install wrk)');
  process.exit(2);
}

/** The mesh every meshdev path goes through: one gateway, a route per path. */
function meshConfig(bytesPort: number, jsonPort: number, checkedPort: number): string {
  return `version: 1
mesh: { name: bench-instructions, mtls: off, ports: { from: 0 }, admin: { port: 0 }, contracts: report }
${edgeGatewayYaml([
  '{ path: /plain, service: plain, stripPrefix: true }',
  '{ path: /checked, service: checked, stripPrefix: true }',
])}services:
  api: { port: ${bytesPort} }
  plain: { port: ${jsonPort} }
  checked: { port: ${checkedPort}, spec: ./items.openapi.json }
`;
}

/** One path's profile: its instructions per request, by function. */
interface Profile {
  name: PathName;
  requests: number;
  total: number;
  costs: FunctionCost[];
}

/** Starts `args` under callgrind; resolves with the process and its first line matching `ready`. */
function underCallgrind(
  out: string,
  args: string[],
  cwd: string,
  ready: (line: string) => number | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}/callgrind.%p`,
      process.execPath,
      '--perf-basic-prof',
      ...args,
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } },
  );
  return new Promise((resolve, reject) => {
    let buffer = '';
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`not ready in 120 s: ${errors}`)), 120_000);
    child.stderr!.on(
      'data',
      (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2000)),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        const port = ready(line);
        if (port === undefined) continue;
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        return resolve({ child, port });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${errors}`)));
  });
}

async function profile(name: PathName, upstreams: Record<string, Child>): Promise<Profile> {
  const dir = mkdtempSync(path.join(tmpdir(), `meshdev-instructions-${name}-`));
  const out = path.join(dir, 'callgrind');
  mkdirSync(out);
  writeFileSync(
    path.join(dir, 'mesh.config.yaml'),
    meshConfig(
      upstreams.bytes!.ports.port!,
      upstreams.json!.ports.port!,
      upstreams.checked!.ports.port!,
    ),
  );
  writeFileSync(path.join(dir, 'items.openapi.json'), ITEMS_SPEC);
  const { child, port } =
    name === 'bare'
      ? await underCallgrind(
          out,
          [path.join(ROOT, 'bench/bare/forwarder.mjs'), String(upstreams.bytes!.ports.port)],
          dir,
          (line) => Number(/^PORT (\d+)$/.exec(line.trim())?.[1]) || undefined,
        )
      : await underCallgrind(
          out,
          [path.join(ROOT, 'bin/meshdev.js'), 'up', '--json', '--quiet', '--summary-interval', '0'],
          dir,
          (line) => {
            if (!line.includes('"event":"ready"')) return undefined;
            const ready = JSON.parse(line) as { listeners: Array<{ kind: string; port: number }> };
            return ready.listeners.find((l) => l.kind === 'gateway')?.port;
          },
        );
  try {
    const headers: Record<string, string> = {};
    if (name === 'api-key') headers['x-api-key'] = 'bench-key-0001';
    if (name === 'jwt') {
      const token = execFileSync(
        process.execPath,
        [path.join(ROOT, 'bin/meshdev.js'), 'token', 'bench', '--ttl', '1h'],
        { cwd: dir, encoding: 'utf8' },
      ).trim();
      headers.authorization = `Bearer ${token}`;
    }
    const route = {
      bare: '/',
      gateway: '/open/',
      'api-key': '/key/',
      jwt: '/jwt/',
      'no-spec': '/plain/items',
      contracts: '/checked/items',
    }[name];
    const url = `http://127.0.0.1:${port}${route}`;
    const rate = Number(values.rate);
    await throughput(url, 8, Number(values.warm), wrk!, headers);
    await latencyAtRate(url, rate, 5, headers);
    execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
    const counted = await latencyAtRate(url, rate, Number(values.seconds), headers);
    if (counted.errors > 0) throw new Error(`${name}: ${counted.errors} requests failed`);
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
    // The main thread's dump (thread 1, part 1).
    const dump = await waitFor(() =>
      readdirSync(out).find(
        (file) =>
          /\.1-01$/.test(file) && readFileSync(path.join(out, file), 'utf8').includes('totals:'),
      ),
    );
    const annotate = execFileSync(
      'callgrind_annotate',
      ['--threshold=100', '--auto=no', path.join(out, dump)],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    const perfMap = parsePerfMap(readFileSync(`/tmp/perf-${child.pid}.map`, 'utf8'));
    const costs = costsPerRequest(annotate, perfMap, counted.sent);
    const total = costs.reduce((sum, cost) => sum + cost.perRequest, 0);
    return { name, requests: counted.sent, total, costs };
  } finally {
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
    });
    // Profiles and perf maps run to tens of megabytes: nothing is left behind.
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  }
}

/** Polls `find` every 200 ms for up to 30 s. */
async function waitFor<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('callgrind wrote no dump of the main thread');
}

const k = (instructions: number) => (instructions / 1000).toFixed(1).padStart(7);

const upstreams = {
  bytes: await startUpstream(),
  json: await startJsonUpstream(),
  checked: await startJsonUpstream(),
};
try {
  // The two paths run at once (one core each), as two processes measured side by side.
  const profiles = await Promise.all(chosen.map((name) => profile(name, upstreams)));
  for (const p of profiles) {
    console.log(
      `${p.name}: ${k(p.total).trim()}k instructions per request (${p.requests} requests, main thread)`,
    );
  }
  const top = Number(values.top);
  if (profiles.length === 1) {
    const [only] = profiles;
    console.log('\nby kind of code (k per request):');
    for (const [category, sum] of byCategory(only!.costs)) console.log(`${k(sum)}  ${category}`);
    console.log(`\ntop ${top} functions (k per request):`);
    for (const cost of only!.costs.slice(0, top))
      console.log(`${k(cost.perRequest)}  ${cost.name}`);
  } else {
    const [base, variant] = profiles as [Profile, Profile];
    const header = `${'change'.padStart(7)} ${base.name.padStart(7)} ${variant.name.padStart(7)}`;
    console.log(`\nby kind of code (k per request):\n${header}`);
    const a = new Map(byCategory(base.costs));
    const b = new Map(byCategory(variant.costs));
    for (const category of new Set([...a.keys(), ...b.keys()])) {
      const x = a.get(category) ?? 0;
      const y = b.get(category) ?? 0;
      console.log(`${k(y - x)} ${k(x)} ${k(y)}  ${category}`);
    }
    console.log(`\nthe ${top} largest changes by function (k per request):\n${header}`);
    for (const change of compareCosts(base.costs, variant.costs).slice(0, top)) {
      console.log(
        `${k(change.variant - change.base)} ${k(change.base)} ${k(change.variant)}  ${change.name}`,
      );
    }
  }
} finally {
  await Promise.all(Object.values(upstreams).map((child) => child.stop()));
}
