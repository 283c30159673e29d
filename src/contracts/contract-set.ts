/**
 * The contracts of a config: one compiled `Contract` per spec file, looked up by the
 * instance a call reached (a version's own spec, else its service's), and the mode in
 * force. Loaded before a config is applied, so a broken spec refuses the config (at
 * `validate`, `up` and hot reload) instead of failing calls.
 */
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { ContractMode, MeshConfig } from '../config/model.js';
import type { Contract } from './contract.js';
import { projectPath } from '../config/project-dir.js';

/** What the data plane asks of the contracts in force. */
export class ContractSet {
  /** The same contracts by service, then version: asked on every call, no key string built. */
  private readonly byService = new Map<string, Map<string, Contract>>();

  constructor(
    readonly mode: ContractMode,
    private readonly byInstance: ReadonlyMap<string, Contract>,
  ) {
    for (const [key, contract] of byInstance) {
      const at = key.lastIndexOf('@');
      const service = key.slice(0, at);
      let versions = this.byService.get(service);
      if (!versions) this.byService.set(service, (versions = new Map()));
      versions.set(key.slice(at + 1), contract);
    }
  }

  /** No contracts: nothing is checked. */
  static readonly empty = new ContractSet('off', new Map());

  /** The contract of `service@version`, when it has one and checking is on. */
  lookup(service: string, version: string | undefined): Contract | undefined {
    if (this.mode === 'off' || this.byInstance.size === 0) return undefined;
    return this.byService.get(service)?.get(version ?? '');
  }

  /** The contract of `service@version` whatever the mode (a simulated service answers from it). */
  forInstance(service: string, version: string): Contract | undefined {
    return this.byService.get(service)?.get(version);
  }

  /** Every file of every spec: entry files and the files their `$ref`s reach. */
  files(): string[] {
    return [...new Set([...this.byInstance.values()].flatMap((contract) => contract.spec.files))];
  }

  /** Every distinct contract with the services that use it. */
  all(): Array<{ contract: Contract; services: string[] }> {
    const out = new Map<Contract, Set<string>>();
    for (const [key, contract] of this.byInstance) {
      const service = key.slice(0, key.lastIndexOf('@'));
      out.set(contract, (out.get(contract) ?? new Set()).add(service));
    }
    return [...out].map(([contract, services]) => ({ contract, services: [...services] }));
  }

  /** Compiles every validator now (those a cached spec left for when first needed). */
  compileAll(): void {
    for (const contract of new Set(this.byInstance.values())) contract.compileAll();
  }

  /**
   * Compiles what cached specs left for later in the background, one contract per turn of
   * the event loop, so calls keep flowing (a call that needs a validator first compiles it).
   */
  warm(): void {
    const pending = [...new Set(this.byInstance.values())];
    const next = () => {
      const contract = pending.shift();
      if (!contract) return;
      contract.compileAll();
      setTimeout(next, 0).unref();
    };
    setTimeout(next, 0).unref();
  }
}

/**
 * Loads every spec `config` names; all problems of all specs in one ConfigError. Specs
 * that compiled before and have not changed come from the project's `.meshdev/cache/`.
 * The contract modules (the parser, ajv) load only when the config names a spec.
 */
export async function loadContracts(config: MeshConfig): Promise<ContractSet> {
  const files = new Set<string>();
  for (const service of config.services) {
    for (const instance of service.instances) if (instance.spec) files.add(instance.spec);
  }
  if (files.size === 0) return new ContractSet(config.mesh.contracts, new Map());
  const loaded = new Map<string, Contract>();
  const issues: ConfigIssue[] = [];
  const [{ loadContract }, { SpecCache }] = await Promise.all([
    import('./contract.js'),
    import('./spec-cache.js'),
  ]);
  const cache = new SpecCache(projectPath(config, 'cache', 'openapi'));
  await Promise.all(
    [...files].map(async (file) => {
      try {
        loaded.set(file, await loadContract(file, cache));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        issues.push(...error.issues);
      }
    }),
  );
  if (issues.length > 0) throw new ConfigError(issues);
  const byInstance = new Map<string, Contract>();
  for (const service of config.services) {
    for (const instance of service.instances) {
      if (instance.spec)
        byInstance.set(`${service.name}@${instance.version}`, loaded.get(instance.spec)!);
    }
  }
  return new ContractSet(config.mesh.contracts, byInstance);
}
