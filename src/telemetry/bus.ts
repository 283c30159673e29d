/**
 * The typed event bus: the data plane only emits; renderers (access log, stats,
 * dashboard, metrics) subscribe. Emitting never throws into the data plane.
 */
import { EventEmitter } from 'node:events';
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

/** A typed wrapper over EventEmitter. */
export class MeshBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof MeshEventMap>(event: K, listener: (...args: MeshEventMap[K]) => void) {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return () => this.emitter.off(event, listener as (...args: unknown[]) => void);
  }

  /** Emits to every subscriber; a failing subscriber cannot break a call. */
  emit<K extends keyof MeshEventMap>(event: K, ...args: MeshEventMap[K]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (...a: MeshEventMap[K]) => void)(...args);
      } catch {
        // Subscribers own their errors; the data plane carries on.
      }
    }
  }
}
