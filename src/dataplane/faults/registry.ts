/**
 * Every fault kind, in the order a rule's actions fire: a delay comes before an abort or
 * a reset of the same rule (a slow failure), and bandwidth shapes whatever comes back.
 * A new kind: its schema (config), its file here, its test, and `docs/config.md`.
 */
import type { FaultAction, FaultKind } from './action.js';
import { abortAction } from './abort.js';
import { bandwidthAction } from './bandwidth.js';
import { delayAction } from './delay.js';
import { resetAction } from './reset.js';

export const FAULT_ACTIONS: ReadonlyArray<FaultAction<FaultKind>> = [
  delayAction,
  abortAction,
  resetAction,
  bandwidthAction,
] as ReadonlyArray<FaultAction<FaultKind>>;
