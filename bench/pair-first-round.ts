/**
 * `npx tsx bench/pair-first-round.ts [idle seconds, default 90]`: the bench's order around
 * the mTLS pair's first latency round, by itself — the bench's upstream, meshdev pair and
 * bare pair; three wrk rounds of 3 s at 50 connections and three at 1 on each pair; an idle
 * pause; then three open-loop rounds of 2 s at 1,000 req/s on the meshdev pair — printing
 * the inbound listener's TLS handshakes (full/resumed, from `/metrics`) and its established
 * connections (`ss`, when installed) between steps (docs/benchmarks.md, 2026-11-30). Needs wrk.
 */
import path from 'node:path';
import { latencyAtRate, throughput, which } from './measure.js';
import {
  PAIR_OUTBOUND,
  pairHopState,
  startBareMtlsPair,
  startPairMesh,
  startUpstream,
} from './servers.js';

const idleSeconds = Number(process.argv[2] ?? 90);
const wrk = which('wrk');
const upstream = await startUpstream();
const target = upstream.ports.port!;
const pair = await startPairMesh(target);
const bare = await startBareMtlsPair(target, path.join(pair.dir!, '.meshdev'));
try {
  const pairUrl = `http://127.0.0.1:${pair.ports[PAIR_OUTBOUND]}/`;
  const bareUrl = `http://127.0.0.1:${bare.ports.port}/`;
  const report = async (label: string) => console.log(`${label}: ${await pairHopState(pair)}`);
  for (const connections of [50, 50, 50, 1, 1, 1]) {
    await throughput(bareUrl, connections, 3, wrk);
    await throughput(pairUrl, connections, 3, wrk);
  }
  await report('after wrk');
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  await report(`after ${idleSeconds} s idle`);
  for (let round = 1; round <= 3; round++) {
    const latency = await latencyAtRate(pairUrl, 1000, 2);
    console.log(`round ${round}: p99 ${latency.p99} ms, max ${latency.max} ms`);
    await report(`after round ${round}`);
  }
} finally {
  for (const child of [bare, pair, upstream]) await child.stop();
}
