/**
 * Every way into the mesh, as declared stage arrays — there is no hand-written request
 * path. Each array is pinned by `entries.test.ts` and drawn in docs/architecture.md.
 *
 *   gateway   normalize → cors → gateway-route → authenticate → limit → outbound-hop
 *   outbound  normalize → outbound-hop
 *   inbound   normalize → identify → authorize → authenticate → forward
 *   upgrades  the same entries with `upgrade-hop` / `tunnel` as their terminal stage
 *
 *   outbound-hop  route → split → headers → authorize → contract → mirror → breaker → retry → timeout → fault → upstream
 *   upgrade-hop   route → split → headers → authorize → tunnel
 */
import type {
  GatewayConfig,
  InstanceConfig,
  MeshSettings,
  ServiceConfig,
} from '../config/model.js';
import type { EntryContext } from './entry-context.js';
import type { Forwarder } from './forwarder.js';
import type { AppAddresses } from './loopback.js';
import type { HopContext, Stage } from './pipeline.js';
import { authorizeHopStage, authorizeStage } from './stages/authorize.js';
import { breakerStage } from './stages/breaker.js';
import { authenticateStage, inboundAuthenticateStage } from './stages/authenticate.js';
import { corsStage } from './stages/cors.js';
import { headersStage } from './stages/headers.js';
import { limitStage } from './stages/limit.js';
import { mirrorStage } from './stages/mirror.js';
import { MeshBus } from '../telemetry/bus.js';
import type { ApiEdge } from '../edge/api-edge.js';
import type { PlanLimits } from '../edge/plan-limits.js';
import { contractStage } from './stages/contract.js';
import { ContractSet } from '../contracts/contract-set.js';
import { faultStage } from './stages/fault.js';
import { forwardStage, type InstancePort } from './stages/forward.js';
import { gatewayRouteStage } from './stages/gateway-route.js';
import { hopStage, type HopDeps } from './stages/hop.js';
import { identifyStage } from './stages/identify.js';
import { normalizeStage } from './stages/normalize.js';
import { retryStage } from './stages/retry.js';
import { routeStage } from './stages/route.js';
import { splitStage } from './stages/split.js';
import { timeoutStage } from './stages/timeout.js';
import { inboundTunnelStage, tunnelStage } from './stages/tunnel.js';
import { upstreamStage, type HopTlsSource } from './stages/upstream.js';

/** The outbound hop. Faults sit below retry and timeout so an injected failure is seen like a real one. */
export function outboundStages(
  forwarder: Forwarder,
  tlsFor: HopTlsSource = () => undefined,
  contracts: () => ContractSet = () => ContractSet.empty,
  bus: MeshBus = new MeshBus(),
): readonly Stage<HopContext>[] {
  return [
    routeStage,
    splitStage,
    headersStage,
    authorizeHopStage,
    contractStage(contracts),
    mirrorStage({ forwarder, tlsFor, bus }),
    breakerStage,
    retryStage,
    timeoutStage,
    faultStage,
    upstreamStage(forwarder, tlsFor),
  ];
}

/** The hop of a WebSocket handshake: the same routing and policy, then a tunnel. */
export function upgradeHopStages(
  tlsFor?: HopTlsSource,
  addresses?: AppAddresses,
): readonly Stage<HopContext>[] {
  return [routeStage, splitStage, headersStage, authorizeHopStage, tunnelStage(tlsFor, addresses)];
}

/** What the gateway and outbound entries need. */
export interface HopEntryDeps extends HopDeps {
  forwarder: Forwarder;
  tlsFor: HopTlsSource;
}

/** What the gateway's API edge needs: the edge of the config in force, and plan counters. */
export interface EdgeDeps {
  edge: () => ApiEdge;
  limits: PlanLimits;
  /** A consumer's plan when a runtime overlay sets one. */
  planOf?: (consumer: string) => string | undefined;
}

/** Gateway entries (HTTP and upgrade); `loadToken` marks the mesh's own generated load. */
export function gatewayEntry(
  gateway: Pick<GatewayConfig, 'routes'>,
  deps: HopEntryDeps,
  loadToken: string,
  edge: EdgeDeps,
): { http: readonly Stage<EntryContext>[]; upgrade: readonly Stage<EntryContext>[] } {
  const route = gatewayRouteStage(gateway, loadToken);
  const authenticate = authenticateStage(edge.edge);
  const limit = limitStage(edge.edge, edge.limits, edge.planOf);
  return {
    http: [
      normalizeStage,
      corsStage(() => edge.edge().config.gateway?.cors),
      route,
      authenticate,
      limit,
      hopStage(
        'outbound-hop',
        deps,
        outboundStages(deps.forwarder, deps.tlsFor, () => deps.runtime.contracts, deps.bus),
      ),
    ],
    upgrade: [
      normalizeStage,
      route,
      authenticate,
      limit,
      hopStage('upgrade-hop', deps, upgradeHopStages(deps.tlsFor, deps.forwarder.appAddresses)),
    ],
  };
}

/** Outbound-listener entries (HTTP and upgrade): caller and service come from the listener. */
export function outboundEntry(deps: HopEntryDeps): {
  http: readonly Stage<EntryContext>[];
  upgrade: readonly Stage<EntryContext>[];
} {
  return {
    http: [
      normalizeStage,
      hopStage(
        'outbound-hop',
        deps,
        outboundStages(deps.forwarder, deps.tlsFor, () => deps.runtime.contracts, deps.bus),
      ),
    ],
    upgrade: [
      normalizeStage,
      hopStage('upgrade-hop', deps, upgradeHopStages(deps.tlsFor, deps.forwarder.appAddresses)),
    ],
  };
}

/** What an inbound listener needs. */
export interface InboundSettings {
  mesh: MeshSettings;
  /** The service's config in force now (hot reload changes `allow` in place). */
  service: () => ServiceConfig;
  instance: InstanceConfig;
  appPort: InstancePort;
  forwarder: Forwarder;
  warn(message: string): void;
  /** The API edge of the config in force (for a service with `auth`). */
  edge?: () => ApiEdge;
}

/** Inbound-listener entries (HTTP and upgrade). */
export function inboundEntry(settings: InboundSettings): {
  http: readonly Stage<EntryContext>[];
  upgrade: readonly Stage<EntryContext>[];
} {
  const { service, version } = settings.instance;
  const identify = identifyStage({ mesh: settings.mesh, service, warn: settings.warn });
  const authorize = authorizeStage(settings.service, version, settings.mesh.mtls === 'off');
  const where = { service, version, appPort: settings.appPort };
  const edge = settings.edge;
  const authenticate = edge ? inboundAuthenticateStage(edge, settings.service) : undefined;
  return {
    http: [
      normalizeStage,
      identify,
      authorize,
      ...(authenticate ? [authenticate] : []),
      forwardStage({ ...where, forwarder: settings.forwarder }),
    ],
    upgrade: [
      normalizeStage,
      identify,
      authorize,
      ...(authenticate ? [authenticate] : []),
      inboundTunnelStage({ ...where, addresses: settings.forwarder.appAddresses }),
    ],
  };
}
