/**
 * The typed event bus: the data plane only emits; renderers (access log, stats,
 * dashboard, metrics) subscribe. Emitting never throws into the data plane.
 */
import type { CallRecord } from './call-record.js';

/** The state of the config file as the running mesh sees it. */
export interface ConfigStatus {
  status: 'ok' | 'reloaded' | 'invalid';
  at: number;
  message: string;
}

/** Every event the mesh emits, by name. */
export interface MeshEventMap {
  call: [CallRecord];
  config: [ConfigStatus];
  /** A supervised process changed state (starting, up, crashed…). */
  process: [{ instance: string; state: string; message: string }];
  /** A connection or listener problem that did not become a call (e.g. refused TLS). */
  warning: [{ listener: string; message: string }];
}

type Listener = (...args: never[]) => void;

/**
 * Typed events with their listeners in plain arrays, replaced (not changed) when one
 * subscribes or unsubscribes: an emit walks the array it started with, and allocates
 * nothing — one `call` event goes out per hop.
 */
export class MeshBus {
  private readonly listeners = new Map<keyof MeshEventMap, readonly Listener[]>();

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof MeshEventMap>(event: K, listener: (...args: MeshEventMap[K]) => void) {
    const added = listener as unknown as Listener;
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), added]);
    return () => {
      const current = this.listeners.get(event) ?? [];
      const index = current.indexOf(added);
      if (index >= 0) this.listeners.set(event, current.toSpliced(index, 1));
    };
  }

  /** Emits to every subscriber; a failing subscriber cannot break a call. */
  emit<K extends keyof MeshEventMap>(event: K, ...args: MeshEventMap[K]): void {
    const listeners = this.listeners.get(event);
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        (listener as unknown as (...a: MeshEventMap[K]) => void)(...args);
      } catch {
        // Subscribers own their errors; the data plane carries on.
      }
    }
  }
}
