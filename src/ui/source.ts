/**
 * What the dashboard reads and changes: snapshots of the running mesh and the runtime
 * API. The dashboard never touches the data plane directly and never renders per call.
 */
import type { ServiceState } from '../dataplane/runtime.js';
import type { CallRecord } from '../telemetry/call-record.js';
import type { StatsSnapshot } from '../telemetry/stats.js';
import type { ContractsSnapshot } from '../telemetry/contract-ledger.js';
import type { UsageReport } from '../controlplane/controller.js';

/** One instance as the dashboard lists it. */
export interface InstanceInfo {
  service: string;
  version: string;
  /** up / starting / unhealthy / crashed / crash-loop for commands; `sim` or `external` otherwise. */
  state: string;
  port?: number;
  inboundPort?: number;
}

/** Everything one frame needs, taken at once. */
export interface DashboardFrame {
  mesh: string;
  mtls: string;
  startedAt: number;
  config: { status: string; at: number; message: string };
  stats: StatsSnapshot;
  services: ServiceState[];
  instances: InstanceInfo[];
  calls: CallRecord[];
  spiffe: (service: string) => string;
  /**
   * Contract violations and coverage, and API usage by consumer, when the source has them:
   * functions, so a frame pays for them only while their view is on screen.
   */
  contracts?: () => ContractsSnapshot;
  usage?: () => UsageReport[];
}

/** A runtime fault the dashboard can add. */
export type FaultKind = 'abort' | 'delay' | 'reset' | 'bandwidth';

export interface DashboardSource {
  frame(): DashboardFrame;
  /** Last output lines of a supervised instance (`service` or `service@version`). */
  logs(instance: string): string[];
  addFault(service: string, kind: FaultKind, percent: number): void;
  removeFault(id: string): void;
  setSplit(service: string, weights: Record<string, number> | null): void;
}
