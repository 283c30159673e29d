/**
 * `npm run bench:soak [-- --requests N]`: sends 1,000,000 requests (by default) through
 * the bundled demo mesh (`meshdev up`, free ports, no built-in load) and reports the mesh
 * process's RSS before and after. Target: growth < 50 MB.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import { startMesh } from './servers.js';

const arg = process.argv.indexOf('--requests');
const TOTAL = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;
const CONNECTIONS = 64;
const ROOT = path.resolve(import.meta.dirname, '..');

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const demo = readFileSync(path.join(ROOT, 'mesh.config.yaml'), 'utf8')
  .replace('port: 8080', 'port: 0')
  .replace('admin: { port: 15000 }', 'admin: { port: 0 }')
  .replace('ports: { from: 15100 }', 'ports: { from: 0 }');
const mesh = await startMesh(demo, ['--no-load']);
const pid = mesh.process.pid!;
const gateway = `http://127.0.0.1:${mesh.ports['gateway::']}`;
const pool = new Pool(gateway, { connections: CONNECTIONS });
const send = async () => (await pool.request({ method: 'GET', path: '/' })).body.dump();

// Warm up, so the baseline includes JIT, pools and the stats window.
for (let i = 0; i < 2000; i += CONNECTIONS)
  await Promise.all(Array.from({ length: CONNECTIONS }, send));
const before = rssMb(pid);
const started = performance.now();
let sent = 0;
let failed = 0;
let lastReport = started;
await Promise.all(
  Array.from({ length: CONNECTIONS }, async () => {
    while (sent < TOTAL) {
      sent++;
      await send().catch(() => void failed++);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        process.stderr.write(`  ${sent.toLocaleString()} sent, RSS ${rssMb(pid).toFixed(1)} MB\n`);
      }
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
const after = rssMb(pid);
await pool.close();
await mesh.stop();
console.log(
  `soak: ${TOTAL.toLocaleString()} requests through the demo mesh in ${seconds.toFixed(0)}s (${Math.round(TOTAL / seconds)} req/s), ${failed} failed`,
);
console.log(
  `RSS before ${before.toFixed(1)} MB, after ${after.toFixed(1)} MB, growth ${(after - before).toFixed(1)} MB (target < 50 MB: ${after - before < 50 ? 'met' : 'MISS'})`,
);
