/**
 * `npm run bench:instructions -- <base> [variant] [--seconds 30] [--top 25] [--keep]
 * [--callers F]`: instructions per request on the serving process's main thread, counted
 * by valgrind's callgrind, by function and by kind of code — for one path, or two (counted
 * one after the other) side by side with the difference; with `--callers`, who calls
 * function F and what that costs.
 * Paths: `bare` (the bare undici forwarder), `gateway` (the gateway hop, no credentials),
 * `api-key` and `jwt` (with their consumer's plan), `no-spec` and `contracts` (a JSON
 * service without and with its OpenAPI contract, `contracts: report`), `pair` (the mTLS
 * pair: outbound listener → mTLS → inbound listener → app, both listeners in one process)
 * and `bare-pair` (its baseline, `bench/bare/mtls-pair.mjs`, with the same certificates).
 *
 * Each path's process runs under callgrind with `--perf-basic-prof` (so V8's compiled
 * functions get names), is warmed by wrk for `--warm` seconds and by three 5-s rounds at
 * the counting rate, then counted while the open-loop sender sends a fixed 60 req/s for
 * `--seconds`: a fixed rate, so per-second work (timers, sampling) weighs the same per
 * request in both. Counts repeat within a few
 * percent (V8 still compiles and collects at different moments), whatever else the machine
 * does. Needs valgrind (every machine here has it) and wrk.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  byCategory,
  callersOf,
  compareCosts,
  costsPerRequest,
  parsePerfMap,
  type CallerCost,
  type FunctionCost,
} from './instruction-profile.js';
import { BENCH_KEY, edgeGatewayYaml } from './edge-config.js';
import { ITEMS_SPEC } from './items-spec.js';
import { latencyAtRate, throughput, which } from './measure.js';
import {
  PAIR_OUTBOUND,
  startBareForwarder,
  startBareMtlsPair,
  startJsonUpstream,
  startMesh,
  startPairMesh,
  startUpstream,
  type Child,
  type Launcher,
} from './servers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Open-loop rounds at the counting rate before the count (see where they run). */
const WARM_ROUNDS = 3;
const PATHS = [
  'bare',
  'gateway',
  'api-key',
  'jwt',
  'no-spec',
  'contracts',
  'pair',
  'bare-pair',
] as const;
type PathName = (typeof PATHS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '30' },
    warm: { type: 'string', default: '40' },
    rate: { type: 'string', default: '60' },
    top: { type: 'string', default: '25' },
    // Leave the callgrind dumps and V8's perf map behind (their paths are printed), for
    // `callgrind_annotate --tree=caller` or kcachegrind.
    keep: { type: 'boolean', default: false },
    // Also print who calls this function (a name as the tables print it), e.g. Builtins_LoadIC.
    callers: { type: 'string' },
  },
});
const chosen = positionals as PathName[];
if (chosen.length < 1 || chosen.length > 2 || chosen.some((p) => !PATHS.includes(p))) {
  console.error(
    `usage: npm run bench:instructions -- <path> [path]   (paths: ${PATHS.join(', ')})`,
  );
  process.exit(2);
}
const wrk = which('wrk');
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
  /** Who calls `--callers`, when it is given. */
  callers?: CallerCost[];
}

/** Where a path's serving process is started, and the port its calls go to. */
async function startServing(
  name: PathName,
  upstreams: Record<string, Child>,
  pairState: PairState | undefined,
  launcher: Launcher,
): Promise<{ server: Child; port: number | undefined }> {
  const bytes = upstreams.bytes!.ports.port!;
  if (name === 'bare') {
    const server = await startBareForwarder(bytes, false, launcher);
    return { server, port: server.ports.port };
  }
  if (name === 'bare-pair') {
    const server = await startBareMtlsPair(bytes, pairState!.dir, launcher);
    return { server, port: server.ports.port };
  }
  if (name === 'pair') {
    const server = await startPairMesh(bytes, { launcher, files: pairState!.files });
    return { server, port: server.ports[PAIR_OUTBOUND] };
  }
  const server = await startMesh(
    meshConfig(bytes, upstreams.json!.ports.port!, upstreams.checked!.ports.port!),
    [],
    { 'items.openapi.json': ITEMS_SPEC },
    launcher,
  );
  return { server, port: server.ports['gateway::'] };
}

/**
 * The certificates both pair paths use: a pair mesh started once outside valgrind makes the
 * CA and the services' certificates (making a CA under callgrind would take minutes).
 */
interface PairState {
  /** Its `.meshdev/` directory, for the bare pair. */
  dir: string;
  /** The same files by relative path, written into the measured pair's directory. */
  files: Record<string, string>;
}

async function makePairState(target: number): Promise<PairState> {
  const maker = await startPairMesh(target);
  await maker.stop();
  const dir = path.join(maker.dir!, '.meshdev');
  const files: Record<string, string> = {};
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dir, file);
    if (statSync(full).isFile()) files[`.meshdev/${file}`] = readFileSync(full, 'utf8');
  }
  return { dir, files };
}

async function profile(
  name: PathName,
  upstreams: Record<string, Child>,
  pairState: PairState | undefined,
): Promise<Profile> {
  const out = mkdtempSync(path.join(tmpdir(), `meshdev-instructions-${name}-`));
  const callgrind: Launcher = {
    command: 'valgrind',
    args: [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}/callgrind.%p`,
    ],
    // Names for V8's compiled functions, which callgrind knows only by address; V8 also
    // opens its log with them (an isolate-*.log in the working directory, else), kept here.
    nodeArgs: ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${out}/v8.log`],
    startTimeoutMs: 120_000,
  };
  const { server, port } = await startServing(name, upstreams, pairState, callgrind);
  const pid = server.process.pid!;
  try {
    const headers: Record<string, string> = {};
    if (name === 'api-key') headers['x-api-key'] = BENCH_KEY;
    if (name === 'jwt') {
      const token = execFileSync(
        process.execPath,
        [path.join(ROOT, 'bin/meshdev.js'), 'token', 'bench', '--ttl', '1h'],
        { cwd: server.dir, encoding: 'utf8' },
      ).trim();
      headers.authorization = `Bearer ${token}`;
    }
    const route = {
      bare: '/',
      pair: '/',
      'bare-pair': '/',
      gateway: '/open/',
      'api-key': '/key/',
      jwt: '/jwt/',
      'no-spec': '/plain/items',
      contracts: '/checked/items',
    }[name];
    const url = `http://127.0.0.1:${port}${route}`;
    const rate = Number(values.rate);
    await throughput(url, 8, Number(values.warm), wrk!, headers);
    // Rounds at the counting rate, so the pools have grown before the count: each starts
    // with a burst of 32 calls (the sender's warm connections), and a pair's pool makes the
    // TLS connections a burst needs over the first rounds (23, then 1, then none, measured
    // without valgrind).
    for (let round = 0; round < WARM_ROUNDS; round++) await latencyAtRate(url, rate, 5, headers);
    execFileSync('callgrind_control', ['--zero', String(pid)], { stdio: 'ignore' });
    const counted = await latencyAtRate(url, rate, Number(values.seconds), headers);
    if (counted.errors > 0) {
      throw new Error(`${name}: ${counted.errors} requests failed (${counted.failures})`);
    }
    execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
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
    const perfMap = parsePerfMap(readFileSync(`/tmp/perf-${pid}.map`, 'utf8'));
    const costs = costsPerRequest(annotate, perfMap, counted.sent);
    const total = costs.reduce((sum, cost) => sum + cost.perRequest, 0);
    const handshakes = costs
      .filter((cost) => TLS_HANDSHAKE_CODE.test(cost.name))
      .reduce((sum, cost) => sum + cost.perRequest, 0);
    // A pair's pool opens a TLS connection per call in flight, and the open-loop sender
    // starts each run with 32 calls at once: a burst larger than the warm-up's (a slow
    // moment under valgrind) makes connections during the count, which then includes
    // handshakes. Said, so the run is repeated.
    if (handshakes > 1000) {
      console.log(
        `${name}: TLS handshakes were counted (${k(handshakes).trim()}k instructions per request in key exchange): connections were made during the count; run again`,
      );
    }
    const callers = values.callers
      ? callersOf(readFileSync(path.join(out, dump), 'utf8'), perfMap, values.callers, counted.sent)
      : undefined;
    return { name, requests: counted.sent, total, costs, ...(callers && { callers }) };
  } finally {
    await server.stop();
    if (server.dir) rmSync(server.dir, { recursive: true, force: true });
    if (values.keep) {
      console.log(`${name}: callgrind dumps in ${out}, V8's perf map /tmp/perf-${pid}.map`);
    } else {
      // Profiles and perf maps run to tens of megabytes: nothing is left behind.
      rmSync(out, { recursive: true, force: true });
      rmSync(`/tmp/perf-${pid}.map`, { force: true });
    }
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

/** OpenSSL's key-exchange code: run by a TLS handshake, never by a call on a kept connection. */
const TLS_HANDSHAKE_CODE = /x25519|ecp_nistz256/;

const k = (instructions: number) => (instructions / 1000).toFixed(1).padStart(7);

const upstreams = {
  bytes: await startUpstream(),
  json: await startJsonUpstream(),
  checked: await startJsonUpstream(),
};
let pairState: PairState | undefined;
try {
  // The two paths run one after the other. Run at once (one core each, as this tool first
  // did), the two processes under valgrind, their senders and upstreams outgrew two cores:
  // one fell behind its 60 req/s until calls waited past the sender's 30-s limit (178 of
  // 1,800 timed out counting `no-spec` beside `contracts`; 179 calls failed counting
  // `api-key` beside `gateway`). An instruction count does not depend on when it is taken.
  if (chosen.some((name) => name.endsWith('pair'))) {
    pairState = await makePairState(upstreams.bytes.ports.port!);
  }
  const profiles: Profile[] = [];
  for (const name of chosen) profiles.push(await profile(name, upstreams, pairState));
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
  for (const p of profiles) {
    if (!p.callers) continue;
    console.log(`\ncallers of ${values.callers} in ${p.name} (k per request, with what it ran):`);
    if (p.callers.length === 0) console.log('  none (the name as the tables print it?)');
    for (const caller of p.callers.slice(0, top))
      console.log(`${k(caller.perRequest)}  ${caller.name}`);
  }
} finally {
  await Promise.all(Object.values(upstreams).map((child) => child.stop()));
  if (pairState) rmSync(path.dirname(pairState.dir), { recursive: true, force: true });
}
