/**
 * Sends a check's `explore:` traffic: for each service explored, the requests
 * `exploreContract` makes up from its contract in force, through the gateway route that
 * reaches it, one after another. Says on the progress stream what it made and what it
 * left out, and returns the counts for the check's `explore` expectation.
 */
import { Pool } from 'undici';
import type { CheckSpec, MeshConfig } from '../config/model.js';
import { loadFaker } from '../contracts/mock-dynamic.js';
import type { ContractSet } from '../contracts/contract-set.js';
import { actAsHeaders } from '../edge/act-as.js';
import { seededRandom } from '../lib/random.js';
import { exploreContract, type GatewayPlace } from './explore.js';

/** What exploring sent, and what it had to leave out. */
export interface ExploreCounts {
  sent: number;
  operations: number;
  leftOut: number;
  /** Answered by the gateway itself for want of a credential, access or allowance. */
  refused: number;
}

/** One service to explore: the contract of this version, at these places of the gateway. */
interface ExploreTarget {
  service: string;
  version: string;
  places: GatewayPlace[];
}

/** The gateway's own refusals: the request never reached the service. */
const REFUSALS = new Set([
  'unauthenticated',
  'consumer_forbidden',
  'rate_limited',
  'quota_exceeded',
]);

/** Sends the made-up requests of `check.explore` to `gateway`. */
export async function runExplore(
  gateway: string,
  config: MeshConfig,
  contracts: () => ContractSet,
  check: CheckSpec,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<ExploreCounts> {
  const explore = check.explore!;
  await loadFaker();
  // Seeded per check: the same run makes the same requests.
  const random = seededRandom((config.mesh.seed ?? 1) + check.line);
  const headers = { ...actAsHeaders(config, explore.as), ...explore.headers };
  const counts: ExploreCounts = { sent: 0, operations: 0, leftOut: 0, refused: 0 };
  const pool = new Pool(gateway, { connections: 4 });
  const targets = exploreTargets(config, explore.services);
  for (const name of explore.services ?? []) {
    if (!targets.some((target) => target.service === name))
      log(`  explore ${name}: the version its gateway route reaches has no spec, left out`);
  }
  try {
    for (const target of targets) {
      const contract = contracts().forInstance(target.service, target.version);
      if (!contract) {
        log(`  explore ${target.service}: no spec in force for ${target.version}, left out`);
        continue;
      }
      const made = exploreContract(contract, target.places, explore.perOperation, random, headers);
      counts.operations += contract.index.operations.length;
      counts.leftOut += made.skipped.length;
      log(
        `  explore ${target.service}: ${made.requests.length} requests made up for ${contract.index.operations.length} operations`,
      );
      for (const skipped of made.skipped)
        log(`    left out ${skipped.operation}: ${skipped.reason}`);
      for (const request of made.requests) {
        if (signal.aborted) return counts;
        try {
          const response = await pool.request({
            method: request.method as never,
            path: request.path,
            headers: request.headers,
            body: request.body,
            signal,
          });
          await response.body.dump();
          const error = response.headers['x-meshdev-error'];
          if (typeof error === 'string' && REFUSALS.has(error)) counts.refused++;
        } catch {
          // A reset or refused call is recorded by the mesh itself (status 0).
        }
        counts.sent++;
      }
    }
  } finally {
    await pool.destroy();
  }
  if (counts.refused > 0) {
    log(
      `  explore: the gateway refused ${counts.refused} of ${counts.sent} requests itself (credentials or limits): give explore \`as: <consumer>\` or \`headers\``,
    );
  }
  return counts;
}

/**
 * The services to explore and where the gateway reaches them: those named, else every
 * service with a spec that a gateway route reaches — through the routes to it, at the
 * version the first pins, else the first version with a spec.
 */
function exploreTargets(config: MeshConfig, named: readonly string[] | undefined): ExploreTarget[] {
  const targets: ExploreTarget[] = [];
  for (const service of config.services) {
    if (named && !named.includes(service.name)) continue;
    const routes = (config.gateway?.routes ?? []).filter(
      (candidate) => candidate.service === service.name,
    );
    if (routes.length === 0) continue;
    const pinned = routes[0]!.version;
    const instance = service.instances.find((candidate) =>
      pinned === undefined ? candidate.spec !== undefined : candidate.version === pinned,
    );
    if (!instance?.spec) continue;
    targets.push({
      service: service.name,
      version: instance.version,
      places: routes.map((route) => ({ prefix: route.path, stripPrefix: route.stripPrefix })),
    });
  }
  return targets;
}
