/**
 * What the dashboard reads and changes: snapshots of the running mesh and the runtime
 * API. The dashboard never touches the data plane directly and never renders per call.
 */
import type { FrameData, InstanceInfo } from '../controlplane/dashboard-frame.js';
import type { RuntimeFaultInput } from '../controlplane/admission.js';
import type { ContractsSnapshot } from '../telemetry/contract-ledger.js';
import type { UsageReport } from '../controlplane/controller.js';

export type { InstanceInfo };

/** Everything one frame needs, taken at once. */
export interface DashboardFrame extends Omit<FrameData, 'spiffeIds' | 'contracts' | 'usage'> {
  spiffe: (service: string) => string;
  /**
   * Contract violations and coverage, and API usage by consumer, when the source has them:
   * functions, so a frame pays for them only while their view is on screen.
   */
  contracts?: () => ContractsSnapshot | undefined;
  usage?: () => UsageReport[] | undefined;
  /** Set while the source cannot reach the mesh (`meshdev top`): why. */
  disconnected?: string;
}

/** The parts of a JSON frame every source shares. */
export function fromFrameData(frame: FrameData): DashboardFrame {
  const { spiffeIds, contracts: _contracts, usage: _usage, ...rest } = frame;
  return { ...rest, spiffe: (service) => spiffeIds[service] ?? '' };
}

/** A runtime fault the dashboard can add. */
export type FaultKind = 'abort' | 'delay' | 'reset' | 'bandwidth';

/** Faults the dashboard adds, by kind (percent chosen in the editor), as the config writes them. */
export function faultInput(kind: FaultKind, percent: number): Partial<RuntimeFaultInput> {
  switch (kind) {
    case 'abort':
      return { abort: { status: 503, percent } };
    case 'delay':
      return { delay: { duration: '1s', percent } };
    case 'reset':
      return { reset: { percent } };
    case 'bandwidth':
      return { bandwidth: { rate: '8KiB', percent } };
  }
}

export interface DashboardSource {
  frame(): DashboardFrame;
  /** Last output lines of a supervised instance (`service` or `service@version`). */
  logs(instance: string): string[];
  /** Changes apply at once in the same process; over the admin API they resolve later. */
  /** `condition`: one header condition (`end-user=jason`, `x-id~^a`, `x-debug`). */
  addFault(
    service: string,
    kind: FaultKind,
    percent: number,
    condition?: string,
  ): void | Promise<void>;
  removeFault(id: string): void | Promise<void>;
  setSplit(service: string, weights: Record<string, number> | null): void | Promise<void>;
}
