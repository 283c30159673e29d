/**
 * The dashboard's view of a mesh in another process, through its admin API: what
 * `meshdev top` shows, and the dashboard of `meshdev up` (its own process, so rendering
 * never shares the data plane's event loop). It polls `GET /v1/dashboard` at the frame
 * rate and hands the dashboard the last frame it got; contracts, usage and logs are
 * fetched only while a view asks for them.
 */
import type { FrameData } from '../controlplane/dashboard-frame.js';
import { parseHeaderCondition } from '../lib/header-condition.js';
import type { ContractsSnapshot } from '../telemetry/contract-ledger.js';
import type { UsageReport } from '../controlplane/controller.js';
import {
  faultInput,
  fromFrameData,
  type DashboardFrame,
  type DashboardSource,
  type FaultKind,
} from './source.js';

/** How the source reaches the admin API (the CLI's AdminClient, or a test's). */
export interface AdminTransport {
  call<T>(method: string, pathname: string, body?: unknown): Promise<T>;
}

/** A view asked for this within the last `INTEREST_MS`: keep fetching it. */
const INTEREST_MS = 2_000;

/** A `DashboardSource` polling a running mesh. */
export class AdminSource implements DashboardSource {
  private last: DashboardFrame | undefined;
  private contracts: ContractsSnapshot | undefined;
  private usage: UsageReport[] | undefined;
  private wantContractsAt = 0;
  private wantUsageAt = 0;
  private readonly logLines = new Map<string, { lines: string[]; wantedAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private failure: string | undefined;

  constructor(
    private readonly admin: AdminTransport,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes the first frame (rejects when the mesh does not answer), then polls. */
  async start(intervalMs = 250): Promise<void> {
    await this.poll(true);
    this.timer = setInterval(() => void this.poll(false), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round: the frame (with the views asked for), and the logs being watched. */
  async poll(throwOnFailure: boolean): Promise<void> {
    if (this.polling) return; // a slow answer: skip a beat rather than pile up requests
    this.polling = true;
    try {
      const now = this.now();
      const query = new URLSearchParams();
      if (now - this.wantContractsAt < INTEREST_MS) query.set('contracts', '1');
      if (now - this.wantUsageAt < INTEREST_MS) query.set('usage', '1');
      const data = await this.admin.call<FrameData>('GET', `/v1/dashboard?${query.toString()}`);
      this.last = fromFrameData(data);
      if (data.contracts) this.contracts = data.contracts;
      if (data.usage) this.usage = data.usage;
      for (const [instance, entry] of this.logLines) {
        if (now - entry.wantedAt >= INTEREST_MS) {
          this.logLines.delete(instance);
          continue;
        }
        const { lines } = await this.admin.call<{ lines: string[] }>(
          'GET',
          `/v1/logs/${encodeURIComponent(instance)}`,
        );
        entry.lines = lines;
      }
      this.failure = undefined;
    } catch (error) {
      if (throwOnFailure) throw error;
      this.failure = (error as Error).message;
    } finally {
      this.polling = false;
    }
  }

  frame(): DashboardFrame {
    if (!this.last) throw new Error('AdminSource.frame() before start()');
    return {
      ...this.last,
      contracts: () => {
        this.wantContractsAt = this.now();
        return this.contracts;
      },
      usage: () => {
        this.wantUsageAt = this.now();
        return this.usage;
      },
      ...(this.failure !== undefined && { disconnected: this.failure }),
    };
  }

  logs(instance: string): string[] {
    const entry = this.logLines.get(instance);
    if (entry) {
      entry.wantedAt = this.now();
      return entry.lines;
    }
    this.logLines.set(instance, { lines: [], wantedAt: this.now() });
    return [];
  }

  async addFault(
    service: string,
    kind: FaultKind,
    percent: number,
    condition?: string,
  ): Promise<void> {
    const header = condition === undefined ? undefined : parseHeaderCondition(condition);
    if (condition !== undefined && !header) {
      throw new Error(`"${condition}" is not a header condition (e.g. end-user=jason, x-id~^a)`);
    }
    await this.admin.call('POST', '/v1/faults', {
      service,
      ...faultInput(kind, percent),
      ...(header && { match: { headers: { [header[0]]: header[1] } } }),
    });
    await this.poll(false);
  }

  async removeFault(id: string): Promise<void> {
    await this.admin.call('DELETE', `/v1/faults/${encodeURIComponent(id)}`);
    await this.poll(false);
  }

  async setSplit(service: string, weights: Record<string, number> | null): Promise<void> {
    await this.admin.call('PUT', `/v1/services/${encodeURIComponent(service)}/split`, {
      weights,
    });
    await this.poll(false);
  }
}
