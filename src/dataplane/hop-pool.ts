/**
 * A keep-alive pool of undici `Client`s to one origin that gives each call a connected
 * idle client first, then an idle one whose connection closed (it connects again), and
 * makes a new client only when every one is busy. undici's own `Pool` takes the first idle
 * client in the order they were made, connected or not: once connections have closed (a
 * server's idle timeout, a cut call), the next calls connect those clients again — a TLS
 * handshake each between two listeners — while connected clients further down sit idle.
 *
 * A client whose call was cut (the caller left, or the attempt timed out: the mesh aborts
 * the call, which closes its HTTP/1.1 connection, as Envoy resets the upstream stream) is
 * dropped: undici would connect it again at once for the call that is gone (undici#5845),
 * a handshake for a connection nobody asked for.
 */
import { createRequire } from 'node:module';
import type { Client as ClientClass, Dispatcher } from 'undici';

/** undici's Client from its own file (its index costs ~0.1 s of every start to load). */
const requireUndici = createRequire(import.meta.url);
const Client = requireUndici('undici/lib/dispatcher/client.js') as typeof ClientClass;

/** One client of the pool, and what the pool knows of it from its events. */
interface Slot {
  client: ClientClass;
  /** Has a call in flight (its `dispatch` said so); free again on its `drain`. */
  busy: boolean;
  /** Holds an open connection (between its `connect` and `disconnect`). */
  connected: boolean;
}

/** Connections to one origin, reused connected-first; no limit on their number. */
export class HopPool {
  private slots: Slot[] = [];

  constructor(
    private readonly origin: string,
    private readonly options: ClientClass.Options,
  ) {}

  /** Sends one request on a free client (see the file's comment for which). */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const slot = this.free() ?? this.add();
    // With one request at a time per connection, `dispatch` says false: busy until `drain`.
    slot.busy = !slot.client.dispatch(options, handler);
  }

  /** How many clients the pool holds, connected or not. */
  get size(): number {
    return this.slots.length;
  }

  /** Finishes the calls in flight, then closes every connection. */
  close(): Promise<void> {
    return this.end((client) => client.close());
  }

  /** Closes every connection at once; calls in flight fail. */
  destroy(): Promise<void> {
    return this.end((client) => client.destroy());
  }

  /** Empties the pool, then ends each of its clients with `how`. */
  private async end(how: (client: ClientClass) => Promise<void>): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((slot) => how(slot.client)));
  }

  private free(): Slot | undefined {
    let disconnected: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.busy) continue;
      if (slot.connected) return slot;
      disconnected ??= slot;
    }
    return disconnected;
  }

  private add(): Slot {
    const client = new Client(this.origin, this.options);
    const slot: Slot = { client, busy: false, connected: false };
    client.on('connect', () => {
      slot.connected = true;
    });
    client.on('disconnect', (_origin: unknown, _targets: unknown, error: Error) => {
      slot.connected = false;
      if (isAbort(error)) this.drop(slot, true);
    });
    client.on('drain', () => {
      slot.busy = false;
    });
    // A client that could not connect is dropped, as undici's Pool drops it (undici#3895):
    // its calls have failed, and the next call gets a client of its own.
    client.on('connectionError', () => this.drop(slot, false));
    this.slots.push(slot);
    return slot;
  }

  /**
   * Takes `slot` out of the pool; `destroy`: and destroys its client, which forgets the
   * call it still counts as pending (the cut one) instead of connecting for it.
   */
  private drop(slot: Slot, destroy: boolean): void {
    this.slots = this.slots.filter((other) => other !== slot);
    if (destroy) slot.client.destroy().catch(() => {});
  }
}

/** The reason undici gives a connection it closed because a call on it was aborted. */
function isAbort(error: Error | undefined): boolean {
  return (
    (error as { code?: string } | undefined)?.code === 'UND_ERR_INFO' &&
    error?.message === 'aborted'
  );
}
