/**
 * Where the API edge's cost is: `npx tsx bench/edge-split.ts [rounds=9] [connections=50]`
 * starts one headless gateway (the bench's edge, `bench/edge-config.ts`) and runs wrk
 * against four of its routes in turn, the order reversed every other round (ABCD DCBA …),
 * 4 s each: no credentials, an API key whose consumer is on no plan (authenticated, not
 * counted), the bench's key whose plan counts every call (the full run's "API key + rate
 * limit"), and a JWT (verified once, then cached). Prints each route's median throughput
 * and the serving process's CPU per request (all threads, and its main thread), with the
 * ratios to the route without credentials — the full run's API key and JWT targets split
 * into authentication and the limit stage. One process serves all four, as in the full
 * run: its code sees every route's header shapes.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { BENCH_KEY, PLANLESS_KEY, edgeGatewayYaml } from './edge-config.js';
import { cpuSeconds, mainThreadCpuSeconds, median, throughput, which } from './measure.js';
import { startMesh, startUpstream } from './servers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const rounds = Number(process.argv[2] ?? 9);
const connections = Number(process.argv[3] ?? 50);
if (!(rounds >= 1 && connections >= 1)) {
  console.error('usage: npx tsx bench/edge-split.ts [rounds=9] [connections=50]');
  process.exit(2);
}
const wrk = which('wrk');

const upstream = await startUpstream();
const mesh = await startMesh(
  `version: 1
mesh: { name: bench-edge, mtls: off, ports: { from: 0 }, admin: { port: 0 } }
${edgeGatewayYaml()}services:
  api: { port: ${upstream.ports.port} }
`,
);
try {
  const base = `http://127.0.0.1:${mesh.ports['gateway::']}`;
  const token = execFileSync(
    process.execPath,
    [path.join(ROOT, 'bin/meshdev.js'), 'token', 'bench', '--ttl', '1h'],
    { cwd: mesh.dir, encoding: 'utf8' },
  ).trim();
  const routes: Array<{ name: string; url: string; headers: Record<string, string> }> = [
    { name: 'no credentials', url: `${base}/open/`, headers: {} },
    { name: 'API key, no plan', url: `${base}/key/`, headers: { 'x-api-key': PLANLESS_KEY } },
    { name: 'API key + rate limit', url: `${base}/key/`, headers: { 'x-api-key': BENCH_KEY } },
    { name: 'JWT (cached)', url: `${base}/jwt/`, headers: { authorization: `Bearer ${token}` } },
  ];
  const pid = mesh.process.pid;
  const seen = routes.map(() => ({
    rps: [] as number[],
    cpu: [] as number[],
    main: [] as number[],
  }));
  // A warm-up on each route, so every route's code is compiled before anything counts.
  for (const route of routes) await throughput(route.url, connections, 4, wrk, route.headers);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
    for (const index of order) {
      const route = routes[index]!;
      const cpuBefore = cpuSeconds(pid)!;
      const mainBefore = mainThreadCpuSeconds(pid)!;
      const result = await throughput(route.url, connections, 4, wrk, route.headers);
      if (result.errors > 0) throw new Error(`${route.name}: ${result.errors} error responses`);
      seen[index]!.rps.push(result.rps);
      seen[index]!.cpu.push(((cpuSeconds(pid)! - cpuBefore) / result.requests) * 1e6);
      seen[index]!.main.push(((mainThreadCpuSeconds(pid)! - mainBefore) / result.requests) * 1e6);
    }
  }
  const open = seen[0]!;
  console.log(
    `${rounds} rounds of 4 s per route, ${connections} connections, ${wrk ? 'wrk' : 'autocannon'}; medians (÷ no credentials):`,
  );
  routes.forEach((route, index) => {
    const s = seen[index]!;
    console.log(
      `${route.name.padEnd(22)} ${median(s.rps).toFixed(0).padStart(6)} req/s (${(median(s.rps) / median(open.rps)).toFixed(3)})  ` +
        `CPU ${median(s.cpu).toFixed(1)} µs/req (no credentials ÷ this ${(median(open.cpu) / median(s.cpu)).toFixed(3)}), ` +
        `main thread ${median(s.main).toFixed(1)} µs`,
    );
  });
} finally {
  await mesh.stop();
  await upstream.stop();
}
