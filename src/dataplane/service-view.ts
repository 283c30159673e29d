/**
 * A snapshot of one service as the data plane uses it: compiled routes and faults (file
 * config plus runtime overlays), its policies and where each instance's inbound listener
 * is. A call keeps the view it started with, so changes never disturb calls in flight.
 */
import type { FaultRule, RouteRule, ServiceConfig } from '../config/model.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { compileMatch, type CompiledMatch } from '../lib/match.js';

export interface CompiledRoute {
  index: number;
  /** The route as configured: its name and policy (timeout, retries). */
  rule: RouteRule;
  match: CompiledMatch;
  to?: string;
  split?: ReadonlyArray<{ version: string; weight: number }>;
  /**
   * The faults of calls on this route when it declares its own: those, then the runtime
   * faults (which apply on every route), compiled once per change, not per call.
   */
  faults?: readonly CompiledFault[];
}

export interface CompiledFault {
  rule: FaultRule;
  match: CompiledMatch;
}

/**
 * Where an instance is reached: its inbound listener, or — with `mtls: off`, where that
 * listener would only add a plaintext loopback hop inside this process — the instance's
 * own port (`direct`).
 */
export interface InstanceTarget {
  port: number;
  direct: boolean;
  /** `mtls: off`: the hop checks `allow` (no inbound listener can tell who calls). */
  hopAuthorizes: boolean;
}

export interface ServiceView {
  readonly name: string;
  readonly config: ServiceConfig;
  readonly versions: readonly string[];
  readonly routes: readonly CompiledRoute[];
  readonly faults: readonly CompiledFault[];
  /** The runtime split overlay, when one is set. */
  readonly splitOverride?: ReadonlyArray<{ version: string; weight: number }>;
  breaker(version: string): CircuitBreaker | undefined;
  target(version: string): InstanceTarget | undefined;
  /** The state of a supervised instance (`up`, `starting`…), undefined when not supervised. */
  health(version: string): string | undefined;
}

/**
 * Compiles routes. A runtime split overlay replaces every file split and the default
 * route (one with no conditions, `to:` included): routes with conditions that send to
 * one version (`headers: {x-canary: "1"}, to: v2`) stay, as Istio keeps its matched routes.
 */
export function compileRoutes(
  config: Pick<ServiceConfig, 'routes'>,
  splitOverride: ReadonlyArray<{ version: string; weight: number }> | undefined,
  runtimeFaults: readonly CompiledFault[] = [],
): CompiledRoute[] {
  return config.routes.map((route, index) => {
    const compiled = {
      index,
      rule: route,
      match: compileMatch(route.match),
      to: route.to,
      split: route.split,
      faults: route.faults && [...compileFaults(route.faults), ...runtimeFaults],
    };
    if (!splitOverride || (!route.split && !compiled.match.always)) return compiled;
    return { ...compiled, to: undefined, split: splitOverride };
  });
}

/** Compiles fault rules once per change. */
export function compileFaults(rules: readonly FaultRule[]): CompiledFault[] {
  return rules.map((rule) => ({ rule, match: compileMatch(rule.match) }));
}
