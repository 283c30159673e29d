import { randomBytes } from 'node:crypto';
/**
 * The running mesh: starts every listener (gateway, one inbound per instance, one
 * outbound per declared dependency), wires them to the runtime and the event bus, and
 * stops them gracefully. The data plane only emits events; it never prints.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { MeshConfig } from '../config/model.js';
import { MeshBus } from '../telemetry/bus.js';
import { Forwarder } from './forwarder.js';
import { gatewayHandler, gatewayUpgrade } from './gateway.js';
import { handleHop, type HopDeps } from './hop.js';
import { inboundHandler, inboundUpgrade } from './inbound.js';
import { MeshListener, type ListenerInfo } from './listener.js';
import { outboundStages } from './outbound-stages.js';
import { realClock, type HopClock } from './pipeline.js';
import { meshRandom, type Random } from './random.js';
import { MeshRuntime } from './runtime.js';
import { pickWeighted } from './stages/split.js';
import { CALLER_HEADER } from './stages/upstream.js';
import { proxyUpgrade } from './ws-proxy.js';
import { startSimulators } from '../sim/simulators.js';
import type { SimServer } from '../sim/sim-server.js';

export interface MeshOptions {
  bus?: MeshBus;
  /** Defaults to a generator seeded with `mesh.seed`, or Math.random. */
  random?: Random;
  clock?: HopClock;
  /** Listen on free ports instead of the configured ones (tests). */
  ephemeralPorts?: boolean;
  /** Start the simulated instances (`sim:`); default true. */
  simulate?: boolean;
}

/** How long in-flight calls may take to finish on shutdown, ms. */
export const SHUTDOWN_GRACE_MS = 5_000;

export class Mesh {
  private constructor(
    readonly config: MeshConfig,
    readonly runtime: MeshRuntime,
    readonly bus: MeshBus,
    private readonly listeners: MeshListener[],
    private readonly forwarder: Forwarder,
    private readonly sims: SimServer[],
    /** Marks requests of the built-in load generator (see `sim/load.ts`). */
    readonly loadToken: string,
  ) {}

  /** Starts every listener; on any failure, closes what started and rethrows. */
  static async start(config: MeshConfig, options: MeshOptions = {}): Promise<Mesh> {
    const bus = options.bus ?? new MeshBus();
    const clock = options.clock ?? realClock;
    const runtime = new MeshRuntime(config, () => clock.now());
    const forwarder = new Forwarder();
    const deps: HopDeps = {
      runtime,
      stages: outboundStages(forwarder),
      bus,
      random: options.random ?? meshRandom(config.mesh.seed),
      clock,
    };
    const port = (configured: number) => (options.ephemeralPorts ? 0 : configured);
    const listeners: MeshListener[] = [];
    const loadToken = randomBytes(16).toString('hex');
    const outboundPorts = new Map<string, number>();
    const { sims, simPorts } =
      options.simulate === false
        ? { sims: [], simPorts: new Map<string, number>() }
        : await startSimulators(config, (caller, upstream) => {
            const bound = outboundPorts.get(`${caller}→${upstream}`);
            return bound === undefined ? undefined : `http://127.0.0.1:${bound}`;
          });

    for (const service of config.services) {
      for (const instance of service.instances) {
        const appPort = () =>
          instance.port ?? simPorts.get(`${instance.service}@${instance.version}`);
        listeners.push(
          new MeshListener(
            {
              kind: 'inbound',
              service: service.name,
              version: instance.version,
              port: 0,
              target: appPort(),
            },
            inboundHandler(instance, appPort, forwarder),
            inboundUpgrade(appPort),
          ),
        );
      }
    }
    const tunnel =
      (caller: string) =>
      (service: string, req: IncomingMessage, socket: Socket, head: Buffer, pinned?: string) => {
        const version = pinned ?? chooseVersion(runtime, service, req, deps.random);
        const target = version === undefined ? undefined : runtime.view(service)?.target(version);
        if (!target) return socket.destroy();
        proxyUpgrade(req, socket, head, target.port, target.direct ? {} : { [CALLER_HEADER]: caller });
      };
    for (const spec of config.outbound) {
      listeners.push(
        new MeshListener(
          { kind: 'outbound', caller: spec.caller, service: spec.service, port: port(spec.port) },
          (req, res) =>
            void handleHop(
              deps,
              { caller: spec.caller, service: spec.service, path: req.url ?? '/', proto: 'http' },
              req,
              res,
            ),
          (req, socket, head) => tunnel(spec.caller)(spec.service, req, socket, head),
        ),
      );
    }
    if (config.gateway) {
      listeners.push(
        new MeshListener(
          { kind: 'gateway', port: port(config.gateway.port) },
          gatewayHandler(config.gateway, deps, loadToken),
          gatewayUpgrade(config.gateway, tunnel('gateway')),
        ),
      );
    }

    try {
      for (const listener of listeners) {
        await listener.listen();
        const { kind, service, version, caller } = listener.info;
        if (kind === 'inbound') {
          const appPort = listener.info.target ?? simPorts.get(`${service}@${version}`);
          // mtls off: skip the plaintext loopback hop through our own inbound listener.
          if (config.mesh.mtls === 'off' && appPort !== undefined) runtime.setTarget(service!, version!, appPort, true);
          else runtime.setTarget(service!, version!, listener.info.port);
        }
        if (kind === 'outbound') outboundPorts.set(`${caller}→${service}`, listener.info.port);
      }
    } catch (error) {
      await Promise.allSettled(listeners.map((listener) => listener.close(0)));
      await Promise.allSettled(sims.map((sim) => sim.close()));
      await forwarder.destroy();
      throw error;
    }
    return new Mesh(config, runtime, bus, listeners, forwarder, sims, loadToken);
  }

  /** Every listener with its bound port. */
  listenerInfo(): ListenerInfo[] {
    return this.listeners.map((listener) => ({ ...listener.info }));
  }

  /** The gateway's bound port. */
  gatewayPort(): number | undefined {
    return this.listeners.find((l) => l.info.kind === 'gateway')?.info.port;
  }

  /** The bound port of `caller`'s outbound listener for `service`. */
  outboundPort(caller: string, service: string): number | undefined {
    return this.listeners.find(
      (l) => l.info.kind === 'outbound' && l.info.caller === caller && l.info.service === service,
    )?.info.port;
  }

  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then closes all. */
  async stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    // Edge first, so calls already inside the mesh can still finish their inner hops.
    const deadline = Date.now() + graceMs;
    for (const kind of ['gateway', 'outbound', 'inbound'] as const) {
      const group = this.listeners.filter((listener) => listener.info.kind === kind);
      await Promise.all(
        group.map((listener) => listener.close(Math.max(0, deadline - Date.now()))),
      );
    }
    await this.forwarder.close();
    await Promise.all(this.sims.map((sim) => sim.close()));
  }
}

/** Picks a version for a request that skips the pipeline (WebSocket upgrades). */
function chooseVersion(
  runtime: MeshRuntime,
  service: string,
  req: IncomingMessage,
  random: Random,
): string | undefined {
  const view = runtime.view(service);
  if (!view) return undefined;
  const input = {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0]!,
    headers: req.headers,
  };
  const route = view.routes.find((candidate) => candidate.match.test(input));
  if (!route && view.routes.length > 0 && !view.splitOverride) return undefined;
  if (route?.to) return route.to;
  return pickWeighted(
    route?.split ?? view.splitOverride ?? view.versions.map((version) => ({ version, weight: 1 })),
    random,
  );
}
