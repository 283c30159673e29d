// A bare forwarder written by hand with the project's own undici: the hop's baseline.
// `node bench/bare/forwarder.mjs <target-port> [--mesh-headers]` prints `PORT n` when it
// listens; `--mesh-headers` adds the headers a meshdev hop adds (see forward.mjs).
import http from 'node:http';
import { Pool } from 'undici';
import { forwardTo } from './forward.mjs';

const target = Number(process.argv[2]);
const pool = new Pool(`http://127.0.0.1:${target}`, { keepAliveTimeout: 30_000, pipelining: 1 });
const server = http.createServer(
  forwardTo(pool, { meshHeaders: process.argv.includes('--mesh-headers') }),
);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
