/**
 * What the mesh has learned about contracts from the calls it carried: violations by
 * service and operation (with the last offending call), a bounded ring of violating
 * calls, and coverage — which declared (operation × response) pairs of each spec were
 * exercised. Subscribed to the bus's `call` events; read by the admin API, the dashboard
 * and `meshdev check`.
 */
import type { ContractSet } from '../contracts/contract-set.js';
import { bodyCheckStats, type BodyCheckStats } from '../contracts/off-thread-checks.js';
import type { Violation } from '../contracts/violation.js';
import type { MeshBus } from './bus.js';
import type { CallRecord } from './call-record.js';

/** Violating calls kept for `GET /v1/contracts` and the dashboard. */
export const RECENT_VIOLATIONS = 200;

/** Counts of one operation of one service. */
export interface OperationTally {
  service: string;
  operation: string;
  calls: number;
  errors: number;
  warnings: number;
  /** The last violating call: when, who, what, and its violations. */
  last?: {
    time: number;
    caller: string;
    method: string;
    path: string;
    status: number;
    violations: Violation[];
  };
}

/** Coverage of one spec. */
export interface SpecCoverage {
  file: string;
  services: string[];
  declared: number;
  exercised: number;
  /** Percent of declared pairs exercised (100 when nothing is declared). */
  percent: number;
  /** Declared pairs no call reached: `GET /orders/{id} 404`. */
  missing: string[];
}

/** The contract state a reader sees. */
export interface ContractsSnapshot {
  mode: string;
  /** Where `report` mode checks response bodies: the contract worker thread, and counts. */
  bodyChecks: BodyCheckStats;
  operations: OperationTally[];
  coverage: SpecCoverage[];
  recent: CallRecord[];
}

/** Keeps contract telemetry for one mesh. */
export class ContractLedger {
  /** Tallies by service, then operation. */
  private readonly tallies = new Map<string, Map<string, OperationTally>>();
  /** Responses seen, by spec file, then operation (pair strings are built for readers only). */
  private readonly exercised = new Map<string, Map<string, Set<string>>>();
  private readonly recentCalls: CallRecord[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly contracts: () => ContractSet) {}

  /** Starts counting the calls `bus` reports. */
  attach(bus: MeshBus): this {
    this.unsubscribe = bus.on('call', (call) => this.record(call));
    return this;
  }

  /** Stops counting. */
  detach(): void {
    this.unsubscribe?.();
  }

  /** Forgets everything (a `meshdev check` scenario starts from zero). */
  reset(): void {
    this.tallies.clear();
    this.exercised.clear();
    this.recentCalls.length = 0;
  }

  /** Counts one call. */
  record(call: CallRecord): void {
    if (!call.violations) return;
    const operation = call.operation ?? '(no operation)';
    let ofService = this.tallies.get(call.service);
    if (!ofService) this.tallies.set(call.service, (ofService = new Map()));
    let tally = ofService.get(operation);
    if (!tally) {
      tally = { service: call.service, operation, calls: 0, errors: 0, warnings: 0 };
      ofService.set(operation, tally);
    }
    tally.calls++;
    for (const violation of call.violations) {
      if (violation.severity === 'error') tally.errors++;
      else tally.warnings++;
    }
    if (call.violations.length > 0) {
      tally.last = {
        time: call.time,
        caller: call.caller,
        method: call.method,
        path: call.path,
        status: call.status,
        violations: call.violations,
      };
      this.recentCalls.push(call);
      if (this.recentCalls.length > RECENT_VIOLATIONS) this.recentCalls.shift();
    }
    const file = this.contracts().forInstance(call.service, call.version)?.file;
    if (file && call.operation && call.response) {
      let operations = this.exercised.get(file);
      if (!operations) this.exercised.set(file, (operations = new Map()));
      let responses = operations.get(call.operation);
      if (!responses) operations.set(call.operation, (responses = new Set()));
      responses.add(call.response);
    }
  }

  /** Violating calls, oldest first. */
  recent(): readonly CallRecord[] {
    return this.recentCalls;
  }

  /** Coverage of every spec in force. */
  coverage(): SpecCoverage[] {
    return this.contracts()
      .all()
      .map(({ contract, services }) => {
        const declared = contract.declaredPairs;
        const seen = new Set<string>();
        for (const [operation, responses] of this.exercised.get(contract.file) ?? []) {
          for (const response of responses) seen.add(`${operation} ${response}`);
        }
        const missing = declared.filter((pair) => !seen.has(pair));
        const exercised = declared.length - missing.length;
        return {
          file: contract.file,
          services,
          declared: declared.length,
          exercised,
          percent: declared.length === 0 ? 100 : round((exercised / declared.length) * 100),
          missing,
        };
      });
  }

  /** Everything, for the admin API. */
  snapshot(): ContractsSnapshot {
    return {
      mode: this.contracts().mode,
      bodyChecks: bodyCheckStats(),
      operations: [...this.tallies.values()]
        .flatMap((ofService) => [...ofService.values()])
        .sort(
          (a, b) =>
            b.errors - a.errors ||
            b.warnings - a.warnings ||
            a.operation.localeCompare(b.operation),
        ),
      coverage: this.coverage(),
      recent: [...this.recentCalls],
    };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
