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
import type { HopTls } from './forwarder.js';
import type { InboundContext } from './inbound.js';
import type { ListenerTls } from './listener.js';
import { Pki } from './pki/pki.js';
import { spiffeId } from './pki/identity.js';
import { projectPath } from './project-dir.js';
import { principalOf } from './stages/upstream.js';
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
  /** Where `.meshdev/` state lives (CA, certificates); default beside the config file. */
  stateDir?: string;
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
    /** The PKI, unless mtls is off. */
    readonly pki: Pki | undefined,
    private readonly timers: NodeJS.Timeout[],
  ) {}

  /** Starts every listener; on any failure, closes what started and rethrows. */
  static async start(config: MeshConfig, options: MeshOptions = {}): Promise<Mesh> {
    const bus = options.bus ?? new MeshBus();
    const clock = options.clock ?? realClock;
    const runtime = new MeshRuntime(config, () => clock.now());
    const forwarder = new Forwarder();
    const mtls = config.mesh.mtls;
    const gatewayTls = config.gateway?.tls ?? false;
    const pki =
      mtls === 'off' && gatewayTls === false
        ? undefined
        : await Pki.open(config.mesh, options.stateDir ?? projectPath(config));
    const identities = [...config.services.map((service) => service.name), 'gateway'];
    await pki?.issue(identities);
    const tlsFor = (caller: string, service: string): HopTls | undefined => {
      if (!pki || mtls === 'off') return undefined;
      const own = pki.identity(principalOf(caller));
      return {
        ca: pki.ca.cert,
        cert: own.cert,
        key: own.key,
        caller: own.name,
        expectedId: spiffeId(config.mesh, service),
        generation: pki.generation,
      };
    };
    const deps: HopDeps = {
      runtime,
      stages: outboundStages(forwarder, tlsFor),
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
        const inbound: InboundContext = {
          mesh: config.mesh,
          service: () => runtime.view(service.name)?.config ?? service,
          instance,
          appPort,
          forwarder,
          warn: (message) => bus.emit('warning', { listener: `inbound ${service.name}`, message }),
        };
        const info: ListenerInfo = {
          kind: 'inbound',
          service: service.name,
          version: instance.version,
          port: 0,
          target: appPort(),
          security:
            pki && mtls !== 'off'
              ? mtls === 'strict'
                ? 'mtls-strict'
                : 'mtls-permissive'
              : 'plain',
        };
        const tls: ListenerTls | undefined =
          !pki || mtls === 'off'
            ? undefined
            : {
                mode: mtls === 'strict' ? 'strict' : 'permissive',
                context: () => {
                  const own = pki.identity(service.name);
                  return { key: own.key, cert: own.cert, ca: pki.ca.cert };
                },
                onRefused: (reason) => inbound.warn(reason),
              };
        listeners.push(
          new MeshListener(info, inboundHandler(inbound), inboundUpgrade(inbound), tls, (error) =>
            inbound.warn(`internal error: ${String(error)}`),
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
        const tls = target.direct ? undefined : tlsFor(caller, service);
        const headers: Record<string, string> =
          target.direct || tls ? {} : { [CALLER_HEADER]: caller };
        proxyUpgrade(req, socket, head, target.port, headers, tls);
      };
    for (const spec of config.outbound) {
      listeners.push(
        new MeshListener(
          { kind: 'outbound', caller: spec.caller, service: spec.service, port: port(spec.port) },
          (req, res) =>
            handleHop(
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
      // HTTPS on the gateway presents the gateway's leaf (valid for localhost, 127.0.0.1).
      const serverTls = (): ListenerTls => ({
        mode: 'server',
        context: () => ({
          key: pki!.identity('gateway').key,
          cert: pki!.identity('gateway').cert,
        }),
        onRefused: (reason) => bus.emit('warning', { listener: 'gateway', message: reason }),
      });
      const https = gatewayTls === true;
      listeners.push(
        new MeshListener(
          { kind: 'gateway', port: port(config.gateway.port), security: https ? 'tls' : 'plain' },
          gatewayHandler(config.gateway, deps, loadToken, https ? 'https' : 'http'),
          gatewayUpgrade(config.gateway, tunnel('gateway')),
          https ? serverTls() : undefined,
        ),
      );
      if (typeof gatewayTls === 'number') {
        listeners.push(
          new MeshListener(
            { kind: 'gateway', port: port(gatewayTls), security: 'tls' },
            gatewayHandler(config.gateway, deps, loadToken, 'https'),
            gatewayUpgrade(config.gateway, tunnel('gateway')),
            serverTls(),
          ),
        );
      }
    }

    try {
      for (const listener of listeners) {
        await listener.listen();
        const { kind, service, version, caller } = listener.info;
        if (kind === 'inbound') {
          const appPort = listener.info.target ?? simPorts.get(`${service}@${version}`);
          // mtls off: skip the plaintext loopback hop through our own inbound listener.
          if (config.mesh.mtls === 'off' && appPort !== undefined)
            runtime.setTarget(service!, version!, appPort, true);
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
    const timers = pki ? watchCertificates(pki, identities, listeners, bus) : [];
    return new Mesh(config, runtime, bus, listeners, forwarder, sims, loadToken, pki, timers);
  }

  /** Every listener with its bound port. */
  listenerInfo(): ListenerInfo[] {
    return this.listeners.map((listener) => ({ ...listener.info }));
  }

  /** The gateway's bound port. */
  gatewayPort(): number | undefined {
    return this.listeners.find((l) => l.info.kind === 'gateway')?.info.port;
  }

  /** The bound port of the extra HTTPS gateway listener (`gateway.tls: {port}`), if any. */
  gatewayTlsPort(): number | undefined {
    return this.listeners.filter((l) => l.info.kind === 'gateway')[1]?.info.port;
  }

  /** The bound port of `caller`'s outbound listener for `service`. */
  outboundPort(caller: string, service: string): number | undefined {
    return this.listeners.find(
      (l) => l.info.kind === 'outbound' && l.info.caller === caller && l.info.service === service,
    )?.info.port;
  }

  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then closes all. */
  async stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
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

/**
 * Keeps certificates fresh: leaves are re-issued at half-life, and leaves rotated by
 * `meshdev certs rotate` (which touches a marker file) are picked up. Listeners switch to
 * the new context for new connections; pools retire by generation. No call fails.
 */
function watchCertificates(
  pki: Pki,
  identities: string[],
  listeners: MeshListener[],
  bus: MeshBus,
): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
  const refresh = () => listeners.forEach((listener) => listener.refreshTls());
  const schedule = () => {
    const timer = setTimeout(
      () => {
        pki
          .issue(identities)
          .then(refresh, (error: unknown) =>
            bus.emit('warning', { listener: 'pki', message: `rotation failed: ${String(error)}` }),
          )
          .finally(schedule);
      },
      Math.min(pki.msUntilRotation(), 2_147_000_000),
    );
    timer.unref();
    timers[0] = timer;
  };
  schedule();
  let marker = pki.rotationMarker();
  const poll = setInterval(() => {
    const now = pki.rotationMarker();
    if (now === marker) return;
    marker = now;
    pki.reloadFromDisk();
    refresh();
  }, 1000);
  poll.unref();
  timers.push(poll);
  return timers;
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
