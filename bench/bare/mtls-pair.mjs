// The mTLS pair's baseline, written by hand with the project's own undici and the mesh's
// own certificates: a plain `http` server (the outbound side) → undici Pool with the
// caller's client certificate → `https` server with `requestCert` (the inbound side) →
// undici Pool → the app. Both sides in one process, as meshdev runs them.
// `node bench/bare/mtls-pair.mjs <app-port> <certs-dir>` prints `PORT n` (the outbound side).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Pool } from 'undici';
import { forwardTo } from './forward.mjs';

const [appPort, dir] = [Number(process.argv[2]), process.argv[3]];
const read = (file) => readFileSync(path.join(dir, file), 'utf8');
const ca = read('ca/ca.crt');

const app = new Pool(`http://127.0.0.1:${appPort}`, { keepAliveTimeout: 30_000 });
const inbound = https.createServer(
  {
    ca,
    cert: read('certs/api.crt'),
    key: read('certs/api.key'),
    requestCert: true,
    rejectUnauthorized: true,
  },
  forwardTo(app),
);
inbound.keepAliveTimeout = 60_000;
inbound.listen(0, '127.0.0.1', () => {
  const tlsPool = new Pool(`https://127.0.0.1:${inbound.address().port}`, {
    keepAliveTimeout: 30_000,
    connect: {
      ca,
      cert: read('certs/client.crt'),
      key: read('certs/client.key'),
      servername: 'localhost',
    },
  });
  const outbound = http.createServer(forwardTo(tlsPool));
  outbound.keepAliveTimeout = 60_000;
  outbound.listen(0, '127.0.0.1', () => console.log(`PORT ${outbound.address().port}`));
});
