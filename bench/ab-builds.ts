/**
 * Two builds of meshdev compared on the gateway hop or the mTLS pair, the same run, the
 * same machine:
 * `A_BIN=<old checkout>/bin/meshdev.js B_BIN=bin/meshdev.js tsx bench/ab-builds.ts [rounds] [connections] [gateway|pair]`
 * starts a headless mesh from each — a gateway (`mtls: off`, one route to the 1 KiB
 * upstream), or the mTLS pair (a caller's outbound listener → mTLS → the service's inbound
 * listener → the upstream) — and runs wrk against them in ABBA rounds of 3 s; prints each
 * round and the medians of
 * rps B ÷ A and CPU per request A ÷ B (above 1: B is faster / cheaper). Build the old
 * commit in a worktree first (`git worktree add`, a node_modules symlink, then
 * `npx tsc -p tsconfig.build.json && node scripts/bundle.mjs`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { spawn } from 'node:child_process';
import { cpuSeconds, median, throughput, which } from './measure.js';
import { pairMeshYaml, startUpstream } from './servers.js';
/** wrk when installed (`apt-get install wrk`), else autocannon (what `throughput` falls back to). */
const WRK = which('wrk');
if (!process.env.A_BIN || !process.env.B_BIN) {
  console.error(
    'usage: A_BIN=<old>/bin/meshdev.js B_BIN=bin/meshdev.js tsx bench/ab-builds.ts [rounds] [connections]',
  );
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 10);
const conns = Number(process.argv[3] ?? 50);
const entry = process.argv[4] ?? 'gateway';
if (entry !== 'gateway' && entry !== 'pair') {
  console.error(`unknown path ${entry}: gateway or pair`);
  process.exit(2);
}
const upstream = await startUpstream();
const yaml =
  entry === 'pair'
    ? pairMeshYaml(upstream.ports.port!)
    : `version: 1
mesh: { name: bench, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: api }] }
services:
  api: { port: ${upstream.ports.port} }
`;
/** The listener wrk calls: the gateway, or the caller's outbound listener of the pair. */
const LISTENER = entry === 'pair' ? 'outbound' : 'gateway';
async function start(bin: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ab-'));
  writeFileSync(path.join(dir, 'mesh.config.yaml'), yaml);
  const child = spawn(process.execPath, [bin, 'up', '--no-ui', '--json', '--quiet', '--no-load'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (!line.includes('"ready"')) continue;
    const ready = JSON.parse(line) as { listeners: Array<{ kind: string; port: number }> };
    child.stdout!.resume();
    return {
      child,
      url: `http://127.0.0.1:${ready.listeners.find((l) => l.kind === LISTENER)!.port}/`,
    };
  }
  throw new Error('no ready line');
}
// The mesh starts in a temp directory: the builds are named from here.
const a = await start(path.resolve(process.env.A_BIN));
const b = await start(path.resolve(process.env.B_BIN));
const sides = [
  { name: 'A', url: a.url, pid: a.child.pid! },
  { name: 'B', url: b.url, pid: b.child.pid! },
];
for (const s of sides) await throughput(s.url, conns, 3, WRK);
const rps: number[] = [],
  cpu: number[] = [];
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? sides : [...sides].reverse();
  const r: Record<string, { rps: number; cpu: number }> = {};
  for (const s of order) {
    const before = cpuSeconds(s.pid)!;
    const t = await throughput(s.url, conns, 3, WRK);
    r[s.name] = { rps: t.rps, cpu: ((cpuSeconds(s.pid)! - before) / t.requests) * 1e6 };
  }
  rps.push(r.B!.rps / r.A!.rps);
  cpu.push(r.A!.cpu / r.B!.cpu);
  console.log(
    `round ${i + 1}: A ${r.A!.rps.toFixed(0)} B ${r.B!.rps.toFixed(0)} rps B/A ${(r.B!.rps / r.A!.rps).toFixed(3)}; cpu µs/req A ${r.A!.cpu.toFixed(1)} B ${r.B!.cpu.toFixed(1)}`,
  );
}
console.log(
  `median rps B/A ${median(rps).toFixed(3)}; CPU per request A/B ${median(cpu).toFixed(3)}`,
);
a.child.kill('SIGTERM');
b.child.kill('SIGTERM');
await upstream.stop();
process.exit(0);
