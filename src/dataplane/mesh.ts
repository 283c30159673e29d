/**
 * The running mesh: every listener (gateway, one inbound per instance, one outbound per
 * declared dependency) and every simulated instance, wired to the runtime and the event
 * bus. `reconcile` applies a new config by listener: one whose settings are unchanged
 * keeps running (and its connections); changed, added and removed ones are stopped and
 * started. The data plane only emits events; it never prints.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  instanceLabel,
  type GatewayConfig,
  type InstanceConfig,
  type MeshConfig,
  type OutboundSpec,
  type ServiceConfig,
} from '../config/model.js';
import { startSimServer, type SimServer, type SimServerOptions } from '../sim/sim-server.js';
import { MeshBus } from '../telemetry/bus.js';
import { Forwarder, type HopTls } from './forwarder.js';
import { gatewayEntry, inboundEntry, outboundEntry, type HopEntryDeps } from './entries.js';
import {
  MeshListener,
  type ListenerInfo,
  type ListenerKind,
  type ListenerTls,
} from './listener.js';
import { realClock, type HopClock } from './pipeline.js';
import { spiffeId } from './pki/identity.js';
import { Pki } from './pki/pki.js';
import { projectPath } from '../config/project-dir.js';
import { meshRandom, type Random } from '../lib/random.js';
import { MeshRuntime } from './runtime.js';
import { loadContracts, type ContractSet } from '../contracts/contract-set.js';
import {
  answersDynamically,
  mockAnswer,
  type MockRequest,
  type MockSettings,
} from '../contracts/mock.js';
import { fakerLoaded, loadFaker } from '../contracts/mock-dynamic.js';
import { bodyChecksIdle } from '../contracts/off-thread-checks.js';
import { edgeFor } from '../edge/api-edge.js';
import { loadLocalIssuer, type LocalIssuer } from '../edge/local-issuer.js';
import { PlanLimits } from '../edge/plan-limits.js';
import { QuotaStore } from '../edge/quota-store.js';
import { serveRequest, serveUpgrade, type Entry } from './serve.js';
import { SHUTDOWN_GRACE_MS } from './shutdown-grace.js';
import { principalOf } from './stages/upstream.js';

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
  /** The config's contracts, when already loaded; else `start` loads them. */
  contracts?: ContractSet;
  /** How long mTLS hop pools keep idle connections, ms (default `HOP_IDLE_MS`; tests shorten it). */
  hopIdleMs?: number;
}

/** What a reconcile changed, by listener label. */
export interface ReconcileResult {
  started: string[];
  stopped: string[];
}

/** A listener the config asks for: its identity, its settings, and how to make it. */
interface WantedListener {
  key: string;
  signature: string;
  build(): MeshListener;
}

/** A running listener, with what made it (to rebuild it when a reload is rolled back). */
interface Slot {
  signature: string;
  listener: MeshListener;
  build(): MeshListener;
}

const CLOSE_ORDER: ListenerKind[] = ['gateway', 'outbound', 'inbound'];

/** Binds every listener, or none: on the first failure the bound ones are closed again. */
async function bindAll(listeners: readonly MeshListener[]): Promise<void> {
  const bound: MeshListener[] = [];
  try {
    for (const listener of listeners) {
      await listener.listen();
      bound.push(listener);
    }
  } catch (error) {
    await Promise.all(bound.map((listener) => listener.close(0)));
    throw error;
  }
}

export class Mesh {
  readonly bus: MeshBus;
  readonly runtime: MeshRuntime;
  /** Marks requests of the built-in load generator (see `sim/load.ts`). */
  readonly loadToken = randomBytes(16).toString('hex');
  /** The PKI, once a config needs certificates. */
  pki: Pki | undefined;
  /** meshdev's development JWT issuer, once a config trusts it (`gateway.auth.jwt.local`). */
  localIssuer: LocalIssuer | undefined;
  /** Quota counters (persisted under `.meshdev/usage/`) and rate-limit windows of plans. */
  readonly quotas: QuotaStore;
  readonly limits: PlanLimits;
  private current: MeshConfig;
  private readonly forwarder: Forwarder;
  private readonly hopDeps: HopEntryDeps;
  private readonly slots = new Map<string, Slot>();
  private readonly sims = new Map<string, { signature: string; server: SimServer }>();
  private readonly simPorts = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  /** `tlsFor`'s answers, for one certificate generation and one config. */
  private hopTls: {
    generation: number;
    config: MeshConfig | undefined;
    byCaller: Map<string, Map<string, HopTls>>;
  } = { generation: -1, config: undefined, byCaller: new Map() };

  private constructor(
    config: MeshConfig,
    private readonly options: MeshOptions,
  ) {
    this.current = config;
    this.bus = options.bus ?? new MeshBus();
    const clock = options.clock ?? realClock;
    this.runtime = new MeshRuntime(config, () => clock.now());
    this.quotas = new QuotaStore(path.join(this.stateDir(config), 'usage', 'quotas.json'));
    this.limits = new PlanLimits(this.quotas);
    this.forwarder = new Forwarder(options.hopIdleMs);
    this.hopDeps = {
      runtime: this.runtime,
      forwarder: this.forwarder,
      tlsFor: (caller, service) => this.tlsFor(caller, service),
      bus: this.bus,
      random: options.random ?? meshRandom(config.mesh.seed),
      clock,
    };
  }

  /** Starts every listener; on any failure, closes what started and rethrows. */
  static async start(config: MeshConfig, options: MeshOptions = {}): Promise<Mesh> {
    const mesh = new Mesh(config, options);
    try {
      mesh.runtime.contracts = options.contracts ?? (await loadContracts(config));
      await mesh.reconcile(config);
    } catch (error) {
      await mesh.stop(0);
      throw error;
    }
    return mesh;
  }

  /**
   * Moves the mesh to `config`, all or nothing: listeners on new ports are bound first, and
   * if one cannot bind, they are closed again and the mesh keeps the config in force (the
   * error names the port). Then policies switch for the next request, listeners whose
   * settings changed restart (calls in flight on them get the usual grace) and unchanged
   * ones keep running with their connections. A listener that must reuse its old port is
   * rebound after the old one closes; if even that fails, the old listeners come back.
   */
  async reconcile(config: MeshConfig): Promise<ReconcileResult> {
    const first = this.slots.size === 0 && this.sims.size === 0;
    await this.ensureCertificates(config);
    await this.ensureLocalIssuer(config);
    await this.reconcileSims(config);

    const wanted = new Map(this.wantedListeners(config).map((entry) => [entry.key, entry]));
    const stale = [...this.slots].filter(
      ([key, slot]) => wanted.get(key)?.signature !== slot.signature,
    );
    const heldByStale = new Set(stale.map(([, slot]) => slot.listener.info.port));
    const fresh = [...wanted.values()]
      .filter((entry) => !this.slots.has(entry.key) || stale.some(([key]) => key === entry.key))
      .map((entry) => ({ entry, listener: entry.build() }));
    const early = fresh.filter(({ listener }) => !heldByStale.has(listener.info.port));
    const late = fresh.filter(({ listener }) => heldByStale.has(listener.info.port));
    await bindAll(early.map(({ listener }) => listener));

    const previous = this.current;
    this.current = config;
    if (!first) this.runtime.applyConfig(config);
    // Free the old ports and take them over at once; old connections drain after that.
    for (const [, slot] of stale) slot.listener.stopAccepting();
    try {
      await bindAll(late.map(({ listener }) => listener));
    } catch (error) {
      // The old port was taken between close and bind: bring the old listeners back.
      await Promise.all(early.map(({ listener }) => listener.close(0)));
      await this.closeSlots(stale);
      await this.restore(stale, previous);
      throw error;
    }
    const stopped = await this.closeSlots(stale);
    const started: string[] = [];
    for (const { entry, listener } of fresh) {
      this.slots.set(entry.key, { signature: entry.signature, listener, build: entry.build });
      started.push(listener.label);
    }
    this.updateTargets(config);
    this.watchCertificates();
    return { started, stopped };
  }

  /** Closes `slots` edge first, with the shutdown grace; returns their labels. */
  private async closeSlots(slots: Array<[string, Slot]>): Promise<string[]> {
    const stopped: string[] = [];
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    for (const kind of CLOSE_ORDER) {
      const group = slots.filter(([, slot]) => slot.listener.info.kind === kind);
      await Promise.all(
        group.map(([, slot]) => slot.listener.close(Math.max(0, deadline - Date.now()), true)),
      );
      for (const [key, slot] of group) {
        this.slots.delete(key);
        stopped.push(slot.listener.label);
      }
    }
    return stopped;
  }

  /** Rebinds the listeners of a failed reconcile and puts the previous config back. */
  private async restore(slots: Array<[string, Slot]>, config: MeshConfig): Promise<void> {
    this.current = config;
    this.runtime.applyConfig(config);
    for (const [key, slot] of slots) {
      const listener = slot.build();
      try {
        await listener.listen();
        this.slots.set(key, { ...slot, listener });
      } catch (error) {
        this.bus.emit('warning', { listener: listener.label, message: String(error) });
      }
    }
    this.updateTargets(config);
  }

  /** The config in force. */
  get config(): MeshConfig {
    return this.current;
  }

  /** Every listener with its bound port. */
  listenerInfo(): ListenerInfo[] {
    return [...this.slots.values()].map(({ listener }) => ({
      ...listener.info,
      ...(listener.info.handshakes && { handshakes: { ...listener.info.handshakes } }),
    }));
  }

  /** The gateway's bound port. */
  gatewayPort(): number | undefined {
    return this.slots.get('gateway')?.listener.info.port;
  }

  /** The bound port of the extra HTTPS gateway listener (`gateway.tls: {port}`), if any. */
  gatewayTlsPort(): number | undefined {
    return this.slots.get('gateway-tls')?.listener.info.port;
  }

  /** The bound port of `caller`'s outbound listener for `service`. */
  outboundPort(caller: string, service: string): number | undefined {
    return this.slots.get(`outbound:${caller}→${service}`)?.listener.info.port;
  }

  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then closes all. */
  async stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    // Edge first, so calls already inside the mesh can still finish their inner hops.
    const deadline = Date.now() + graceMs;
    for (const kind of CLOSE_ORDER) {
      const group = [...this.slots.values()].filter((slot) => slot.listener.info.kind === kind);
      await Promise.all(
        group.map((slot) => slot.listener.close(Math.max(0, deadline - Date.now()))),
      );
    }
    this.slots.clear();
    // The last calls' records wait for their response bodies' checks.
    await bodyChecksIdle(Math.max(100, deadline - Date.now()));
    // Quota counts survive the restart: write the last of them now.
    this.quotas.flushIfUsed();
    await this.forwarder.close();
    await Promise.all([...this.sims.values()].map((sim) => sim.server.close()));
    this.sims.clear();
  }

  /** mTLS for a hop, or undefined when hops are plaintext. */
  private tlsFor(caller: string, service: string): HopTls | undefined {
    if (!this.pki || this.current.mesh.mtls === 'off') return undefined;
    // Asked on every mTLS call: answers are kept while the certificates and config last.
    if (this.hopTls.generation !== this.pki.generation || this.hopTls.config !== this.current) {
      this.hopTls = { generation: this.pki.generation, config: this.current, byCaller: new Map() };
    }
    const cache = this.hopTls;
    let byService = cache.byCaller.get(caller);
    if (!byService) cache.byCaller.set(caller, (byService = new Map()));
    let tls = byService.get(service);
    if (!tls) {
      const own = this.pki.identity(principalOf(caller));
      tls = {
        ca: this.pki.ca.cert,
        cert: own.cert,
        key: own.key,
        caller: own.name,
        expectedId: spiffeId(this.current.mesh, service),
        generation: this.pki.generation,
      };
      byService.set(service, tls);
    }
    return tls;
  }

  /** Opens the PKI when the config needs it and issues leaves for new identities. */
  private async ensureCertificates(config: MeshConfig): Promise<void> {
    // `gateway.tls` is `true` or an extra port (which may be 0): anything but `false` needs it.
    const httpsGateway = config.gateway !== undefined && config.gateway.tls !== false;
    if (config.mesh.mtls === 'off' && !httpsGateway) return;
    this.pki ??= await Pki.open(config.mesh, this.options.stateDir ?? projectPath(config));
    const missing = this.pki.adopt(identitiesOf(config).filter((name) => !this.pki!.has(name)));
    if (missing.length > 0) await this.pki.issue(missing);
  }

  /** Loads (or creates) the development JWT issuer when `config` trusts it. */
  async ensureLocalIssuer(config: MeshConfig): Promise<void> {
    if (this.localIssuer || !config.gateway?.auth.jwt?.local) return;
    this.localIssuer = await loadLocalIssuer(this.stateDir(config), config.mesh.name);
  }

  /** Where this mesh keeps its files (`.meshdev/` beside the config, unless told). */
  private stateDir(config: MeshConfig): string {
    return this.options.stateDir ?? projectPath(config);
  }

  /** Starts, keeps or restarts each simulated instance by its spec. */
  private async reconcileSims(config: MeshConfig): Promise<void> {
    const wanted = new Map<
      string,
      { instance: InstanceConfig; signature: string; seed?: number }
    >();
    let index = 0;
    for (const service of config.services) {
      for (const instance of service.instances) {
        index++;
        if (!instance.sim || this.options.simulate === false) continue;
        const seed = config.mesh.seed === undefined ? undefined : config.mesh.seed + index;
        wanted.set(instanceKey(instance), {
          instance,
          seed,
          signature: JSON.stringify([instance.sim, seed]),
        });
      }
    }
    for (const [key, sim] of [...this.sims]) {
      if (wanted.get(key)?.signature === sim.signature) continue;
      await sim.server.close();
      this.sims.delete(key);
      this.simPorts.delete(key);
    }
    for (const [key, entry] of wanted) {
      if (this.sims.has(key)) continue;
      // One seeded source per instance: its latencies, errors and made-up answers.
      const random = meshRandom(entry.seed);
      const server = await startSimServer({
        service: entry.instance.service,
        version: entry.instance.version,
        spec: entry.instance.sim!,
        random,
        outboundUrl: (upstream) => {
          const port = this.outboundPort(entry.instance.service, upstream);
          return port === undefined ? undefined : `http://127.0.0.1:${port}`;
        },
        mock: entry.instance.sim!.fromSpec ? this.mockOf(entry.instance, random) : undefined,
      });
      this.sims.set(key, { signature: entry.signature, server });
      this.simPorts.set(key, server.port);
    }
  }

  /**
   * Answers from the instance's contract in force (a spec edit changes the answers live);
   * a dynamic answer waits for its generator the first time only.
   */
  private mockOf(instance: InstanceConfig, random: Random): NonNullable<SimServerOptions['mock']> {
    const settings: MockSettings = { dynamic: instance.sim!.dynamic, random };
    const answer = (request: MockRequest) => {
      const contract = this.runtime.contracts.forInstance(instance.service, instance.version);
      return contract && mockAnswer(contract, request, settings);
    };
    return (request) =>
      !fakerLoaded() && answersDynamically(request, settings)
        ? loadFaker().then(() => answer(request))
        : answer(request);
  }

  /** Every listener `config` asks for, keyed, with the settings that would restart it. */
  private wantedListeners(config: MeshConfig): WantedListener[] {
    const mtls = config.mesh.mtls;
    const wanted: WantedListener[] = [];
    for (const service of config.services) {
      for (const instance of service.instances) {
        wanted.push({
          key: `inbound:${instanceKey(instance)}`,
          signature: JSON.stringify([
            instance.port,
            instance.sim !== undefined,
            mtls,
            config.mesh.trustDomain,
            config.mesh.namespace,
          ]),
          build: () => this.inboundListener(config, service, instance),
        });
      }
    }
    for (const spec of config.outbound) {
      wanted.push({
        key: `outbound:${spec.caller}→${spec.service}`,
        signature: JSON.stringify([this.port(spec.port)]),
        build: () => this.outboundListener(spec),
      });
    }
    const gateway = config.gateway;
    if (gateway) {
      const signature = JSON.stringify([gateway, mtls]);
      wanted.push({
        key: 'gateway',
        signature,
        build: () =>
          this.gatewayListener(gateway, gateway.port, gateway.tls === true ? 'https' : 'http'),
      });
      if (typeof gateway.tls === 'number') {
        const tlsPort = gateway.tls;
        wanted.push({
          key: 'gateway-tls',
          signature,
          build: () => this.gatewayListener(gateway, tlsPort, 'https'),
        });
      }
    }
    return wanted;
  }

  /** The configured port, or 0 (any free port) when the mesh runs on ephemeral ports. */
  private port(configured: number): number {
    return this.options.ephemeralPorts ? 0 : configured;
  }

  private inboundListener(
    config: MeshConfig,
    service: ServiceConfig,
    instance: InstanceConfig,
  ): MeshListener {
    const { runtime, bus } = this;
    const key = instanceKey(instance);
    const label = `inbound ${instanceLabel(instance.service, instance.version)}`;
    const warn = (message: string) => bus.emit('warning', { listener: label, message });
    const entry = inboundEntry({
      mesh: config.mesh,
      service: () => runtime.view(service.name)?.config ?? service,
      instance,
      appPort: () => instance.port ?? this.simPorts.get(key),
      forwarder: this.forwarder,
      warn,
      edge: () => edgeFor(this.runtime.current, this.localIssuer),
    });
    const mtls = config.mesh.mtls;
    const pki = this.pki;
    const tls: ListenerTls | undefined =
      !pki || mtls === 'off'
        ? undefined
        : {
            mode: mtls === 'strict' ? 'strict' : 'permissive',
            context: () => {
              const own = pki.identity(service.name);
              return { key: own.key, cert: own.cert, ca: pki.ca.cert };
            },
            onRefused: warn,
          };
    const info: ListenerInfo = {
      kind: 'inbound',
      service: service.name,
      version: instance.version,
      port: 0,
      target: instance.port,
      security: tls ? (mtls === 'strict' ? 'mtls-strict' : 'mtls-permissive') : 'plain',
    };
    const start = {
      listener: label,
      proto: tls ? ('https' as const) : ('http' as const),
      edge: false,
    };
    return this.listener(
      info,
      { start, stages: entry.http },
      { start, stages: entry.upgrade },
      tls,
    );
  }

  private outboundListener(spec: OutboundSpec): MeshListener {
    const entry = outboundEntry(this.hopDeps);
    const start = {
      listener: `outbound ${spec.caller}→${spec.service}`,
      proto: 'http' as const,
      edge: false,
      caller: spec.caller,
      target: { service: spec.service },
    };
    return this.listener(
      { kind: 'outbound', caller: spec.caller, service: spec.service, port: this.port(spec.port) },
      { start, stages: entry.http },
      { start, stages: entry.upgrade },
    );
  }

  private gatewayListener(
    gateway: GatewayConfig,
    port: number,
    proto: 'http' | 'https',
  ): MeshListener {
    const entry = gatewayEntry(gateway, this.hopDeps, this.loadToken, {
      edge: () => edgeFor(this.runtime.current, this.localIssuer),
      limits: this.limits,
      planOf: (consumer) => this.runtime.planOf(consumer),
    });
    const start = { listener: 'gateway', proto, edge: true, preserveHost: gateway.preserveHost };
    // HTTPS on the gateway presents the gateway's leaf (valid for localhost, 127.0.0.1).
    const tls: ListenerTls | undefined =
      proto === 'https'
        ? {
            mode: 'server',
            context: () => {
              const own = this.pki!.identity('gateway');
              return { key: own.key, cert: own.cert };
            },
            onRefused: (reason) =>
              this.bus.emit('warning', { listener: 'gateway', message: reason }),
          }
        : undefined;
    return this.listener(
      { kind: 'gateway', port: this.port(port), security: tls ? 'tls' : 'plain' },
      { start, stages: entry.http },
      { start, stages: entry.upgrade },
      tls,
    );
  }

  /** A listener serving `http` requests and `upgrade` handshakes through their entries. */
  private listener(
    info: ListenerInfo,
    http: Entry,
    upgrade: Entry,
    tls?: ListenerTls,
  ): MeshListener {
    const deps = this.hopDeps;
    return new MeshListener(
      info,
      (req, res) => serveRequest(deps, http, req, res),
      (req, socket, head) => void serveUpgrade(deps, upgrade, req, socket, head),
      tls,
      (error) =>
        this.bus.emit('warning', { listener: http.start.listener, message: String(error) }),
      (message) => this.bus.emit('warning', { listener: http.start.listener, message }),
    );
  }

  /** Where each instance is reached: its inbound listener, or (mtls off) its own port. */
  private updateTargets(config: MeshConfig): void {
    for (const service of config.services) {
      for (const instance of service.instances) {
        const key = instanceKey(instance);
        const inbound = this.slots.get(`inbound:${key}`)?.listener.info.port;
        const appPort = instance.port ?? this.simPorts.get(key);
        const off = config.mesh.mtls === 'off';
        // mtls off: skip the plaintext loopback hop through our own inbound listener —
        // unless the service is an API product (`auth`), which its inbound side enforces.
        if (off && appPort !== undefined && !service.auth)
          this.runtime.setTarget(service.name, instance.version, appPort, true);
        else if (inbound !== undefined)
          this.runtime.setTarget(service.name, instance.version, inbound, false, off);
      }
    }
  }

  /**
   * Keeps certificates fresh: leaves are re-issued at half-life, and leaves rotated by
   * `meshdev certs rotate` (which touches a marker file) are picked up. Listeners switch
   * to the new context for new connections; pools retire by generation. No call fails.
   */
  private watchCertificates(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    const pki = this.pki;
    if (!pki) return;
    const refresh = () => this.slots.forEach((slot) => slot.listener.refreshTls());
    const schedule = () => {
      const timer = setTimeout(
        () => {
          pki
            .issue(identitiesOf(this.current))
            .then(refresh, (error: unknown) =>
              this.bus.emit('warning', {
                listener: 'pki',
                message: `rotation failed: ${String(error)}`,
              }),
            )
            .finally(schedule);
        },
        Math.min(pki.msUntilRotation(), 2_147_000_000),
      );
      timer.unref();
      this.timers[0] = timer;
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
    this.timers.push(poll);
  }
}

/** `service@version` for every instance (the key of listeners, sims and targets). */
function instanceKey(instance: Pick<InstanceConfig, 'service' | 'version'>): string {
  return `${instance.service}@${instance.version}`;
}

/** Every identity a config needs a certificate for: its services and the gateway. */
function identitiesOf(config: MeshConfig): string[] {
  return [...config.services.map((service) => service.name), 'gateway'];
}
