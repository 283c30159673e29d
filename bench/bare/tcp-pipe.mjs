// The least a Node process in the path can add: a TCP pipe that copies bytes both ways
// and parses nothing (no HTTP, no pool). The latency references' floor for any hop
// written in Node on this machine: its added p99 is one more process to wake per packet.
// `node bench/bare/tcp-pipe.mjs <target-port>` prints `PORT n` when it listens.
import net from 'node:net';

const target = Number(process.argv[2]);
const server = net.createServer((client) => {
  const upstream = net.connect(target, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream).on('error', () => client.destroy());
  upstream.pipe(client).on('error', () => upstream.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
