/**
 * `npm run bench:soak [-- --minutes 10 --requests 1000000 --warmup 60]`: drives the bundled
 * demo mesh (`meshdev up`, free ports, no built-in load) at its maximum rate for a fixed
 * time or number of requests, whichever comes first; samples the mesh process's RSS (from
 * /proc) and V8 heap (its own /metrics) every 10 s into bench/results/soak.json, prints a
 * small text plot, and passes when RSS grows < 50 MB after the warm-up.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import { demoCopy, startMesh } from './servers.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const MINUTES = option('minutes', 10);
const TOTAL = option('requests', 1_000_000);
const WARMUP_S = option('warmup', 60);
const SAMPLE_MS = 10_000;
// Enough in flight to keep the demo's CPU busy (its services simulate latency), not so
// many that its own timeouts (3 s at the frontend) fire while requests queue.
const CONNECTIONS = 64;
const LIMIT_MB = 50;

/** One sample of the mesh process. */
interface Sample {
  seconds: number;
  requests: number;
  rssMb: number;
  heapUsedMb: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function heapUsedMb(admin: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  const bytes = Number(/^nodejs_heap_size_used_bytes\s+([\d.e+]+)/m.exec(text)?.[1] ?? NaN);
  return bytes / 1024 / 1024;
}

// The demo's gateway wants a credential: bob's key, with his plan's limit raised so the
// soak measures calls through the mesh, not 429s at its edge.
const demo = demoCopy();
const GOLD = 'gold: { rateLimit: { requests: 1000, per: 1s } }';
if (!demo.yaml.includes(GOLD)) throw new Error(`the demo's gold plan changed: update ${GOLD}`);
const yaml = demo.yaml.replace(GOLD, 'gold: { rateLimit: { requests: 100000000, per: 1s } }');
const mesh = await startMesh(yaml, ['--no-load'], demo.files);
const pid = mesh.process.pid!;
const gateway = `http://127.0.0.1:${mesh.ports['gateway::']}`;
const pool = new Pool(gateway, { connections: CONNECTIONS });
const statuses = new Map<number, number>();
const send = async () => {
  const response = await pool.request({
    method: 'GET',
    path: '/',
    headers: { 'x-api-key': 'dev-bob-key' },
  });
  statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
  await response.body.dump();
};

const started = performance.now();
const deadline = started + MINUTES * 60_000;
let sent = 0;
let failed = 0;
const samples: Sample[] = [];
const sample = async () => {
  const at = {
    seconds: Math.round((performance.now() - started) / 1000),
    requests: sent,
    rssMb: rssMb(pid),
    heapUsedMb: await heapUsedMb(mesh.ports.admin!),
  };
  samples.push(at);
  process.stderr.write(
    `  ${String(at.seconds).padStart(4)}s  ${sent.toLocaleString().padStart(9)} sent  RSS ${at.rssMb.toFixed(1)} MB  heap ${at.heapUsedMb.toFixed(1)} MB\n`,
  );
};
await sample();
const sampler = setInterval(() => void sample(), SAMPLE_MS);
await Promise.all(
  Array.from({ length: CONNECTIONS }, async () => {
    while (sent < TOTAL && performance.now() < deadline) {
      sent++;
      await send().catch(() => void failed++);
    }
  }),
);
clearInterval(sampler);
await sample();
const seconds = (performance.now() - started) / 1000;
await pool.close();
await mesh.stop();

// Growth after the warm-up: from the first sample at or past it to the last.
const base = samples.find((s) => s.seconds >= WARMUP_S) ?? samples[0]!;
const last = samples[samples.length - 1]!;
const growth = last.rssMb - base.rssMb;
const heapGrowth = last.heapUsedMb - base.heapUsedMb;
const met = growth < LIMIT_MB;

const out = path.resolve(import.meta.dirname, 'results', 'soak.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, minutes: MINUTES, requests: sent, failed, statuses: Object.fromEntries(statuses), seconds, warmupSeconds: WARMUP_S, rssGrowthMb: growth, heapGrowthMb: heapGrowth, met, samples }, null, 2)}\n`,
);
console.log(plot(samples));
console.log(
  `soak: ${sent.toLocaleString()} requests through the demo mesh in ${seconds.toFixed(0)}s (${Math.round(sent / seconds)} req/s), ${failed} failed; statuses ${[...statuses].map(([status, count]) => `${status}×${count}`).join(' ')}`,
);
console.log(
  `RSS after the ${WARMUP_S}s warm-up ${base.rssMb.toFixed(1)} MB → ${last.rssMb.toFixed(1)} MB: growth ${growth.toFixed(1)} MB (target < ${LIMIT_MB} MB: ${met ? 'met' : 'MISS'}); heap ${base.heapUsedMb.toFixed(1)} → ${last.heapUsedMb.toFixed(1)} MB`,
);
console.log(`wrote ${path.relative(process.cwd(), out)}`);

/** RSS (█) over time, one row per sample, scaled to the largest. */
function plot(points: Sample[]): string {
  const top = Math.max(...points.map((p) => p.rssMb));
  return [
    'RSS over time (each █ ≈ 1/40 of the peak)',
    ...points.map(
      (p) =>
        `${String(p.seconds).padStart(5)}s ${p.rssMb.toFixed(0).padStart(4)} MB ${'█'.repeat(Math.max(1, Math.round((p.rssMb / top) * 40)))}`,
    ),
  ].join('\n');
}
