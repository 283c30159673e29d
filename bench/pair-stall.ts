/**
 * `npx tsx bench/pair-stall.ts [stall ms, default 150] [trials, default 3] [meshdev|bare]`:
 * what a short stall of an mTLS pair's process costs while an open-loop sender keeps
 * sending at 1,000 req/s — the pile-up behind the meshdev pair's first latency round in
 * `npm run bench` (docs/benchmarks.md, 2026-11-30, session 22). Each trial starts a pair
 * (meshdev's, or the bare undici pair with the same certificates), warms it with wrk at 50
 * connections and one open-loop second, then sends for 4 s and stops the pair's process
 * (SIGSTOP) for the stall 2 s in. It prints the TCP connections the process holds (by `ss`)
 * before and after — and for meshdev the TLS handshakes its inbound listener made (full/
 * resumed) — and the trial's p99 and worst latency. Needs wrk and ss.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { latencyAtRate, throughput, which } from './measure.js';
import {
  PAIR_OUTBOUND,
  pairHopState,
  startBareMtlsPair,
  startPairMesh,
  startUpstream,
  type Child,
} from './servers.js';

const stallMs = Number(process.argv[2] ?? 150);
const trials = Number(process.argv[3] ?? 3);
const bare = process.argv[4] === 'bare';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Established TCP connections held by process `pid` (both ends of its own hop count). */
function connectionsOf(pid: number): number {
  const listing = execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' });
  return listing.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
}

const upstream = await startUpstream();
// The bare pair uses the certificates a meshdev pair issued, as the bench's does.
const certs = bare ? await startPairMesh(upstream.ports.port!) : undefined;
try {
  for (let trial = 1; trial <= trials; trial++) {
    const pair: Child = bare
      ? await startBareMtlsPair(upstream.ports.port!, path.join(certs!.dir!, '.meshdev'))
      : await startPairMesh(upstream.ports.port!);
    try {
      const url = `http://127.0.0.1:${bare ? pair.ports.port : pair.ports[PAIR_OUTBOUND]}/`;
      const pid = pair.process.pid!;
      const state = async () =>
        `${connectionsOf(pid)} connections${bare ? '' : `, ${await pairHopState(pair)}`}`;
      await throughput(url, 50, 3, which('wrk'));
      await latencyAtRate(url, 1000, 1);
      const before = await state();
      const sending = latencyAtRate(url, 1000, 4);
      await sleep(2000);
      process.kill(pid, 'SIGSTOP');
      await sleep(stallMs);
      process.kill(pid, 'SIGCONT');
      const latency = await sending;
      console.log(
        `trial ${trial}: before ${before}; after ${await state()}; p99 ${latency.p99} ms, max ${latency.max} ms, errors ${latency.errors}${latency.errors ? ` (${latency.failures})` : ''}`,
      );
    } finally {
      await pair.stop();
    }
  }
} finally {
  await certs?.stop();
  await upstream.stop();
}
