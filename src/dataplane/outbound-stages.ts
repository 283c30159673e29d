/**
 * The outbound hop, in order (DESIGN section 2). The order is data, pinned by a test:
 * faults sit below retry and timeout so an injected failure is seen like a real one.
 */
import type { Forwarder } from './forwarder.js';
import type { HopTlsSource } from './stages/upstream.js';
import type { HopContext, Stage } from './pipeline.js';
import { breakerStage } from './stages/breaker.js';
import { faultStage } from './stages/fault.js';
import { retryStage } from './stages/retry.js';
import { routeStage } from './stages/route.js';
import { splitStage } from './stages/split.js';
import { timeoutStage } from './stages/timeout.js';
import { upstreamStage } from './stages/upstream.js';

/** Builds the outbound pipeline: route → split → breaker → retry → timeout → fault → upstream. */
export function outboundStages(
  forwarder: Forwarder,
  tlsFor?: HopTlsSource,
): readonly Stage<HopContext>[] {
  return [
    routeStage,
    splitStage,
    breakerStage,
    retryStage,
    timeoutStage,
    faultStage,
    upstreamStage(forwarder, tlsFor),
  ];
}
