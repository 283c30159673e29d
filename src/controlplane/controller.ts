/**
 * The control plane of a running mesh: the data plane (`Mesh`), the admin API, metrics,
 * and hot reload. A new config of the same shape is applied in place (the next request
 * sees it; calls in flight finish on the view they started with); a change of shape
 * restarts the data plane; an invalid config changes nothing and is reported.
 */
import { ConfigError } from '../config/config-error.js';
import { displayPath } from '../config/display-path.js';
import { ListenError } from '../dataplane/listener.js';
import { loadConfigFile } from '../config/load.js';
import { loadContracts, type ContractSet } from '../contracts/contract-set.js';
import { ContractLedger } from '../telemetry/contract-ledger.js';
import { emptyUsage, UsageLedger, type ConsumerUsage } from '../telemetry/usage-ledger.js';
import type { InstanceConfig, MeshConfig } from '../config/model.js';
import { serviceEnv, writeEnvFiles, type OutboundPortOf } from './service-env.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
import { MeshBus } from '../telemetry/bus.js';
import { MeshMetrics } from '../telemetry/metrics.js';
import { MeshStats } from '../telemetry/stats.js';
import { startAdmin, type AdminServer } from './admin.js';
import { dashboardFrame, type FrameData, type FrameOptions } from './dashboard-frame.js';
import { Mesh, type MeshOptions } from '../dataplane/mesh.js';
import { projectPath } from '../config/project-dir.js';
import { shapeOf } from './shape.js';
import { watchConfig, type ConfigWatcher } from './watch.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface ControllerOptions extends MeshOptions {
  /** Start only these services' commands; the others are still routed (`up --only`). */
  only?: readonly string[];
  /** Supervisor timings (tests shorten them). */
  supervisor?: Partial<SupervisorOptions>;
  /** Watch the config file and reload on save (default true). */
  watch?: boolean;
  /** Formats config errors for the reload message. */
  formatError?: (error: ConfigError) => string;
  /**
   * No admin API, no `state.json`, no env files (`meshdev check`): a headless run beside a
   * running `up` must not take over what the CLI commands of that `up` read.
   */
  headless?: boolean;
}

/** What a reload did: `refused` when the file (or applying it) failed and nothing changed. */
export interface ReloadResult {
  applied: boolean;
  message: string;
  refused?: boolean;
}

export class MeshController {
  readonly bus: MeshBus;
  readonly metrics: MeshMetrics;
  /** Rolling statistics and the ring of recent calls. */
  readonly stats = new MeshStats();
  /** Contract violations and coverage, from the calls. */
  readonly contracts: ContractLedger;
  /** API usage by consumer, from the calls. */
  readonly usage = new UsageLedger();
  private admin: AdminServer | undefined;
  private supervisor: Supervisor | undefined;
  private watcher: ConfigWatcher | undefined;
  /** Content hash of the files the config points at, to notice their edits. */
  private referencedHash = '';
  private reloading: Promise<unknown> = Promise.resolve();
  private configStatus: { status: string; at: number; message: string };

  private constructor(
    private current: Mesh,
    private readonly options: ControllerOptions,
  ) {
    this.bus = current.bus;
    this.metrics = new MeshMetrics(
      this.bus,
      () => this.current.runtime,
      () => this.current.listenerInfo(),
    );
    this.stats.attach(this.bus);
    this.contracts = new ContractLedger(() => this.current.runtime.contracts).attach(this.bus);
    this.usage.attach(this.bus);
    this.configStatus = { status: 'ok', at: Date.now(), message: 'loaded' };
    this.bus.on('config', (status) => (this.configStatus = status));
  }

  /** Starts the data plane, the admin API and (unless disabled) the config watcher. */
  static async start(config: MeshConfig, options: ControllerOptions = {}): Promise<MeshController> {
    const bus = options.bus ?? new MeshBus();
    const mesh = await Mesh.start(config, { ...options, bus });
    const controller = new MeshController(mesh, { ...options, bus });
    try {
      const stateDir = options.stateDir ?? projectPath(config);
      if (!options.headless) await controller.startAdminApi(config, stateDir);
      await controller.supervise(config, stateDir);
      const files = referencedFiles(config, mesh.runtime.contracts);
      controller.referencedHash = hashFiles(files);
      if (options.watch !== false) {
        controller.watcher = await watchConfig(
          [config.file, ...files],
          () => void controller.reload(),
        );
      }
    } catch (error) {
      await controller.stop(0);
      throw error;
    }
    return controller;
  }

  /**
   * Usage of every consumer of the config (those without calls too), with its plan and
   * how much of its quota it used.
   */
  usageReport(sinceMs?: number): UsageReport[] {
    const config = this.current.runtime.current;
    const rows = new Map(this.usage.byConsumer(sinceMs).map((row) => [row.consumer, row]));
    const runtime = this.current.runtime;
    return config.consumers.map((consumer) => {
      const planName = runtime.planOf(consumer.name);
      const plan = planName ? config.plans[planName] : undefined;
      const counter = plan?.quota && this.current.quotas.get(`${plan.name}|${consumer.name}`);
      const live = counter && Date.now() < counter.windowStart + plan!.quota!.perMs;
      return {
        ...(rows.get(consumer.name) ?? emptyUsage(consumer.name)),
        plan: planName ?? null,
        quota: plan?.quota
          ? {
              used: live ? counter.used : 0,
              limit: plan.quota.requests,
              percent: live ? Math.round((counter.used / plan.quota.requests) * 1000) / 10 : 0,
              resetsAt: live ? counter.windowStart + plan.quota.perMs : null,
            }
          : null,
      };
    });
  }

  /** The admin API, `state.json` and the env files other commands read. */
  private async startAdminApi(config: MeshConfig, stateDir: string): Promise<void> {
    this.admin = await startAdmin(
      {
        runtime: () => this.current.runtime,
        bus: this.bus,
        metrics: this.metrics,
        describe: () => this.describe(),
        recentCalls: () => this.stats.recent(),
        contracts: () => this.contracts.snapshot(),
        jwks: () => this.current.localIssuer?.jwks,
        usage: (sinceMs) => this.usageReport(sinceMs),
        dashboard: (options) => this.dashboardFrame(options),
        logs: (instance) => this.logs(instance),
        resetUsage: (consumer) => this.current.quotas.reset(consumer),
        reload: () => this.reload(),
      },
      {
        port: this.options.ephemeralPorts ? 0 : config.mesh.adminPort,
        stateDir,
        configFile: config.file,
      },
    );
    writeEnvFiles(config, this.boundPort);
  }

  /** The commands of `config` meshdev should run (all, or those of `--only`), with their env. */
  private wantedCommands(
    config: MeshConfig,
  ): Array<{ instance: InstanceConfig; env: Record<string, string> }> {
    return config.services.flatMap((service) =>
      service.instances
        .filter(
          (instance) =>
            instance.command && (!this.options.only || this.options.only.includes(service.name)),
        )
        .map((instance) => ({ instance, env: this.envOf(config, instance) })),
    );
  }

  /** Starts (or, on reload, syncs) the supervised commands; returns the ones that changed. */
  private async supervise(config: MeshConfig, stateDir: string): Promise<string[]> {
    const wanted = this.wantedCommands(config);
    if (!this.supervisor) {
      if (wanted.length === 0) return [];
      this.supervisor = new Supervisor({
        stateDir,
        ...this.options.supervisor,
        onState: (instance, state, message) =>
          this.bus.emit('process', { instance, state, message }),
      });
    }
    const supervisor = this.supervisor;
    this.current.runtime.healthOf = (service, version) => supervisor.state({ service, version });
    return supervisor.sync(wanted);
  }

  /** PORT, MESH_SERVICE, MESH_VERSION, every upstream URL, and the instance's own env. */
  private envOf(config: MeshConfig, instance: InstanceConfig): Record<string, string> {
    return {
      ...serviceEnv(config, instance.service, instance.version, this.boundPort),
      ...instance.env,
    };
  }

  /** The port an outbound listener is bound to (with `ports.from: 0`, the OS's choice). */
  readonly boundPort: OutboundPortOf = (outbound) =>
    this.current.outboundPort(outbound.caller, outbound.service) ?? outbound.port;

  /** Supervised processes and their states (empty when meshdev runs no command). */
  processes(): Array<{ instance: string; state: string }> {
    return this.supervisor?.describe() ?? [];
  }

  /** The state of the config file as this mesh sees it (ok, reloaded, invalid). */
  configState(): { status: string; at: number; message: string } {
    return this.configStatus;
  }

  /** One frame of the dashboard (in this process, or over `GET /v1/dashboard`). */
  dashboardFrame(options: FrameOptions = {}): FrameData {
    return dashboardFrame(this, this.startedAt, options);
  }

  /** When this controller started (ms since the epoch). */
  readonly startedAt = Date.now();

  /** The captured output of a supervised instance. */
  logs(instance: string): string[] {
    return this.supervisor?.lines(instance) ?? [];
  }

  /** The running data plane (replaced when the config's shape changes). */
  get mesh(): Mesh {
    return this.current;
  }

  /** The admin API's port. */
  get adminPort(): number {
    return this.admin!.port;
  }

  /** The admin API's bearer token (also in `.meshdev/admin-token`). */
  get adminToken(): string {
    return this.admin!.token;
  }

  /**
   * Re-reads the config file and admits it: parse → validate → build and bind → swap. On
   * any failure the running config stays in force and the reason is reported like an
   * invalid file (`config` event, `/v1/state`, the dashboard header). Never throws;
   * reloads run one at a time.
   */
  reload(): Promise<ReloadResult> {
    const next = this.reloading.then(() => this.reloadNow());
    this.reloading = next.catch(() => {});
    return next;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const running = this.current.runtime.current;
    let config: MeshConfig;
    try {
      config = loadConfigFile(running.file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.refuse(this.options.formatError?.(error) ?? error.message);
    }
    const runtime = this.current.runtime;
    let contracts: ContractSet;
    try {
      // A spec that does not load refuses the reload, like a broken config.
      contracts = await loadContracts(config);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.watcher?.setFiles([config.file, ...referencedFiles(config, runtime.contracts)]);
      return this.refuse(this.options.formatError?.(error) ?? error.message);
    }
    // The specs and every file their `$ref`s reach: an edit of a shared schema file is a spec edit.
    const files = referencedFiles(config, contracts);
    const referenced = hashFiles(files);
    this.watcher?.setFiles([config.file, ...files]);
    const previousContracts = runtime.contracts;
    if (config.hash === running.hash && referenced === this.referencedHash) {
      // A good file again after a broken save: the config in force is what it says.
      if (this.configStatus.status !== 'invalid') return { applied: false, message: 'unchanged' };
      return this.accept('the file is valid again (same as the config in force)');
    }
    if (config.hash === running.hash) {
      this.referencedHash = referenced;
      runtime.contracts = contracts;
      contracts.warm();
      return this.accept('a file the config points at changed');
    }
    try {
      runtime.contracts = contracts;
      contracts.warm();
      await this.current.ensureLocalIssuer(config);
      if (shapeOf(config) === shapeOf(running)) {
        this.current.runtime.applyConfig(config);
        this.referencedHash = referenced;
        return this.accept('applied in place');
      }
      // Listeners or instances changed: restart just those, and the commands that changed.
      const { started, stopped } = await this.current.reconcile(config);
      this.referencedHash = referenced;
      if (!this.options.headless) writeEnvFiles(config, this.boundPort);
      const commands = await this.supervise(config, this.options.stateDir ?? projectPath(config));
      const restarted = [...new Set([...stopped, ...started])];
      return this.accept(
        `listeners changed: ${restarted.join(', ') || 'none'}` +
          (commands.length ? `; commands restarted: ${commands.join(', ')}` : ''),
      );
    } catch (error) {
      runtime.contracts = previousContracts;
      return this.refuse(`${displayPath(config.file)}: ${describeFailure(error)}`);
    }
  }

  private accept(message: string): ReloadResult {
    this.bus.emit('config', { status: 'reloaded', at: Date.now(), message });
    return { applied: true, message };
  }

  private refuse(message: string): ReloadResult {
    this.bus.emit('config', { status: 'invalid', at: Date.now(), message });
    return { applied: false, message, refused: true };
  }

  /** What GET /v1/state adds to the services. */
  describe(): Record<string, unknown> {
    const config = this.current.runtime.current;
    return {
      mesh: config.mesh.name,
      pid: process.pid,
      config: { file: config.file, ...this.configStatus },
      mtls: config.mesh.mtls,
      listeners: this.current.listenerInfo(),
      processes: this.supervisor?.describe() ?? [],
    };
  }

  /** Stops watching, the admin API and the data plane (graceful within `graceMs`). */
  async stop(graceMs?: number): Promise<void> {
    await this.watcher?.close();
    await this.admin?.close();
    await this.current.stop(graceMs);
    await this.supervisor?.stop();
  }
}

/** One consumer's usage, plan and quota, as `GET /v1/usage` and `meshdev usage` show it. */
export interface UsageReport extends ConsumerUsage {
  plan: string | null;
  quota: { used: number; limit: number; percent: number; resetsAt: number | null } | null;
}

/** Why applying a valid config failed, with what to do when we know it. */
function describeFailure(error: unknown): string {
  if (error instanceof ListenError && error.code === 'EADDRINUSE') {
    return `${error.message} — stop whatever uses it (lsof -i :${error.port}), or change the port in the config`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Files the config points at, watched beside the config itself: its OpenAPI specs and,
 * once loaded, every file their `$ref`s reach.
 */
function referencedFiles(config: MeshConfig, contracts?: ContractSet): string[] {
  const specs = config.services.flatMap((service) =>
    service.instances.flatMap((instance) => (instance.spec ? [instance.spec] : [])),
  );
  return [...new Set([...specs, ...(contracts?.files() ?? [])])];
}

/** One hash over the contents of `files` (a missing file hashes as empty). */
function hashFiles(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('(missing)');
    }
  }
  return hash.digest('hex');
}
