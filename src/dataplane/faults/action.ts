/**
 * What a fault action is: one kind (delay, abort, reset, bandwidth) in one file, behind
 * this interface, listed in `registry.ts`. The fault stage runs each matching rule's
 * actions in registry order, each on its own percent; `meshdev fault ls`, `status` and
 * the dashboard describe them with `describe`.
 */
import type { FaultRule } from '../../config/model.js';
import type { HopContext, Outcome } from '../pipeline.js';

/** The kinds a fault rule may carry. */
export type FaultKind = 'delay' | 'abort' | 'reset' | 'bandwidth';

/** The settings of one kind in a rule (each with its `percent`). */
export type FaultSettings<K extends FaultKind> = NonNullable<FaultRule[K]>;

export interface FaultAction<K extends FaultKind> {
  readonly kind: K;
  /** `delay 2s 10%`, as users read it. */
  describe(settings: FaultSettings<K>): string;
  /** Before the attempt: may wait, or answer in place of the upstream (the attempt ends). */
  before?(settings: FaultSettings<K>, ctx: HopContext): Promise<Outcome | undefined>;
  /** After the attempt: may reshape the answer. */
  after?(settings: FaultSettings<K>, outcome: Outcome, ctx: HopContext): Outcome;
}
