/**
 * Which loopback address an app answers on. meshdev reaches apps on 127.0.0.1, but a dev
 * server bound to `localhost` listens on ::1 alone where `localhost` resolves to ::1
 * first (Node ≥ 17 on macOS: Vite, Next, any `listen(port, 'localhost')`) — and then a
 * mesh that only tries 127.0.0.1 reports a running server as down. So the address of an
 * app's port is found by connecting (127.0.0.1 first, then ::1), remembered, and found
 * again after a refused connection (the server restarted, perhaps bound elsewhere).
 */
import net from 'node:net';

/** The two loopback addresses an app may listen on. */
export type LoopbackHost = '127.0.0.1' | '::1';

/** How long one probe connection may take, ms: loopback answers in well under 1 ms. */
const PROBE_TIMEOUT_MS = 1_000;

/** Whether something accepts a TCP connection on `host:port` within `timeoutMs`. */
export function accepts(
  host: LoopbackHost,
  port: number,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The loopback address that accepts connections on `port` (127.0.0.1 first), if any. */
export async function findLoopback(
  port: number,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<LoopbackHost | undefined> {
  if (await accepts('127.0.0.1', port, timeoutMs)) return '127.0.0.1';
  if (await accepts('::1', port, timeoutMs)) return '::1';
  return undefined;
}

/** `127.0.0.1:8080` or `[::1]:8080`, as a URL's authority. */
export function authorityOf(host: LoopbackHost, port: number): string {
  return host === '::1' ? `[::1]:${port}` : `${host}:${port}`;
}

/** The addresses of app ports, as found; one per mesh (ports are reused between meshes). */
export class AppAddresses {
  private readonly known = new Map<number, LoopbackHost>();
  private readonly finding = new Map<number, Promise<LoopbackHost>>();

  /** The address found for `port`, or undefined when it must be found first. */
  get(port: number): LoopbackHost | undefined {
    return this.known.get(port);
  }

  /**
   * Finds the address of `port` (one probe at a time per port, shared by the calls that
   * wait for it). Nothing listening: 127.0.0.1, not remembered, so the next call looks again.
   */
  find(port: number): Promise<LoopbackHost> {
    let pending = this.finding.get(port);
    if (!pending) {
      pending = findLoopback(port).then((found) => {
        this.finding.delete(port);
        if (found) this.known.set(port, found);
        return found ?? '127.0.0.1';
      });
      this.finding.set(port, pending);
    }
    return pending;
  }

  /** Forgets `port`'s address: a connection to it was refused. */
  forget(port: number): void {
    this.known.delete(port);
  }
}
