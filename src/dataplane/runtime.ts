/**
 * The in-process runtime API: faults and splits changed live as overlays on the file
 * config, and the state in force. Every change builds new immutable service views, so
 * the next request sees it and requests in flight keep the view they started with.
 */
import type { FaultRule, MeshConfig, RouteRule, ServiceConfig } from '../config/model.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { ContractSet } from '../contracts/contract-set.js';
import {
  compileFaults,
  compileRoutes,
  type InstanceTarget,
  type ServiceView,
} from './service-view.js';

type Weights = ReadonlyArray<{ version: string; weight: number }>;

/** A runtime change the mesh refuses, with the reason. */
export class RuntimeChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeChangeError';
  }
}

/** A fault added at runtime; `expiresAt` (epoch ms) ends it by itself. */
export interface RuntimeFault extends FaultRule {
  expiresAt?: number;
}

/** A route added at runtime, matched before the file's routes; its id is its name. */
export interface RuntimeRoute extends RouteRule {
  id: string;
}

/** What `state()` reports per service. */
export interface ServiceState {
  name: string;
  versions: string[];
  faults: Array<FaultRule & { source: 'file' | 'runtime'; expiresAt?: number }>;
  split: { weights: Record<string, number>; source: 'file' | 'runtime' } | null;
  /** Runtime routes (`meshdev route add`), in match order: before the file's routes. */
  routes: RuntimeRoute[];
  breakers: Record<string, string>;
  targets: Record<string, number | null>;
}

export class MeshRuntime {
  private readonly views = new Map<string, ServiceView>();
  private readonly runtimeFaults = new Map<string, RuntimeFault[]>();
  private readonly splits = new Map<string, Weights>();
  private readonly runtimeRoutes = new Map<string, RuntimeRoute[]>();
  private nextRouteId = 1;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly targets = new Map<string, InstanceTarget>();
  private nextFaultId = 1;
  /** Runtime plan overlays: consumer → plan (`meshdev plan set`), over the file's plans. */
  private readonly plans = new Map<string, string>();
  /** The contracts in force (swapped whole when a config or a spec changes). */
  contracts: ContractSet = ContractSet.empty;
  /** Where instance health comes from (the supervisor), when meshdev runs commands. */
  healthOf: (service: string, version: string) => string | undefined = () => undefined;

  constructor(
    private config: MeshConfig,
    private readonly now: () => number = Date.now,
  ) {
    for (const service of config.services) this.rebuild(service.name);
  }

  /**
   * Applies a new config of the same shape (same services, instances and listeners):
   * routes, faults, policies and allow lists change for the next request; runtime
   * overlays stay where they still make sense; breakers whose policy changed start fresh.
   */
  applyConfig(config: MeshConfig): void {
    const before = new Map(this.config.services.map((service) => [service.name, service]));
    this.config = config;
    for (const [consumer, plan] of [...this.plans]) {
      if (!config.plans[plan] || !config.consumers.some((c) => c.name === consumer)) {
        this.plans.delete(consumer);
      }
    }
    for (const name of before.keys()) {
      if (config.services.some((service) => service.name === name)) continue;
      this.views.delete(name);
      this.runtimeFaults.delete(name);
      this.splits.delete(name);
      this.runtimeRoutes.delete(name);
    }
    for (const service of config.services) {
      const old = before.get(service.name);
      const versions = service.instances.map((instance) => instance.version).join(',');
      if (!old || old.instances.map((instance) => instance.version).join(',') !== versions) {
        this.splits.delete(service.name);
        // Runtime routes to versions that are gone go with them.
        const kept = (this.runtimeRoutes.get(service.name) ?? []).filter((route) =>
          [route.to, ...(route.split ?? []).map((entry) => entry.version)].every(
            (version) =>
              version === undefined || service.instances.some((i) => i.version === version),
          ),
        );
        this.runtimeRoutes.set(service.name, kept);
      }
      if (JSON.stringify(old?.circuitBreaker) !== JSON.stringify(service.circuitBreaker)) {
        for (const instance of service.instances)
          this.breakers.delete(key(service.name, instance.version));
      }
      this.rebuild(service.name);
    }
  }

  /**
   * Puts `consumer` on `plan` until cleared (`plan: null`); both must exist in the
   * config in force. Applies to the consumer's next call; counters are per plan.
   */
  setPlan(consumer: string, plan: string | null): void {
    if (!this.config.consumers.some((c) => c.name === consumer)) {
      throw new RuntimeChangeError(
        `no consumer "${consumer}" (consumers: ${this.config.consumers.map((c) => c.name).join(', ') || 'none'})`,
      );
    }
    if (plan === null) return void this.plans.delete(consumer);
    if (!this.config.plans[plan]) {
      throw new RuntimeChangeError(
        `no plan "${plan}" (plans: ${Object.keys(this.config.plans).join(', ') || 'none'})`,
      );
    }
    this.plans.set(consumer, plan);
  }

  /** The plan `consumer` is on: a runtime overlay, else the file's. */
  planOf(consumer: string): string | undefined {
    return this.plans.get(consumer) ?? this.config.consumers.find((c) => c.name === consumer)?.plan;
  }

  /** Consumers whose plan is a runtime overlay. */
  planOverlays(): Record<string, string> {
    return Object.fromEntries(this.plans);
  }

  /** The config in force. */
  get current(): MeshConfig {
    return this.config;
  }

  /** The current view of a service, or undefined when it does not exist. */
  view(name: string): ServiceView | undefined {
    this.expireFaults(name);
    return this.views.get(name);
  }

  /** Records where calls to an instance go (see `InstanceTarget`). */
  setTarget(
    service: string,
    version: string,
    port: number,
    direct = false,
    hopAuthorizes = direct,
  ): void {
    this.targets.set(key(service, version), { port, direct, hopAuthorizes });
  }

  /** Adds a runtime fault; returns it with its id. */
  addFault(fault: Omit<RuntimeFault, 'id'>): RuntimeFault {
    const service = this.service(fault.service);
    if (
      fault.version !== undefined &&
      !service.instances.some((i) => i.version === fault.version)
    ) {
      throw new RuntimeChangeError(`${fault.service} has no version "${fault.version}"`);
    }
    const added: RuntimeFault = { ...fault, id: `rt-${this.nextFaultId++}` };
    this.change(fault.service, () =>
      this.runtimeFaults.set(fault.service, [
        ...(this.runtimeFaults.get(fault.service) ?? []),
        added,
      ]),
    );
    return added;
  }

  /** Replaces every runtime fault of a service (the file's faults stay). */
  setFaults(
    serviceName: string,
    faults: ReadonlyArray<Omit<RuntimeFault, 'id' | 'service'>>,
  ): void {
    this.service(serviceName);
    this.change(serviceName, () =>
      this.runtimeFaults.set(
        serviceName,
        faults.map((fault) => ({ ...fault, service: serviceName, id: `rt-${this.nextFaultId++}` })),
      ),
    );
  }

  /** Removes one runtime fault by id; false when there is none. */
  removeFault(id: string): boolean {
    for (const [service, faults] of this.runtimeFaults) {
      const kept = faults.filter((fault) => fault.id !== id);
      if (kept.length !== faults.length) {
        this.runtimeFaults.set(service, kept);
        this.rebuild(service);
        return true;
      }
    }
    return false;
  }

  /** Removes every runtime fault (of one service, or all); returns how many. */
  clearFaults(serviceName?: string): number {
    let removed = 0;
    for (const [service, faults] of this.runtimeFaults) {
      if (serviceName !== undefined && service !== serviceName) continue;
      removed += faults.length;
      this.runtimeFaults.set(service, []);
      this.rebuild(service);
    }
    return removed;
  }

  /** Sets (or with null, removes) the runtime split of a service. Weights must sum to 100. */
  setSplit(serviceName: string, weights: Record<string, number> | null): void {
    const service = this.service(serviceName);
    if (weights === null) {
      this.splits.delete(serviceName);
      return this.rebuild(serviceName);
    }
    const versions = service.instances.map((instance) => instance.version);
    if (!service.versioned) throw new RuntimeChangeError(`${serviceName} has no versions to split`);
    for (const [version, weight] of Object.entries(weights)) {
      if (!versions.includes(version)) {
        throw new RuntimeChangeError(
          `${serviceName} has no version "${version}" (versions: ${versions.join(', ')})`,
        );
      }
      if (!(weight >= 0 && weight <= 100)) {
        throw new RuntimeChangeError(`weight of ${version} must be 0–100, got ${weight}`);
      }
    }
    const sum = Object.values(weights).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 100) > 1e-6)
      throw new RuntimeChangeError(`split weights sum to ${sum}, not 100`);
    this.change(serviceName, () =>
      this.splits.set(
        serviceName,
        Object.entries(weights).map(([version, weight]) => ({ version, weight })),
      ),
    );
  }

  /**
   * Adds a runtime route, matched before the file's routes (first match wins), sending to
   * one version (`to`) or splitting; returns it with its id.
   */
  addRoute(serviceName: string, route: Omit<RouteRule, 'name'>): RuntimeRoute {
    const service = this.service(serviceName);
    const versions = service.instances.map((instance) => instance.version);
    if (!service.versioned)
      throw new RuntimeChangeError(`${serviceName} has no versions to route to`);
    if ((route.to === undefined) === (route.split === undefined)) {
      throw new RuntimeChangeError(
        'a route sends to one version (to) or splits (split), one of them',
      );
    }
    const named = [route.to, ...(route.split ?? []).map((entry) => entry.version)];
    for (const version of [...named, route.mirror?.to]) {
      if (version !== undefined && !versions.includes(version)) {
        throw new RuntimeChangeError(
          `${serviceName} has no version "${version}" (versions: ${versions.join(', ')})`,
        );
      }
    }
    if (route.split) {
      const sum = route.split.reduce((total, entry) => total + entry.weight, 0);
      if (Math.abs(sum - 100) > 1e-6)
        throw new RuntimeChangeError(`split weights sum to ${sum}, not 100`);
    }
    const share = route.mirror?.percent;
    if (share !== undefined && !(share >= 0 && share <= 100))
      throw new RuntimeChangeError(`mirror percent ${share} is not between 0 and 100`);
    const id = `rr-${this.nextRouteId++}`;
    const added: RuntimeRoute = { ...route, id, name: id };
    this.change(serviceName, () =>
      this.runtimeRoutes.set(serviceName, [...(this.runtimeRoutes.get(serviceName) ?? []), added]),
    );
    return added;
  }

  /** Removes one runtime route by id; false when there is none. */
  removeRoute(id: string): boolean {
    for (const [service, routes] of this.runtimeRoutes) {
      const kept = routes.filter((route) => route.id !== id);
      if (kept.length === routes.length) continue;
      this.runtimeRoutes.set(service, kept);
      this.rebuild(service);
      return true;
    }
    return false;
  }

  /** Removes every runtime route (of one service, or all); returns how many. */
  clearRoutes(serviceName?: string): number {
    let removed = 0;
    for (const [service, routes] of this.runtimeRoutes) {
      if (serviceName !== undefined && service !== serviceName) continue;
      removed += routes.length;
      this.runtimeRoutes.set(service, []);
      this.rebuild(service);
    }
    return removed;
  }

  /** Everything in force, per service, with its source (file or runtime overlay). */
  state(): ServiceState[] {
    return this.config.services.map((service) => {
      this.expireFaults(service.name);
      const runtimeSplit = this.splits.get(service.name);
      const fileSplit = service.routes.find((route) => route.split && isCatchAll(route))?.split;
      const split = runtimeSplit ?? fileSplit;
      return {
        name: service.name,
        versions: service.instances.map((instance) => instance.version),
        faults: [
          ...service.faults.map((fault) => ({ ...fault, source: 'file' as const })),
          ...(this.runtimeFaults.get(service.name) ?? []).map((fault) => ({
            ...fault,
            source: 'runtime' as const,
          })),
        ],
        split: split
          ? {
              weights: Object.fromEntries(split.map((entry) => [entry.version, entry.weight])),
              source: runtimeSplit ? 'runtime' : 'file',
            }
          : null,
        routes: [...(this.runtimeRoutes.get(service.name) ?? [])],
        breakers: Object.fromEntries(
          service.instances.flatMap((instance) => {
            const breaker = this.breakers.get(key(service.name, instance.version));
            return breaker ? [[instance.version, breaker.state()]] : [];
          }),
        ),
        targets: Object.fromEntries(
          service.instances.map((instance) => [
            instance.version,
            this.targets.get(key(service.name, instance.version))?.port ?? null,
          ]),
        ),
      };
    });
  }

  private service(name: string): ServiceConfig {
    const service = this.config.services.find((candidate) => candidate.name === name);
    if (!service) {
      throw new RuntimeChangeError(
        `no service "${name}" (services: ${this.config.services.map((s) => s.name).join(', ')})`,
      );
    }
    return service;
  }

  private expireFaults(service: string): void {
    const faults = this.runtimeFaults.get(service);
    if (!faults?.some((fault) => fault.expiresAt !== undefined && fault.expiresAt <= this.now()))
      return;
    this.runtimeFaults.set(
      service,
      faults.filter((fault) => fault.expiresAt === undefined || fault.expiresAt > this.now()),
    );
    this.rebuild(service);
  }

  /**
   * Applies one change to a service's overlays all or nothing: if the new view cannot be
   * built (a regex that does not compile…), the overlays and the view stay as they were.
   */
  private change(name: string, mutate: () => void): void {
    const faults = this.runtimeFaults.get(name);
    const split = this.splits.get(name);
    const routes = this.runtimeRoutes.get(name);
    mutate();
    try {
      this.rebuild(name);
    } catch (error) {
      if (faults) this.runtimeFaults.set(name, faults);
      else this.runtimeFaults.delete(name);
      if (split) this.splits.set(name, split);
      else this.splits.delete(name);
      if (routes) this.runtimeRoutes.set(name, routes);
      else this.runtimeRoutes.delete(name);
      throw new RuntimeChangeError(
        `not applied: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private rebuild(name: string): void {
    const config = this.service(name);
    const splitOverride = this.splits.get(name);
    const breakers = this.breakers;
    const targets = this.targets;
    const now = this.now;
    const runtimeFaults = compileFaults(this.runtimeFaults.get(name) ?? []);
    const view: ServiceView = {
      name,
      config,
      versions: config.instances.map((instance) => instance.version),
      // Runtime routes first: a live `route add` wins over the file's routes.
      routes: compileRoutes(
        { routes: [...(this.runtimeRoutes.get(name) ?? []), ...config.routes] },
        splitOverride,
        runtimeFaults,
      ),
      faults: [...compileFaults(config.faults), ...runtimeFaults],
      splitOverride,
      breaker(version) {
        if (!config.circuitBreaker) return undefined;
        let breaker = breakers.get(key(name, version));
        if (!breaker) {
          breaker = new CircuitBreaker(config.circuitBreaker, now);
          breakers.set(key(name, version), breaker);
        }
        return breaker;
      },
      target: (version) => targets.get(key(name, version)),
      health: (version) => this.healthOf(name, version),
    };
    this.views.set(name, view);
  }
}

/** A route with no conditions: the service's default route. */
function isCatchAll(route: { match?: object }): boolean {
  return !route.match || Object.keys(route.match).length === 0;
}

function key(service: string, version: string): string {
  return `${service}@${version}`;
}
