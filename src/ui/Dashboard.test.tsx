import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../config/load.js';
import { MeshRuntime } from '../dataplane/runtime.js';
import type { CallRecord } from '../telemetry/call-record.js';
import { MeshStats } from '../telemetry/stats.js';
import { Dashboard } from './Dashboard.js';
import type { DashboardSource, FaultKind } from './source.js';

const config = loadConfigText(
  `version: 1
mesh: { name: shop, ports: { from: 0 } }
gateway: { port: 0, routes: [{ path: /, service: frontend }] }
services:
  frontend: { sim: { routes: [{ path: / }] }, upstreams: [payments] }
  payments:
    versions: { v1: { sim: { routes: [{ path: / }] } }, v2: { sim: { routes: [{ path: / }] } } }
    routes: [{ split: { v1: 90, v2: 10 } }]
`,
  'ui.yaml',
  { env: {} },
);

function call(overrides: Partial<CallRecord>): CallRecord {
  return {
    time: Date.now(),
    traceId: 'abc',
    requestId: String(Math.random()),
    caller: 'gateway',
    service: 'frontend',
    version: 'default',
    method: 'GET',
    path: '/',
    route: '/',
    status: 200,
    durationMs: 12,
    bytesIn: 0,
    bytesOut: 10,
    flags: [],
    attempts: 1,
    security: 'mutual_tls',
    ...overrides,
  };
}

const violation = {
  location: ['response', 'body', 'amount'],
  severity: 'error' as const,
  code: 'type',
  message: 'amount must be integer',
  expected: 'integer',
  actual: '"12.5"',
};

/** A source over a real runtime and real stats, fed with known calls. */
function source() {
  const runtime = new MeshRuntime(config);
  const stats = new MeshStats();
  const added: Array<{ service: string; kind: FaultKind; percent: number }> = [];
  for (let i = 0; i < 20; i++) stats.record(call({}));
  for (let i = 0; i < 9; i++)
    stats.record(
      call({
        caller: 'frontend',
        service: 'payments',
        version: 'v1',
        method: 'POST',
        path: '/charges',
        route: '/charges',
      }),
    );
  stats.record(
    call({
      caller: 'frontend',
      service: 'payments',
      version: 'v2',
      method: 'POST',
      path: '/charges',
      status: 503,
      flags: ['FI'],
    }),
  );
  // A call that broke its contract: in the calls pane only, so the stats stay as above.
  const violating = call({
    caller: 'frontend',
    service: 'payments',
    version: 'v1',
    method: 'POST',
    path: '/charges',
    status: 201,
    flags: ['CV'],
    operation: 'POST /charges',
    response: '201',
    violations: [violation],
  });
  const value: DashboardSource & { added: typeof added; runtime: MeshRuntime } = {
    added,
    runtime,
    frame: () => ({
      mesh: 'shop',
      mtls: 'strict',
      startedAt: Date.now() - 65_000,
      config: { status: 'ok', at: Date.now(), message: 'loaded' },
      stats: stats.snapshot(),
      services: runtime.state(),
      instances: [
        { service: 'frontend', version: 'default', state: 'sim' },
        { service: 'payments', version: 'v1', state: 'sim' },
        { service: 'payments', version: 'v2', state: 'sim' },
      ],
      calls: [violating, ...stats.recent(50)],
      spiffe: (service) => `spiffe://meshdev.local/ns/default/sa/${service}`,
      contracts: () => ({
        mode: 'report',
        bodyChecks: { worker: 'running', checkedInWorker: 10, checkedHere: 0, waiting: 0 },
        operations: [
          {
            service: 'payments',
            operation: 'POST /charges',
            calls: 10,
            errors: 1,
            warnings: 0,
            last: {
              time: Date.now(),
              caller: 'frontend',
              method: 'POST',
              path: '/charges',
              status: 201,
              violations: [violation],
            },
          },
        ],
        coverage: [
          {
            file: '/project/payments.openapi.yaml',
            services: ['payments'],
            declared: 4,
            exercised: 1,
            percent: 25,
            missing: ['POST /charges 400'],
          },
        ],
        recent: [],
      }),
    }),
    logs: () => [],
    addFault: (service, kind, percent) => {
      added.push({ service, kind, percent });
      runtime.addFault({ service, abort: { status: 503, percent } });
    },
    removeFault: (id) => void runtime.removeFault(id),
    setSplit: (service, weights) => runtime.setSplit(service, weights),
  };
  return value;
}

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

function mount(columns = 120, rows = 30, noteMs?: number) {
  const src = source();
  const app = render(<Dashboard source={src} onQuit={() => {}} intervalMs={20} noteMs={noteMs} />);
  Object.defineProperty(app.stdout, 'columns', { get: () => columns });
  Object.defineProperty(app.stdout, 'rows', { get: () => rows });
  app.stdout.emit('resize');
  unmount = app.unmount;
  return { src, app };
}

describe('Dashboard', () => {
  it('shows the header, the services with their numbers, live calls and API usage', async () => {
    const { app } = mount();
    await tick();
    const frame = app.lastFrame()!;
    expect(frame).toMatch(
      /meshdev · shop · up 1m0[45]s · [\d.]+ req\/s · err 3\.3% · mTLS strict · config ok/,
    );
    expect(frame).toMatch(/frontend\s+—\s+sim/);
    expect(frame).toMatch(
      /payments\s+v1,v2\s+sim\s+[\d.]+\s+[\d.]+ms\s+[\d.]+ms\s+10\.0%\s+v1:90 v2:10/,
    );
    expect(frame).toContain('live calls');
    expect(frame).toMatch(/⚡.*frontend→payments@v2 POST \/charges\s+503 12ms FI/);
    expect(frame).toContain('API usage');
    expect(frame).toContain('payments POST /charges');
  });

  it('adds a 50% abort on payments with four keystrokes and shows it as a runtime overlay', async () => {
    const { app, src } = mount();
    await tick();
    app.stdin.write('\u001B[B'); // ↓ to payments
    await tick();
    for (const key of ['f', 'a', '5', '\r']) {
      app.stdin.write(key);
      await tick();
    }
    expect(src.added).toEqual([{ service: 'payments', kind: 'abort', percent: 50 }]);
    expect(src.runtime.state()[1]!.faults).toEqual([
      expect.objectContaining({ source: 'runtime', abort: { status: 503, percent: 50 } }),
    ]);
    await tick(60);
    expect(app.lastFrame()).toContain('added 50% abort on payments');
    expect(app.lastFrame()).toMatch(/config ok · runtime: 1 fault/);
  });

  it('a note about a change fades, and the key hints come back', async () => {
    const { app } = mount(120, 30, 1_000);
    await tick();
    app.stdin.write('\u001B[B');
    await tick();
    for (const key of ['f', 'a', '5', '\r']) {
      app.stdin.write(key);
      await tick();
    }
    expect(app.lastFrame()).toContain('✎ added 50% abort on payments');
    // The note lives 1 s here; it is gone well within 3 s on a loaded machine.
    await tick(3_000);
    expect(app.lastFrame()).not.toContain('✎ added');
    expect(app.lastFrame()).toContain('f faults · s split');
  });

  it('takes keys that arrive together one by one', async () => {
    const { app, src } = mount();
    await tick();
    app.stdin.write('\u001B[B');
    await tick();
    app.stdin.write('fa3\r');
    await tick(60);
    expect(src.added).toEqual([{ service: 'payments', kind: 'abort', percent: 30 }]);
  });

  it('the split editor applies weights that sum to 100', async () => {
    const { app, src } = mount();
    await tick();
    app.stdin.write('\u001B[B');
    await tick();
    app.stdin.write('s');
    await tick();
    expect(app.lastFrame()).toContain('split of payments');
    app.stdin.write('\u001B[D'); // ← moves 5 from v1 to v2
    await tick();
    app.stdin.write('\r');
    await tick(60);
    expect(src.runtime.state()[1]!.split).toEqual({
      weights: { v1: 85, v2: 15 },
      source: 'runtime',
    });
  });

  it('shows the topology and the help, and hides panels below 80×24', async () => {
    const { app } = mount();
    await tick();
    app.stdin.write('t');
    await tick(60);
    expect(app.lastFrame()).toMatch(
      /gateway\n└─ frontend {2}[\d.]+ req\/s {2}p99 [\d.]+ms {2}err 0%\n {3}└─ payments/,
    );
    app.stdin.write('?');
    await tick(60);
    expect(app.lastFrame()).toContain('pause / resume the calls pane');
    unmount!();
    const small = mount(70, 20);
    await tick(60);
    expect(small.app.lastFrame()).toContain('terminal 70×20: enlarge to 80×24');
    expect(small.app.lastFrame()).not.toContain('live calls');
  });

  it('marks violating calls and shows violations by operation with their excerpt (c)', async () => {
    const { app } = mount();
    await tick();
    expect(app.lastFrame()).toMatch(/frontend→payments@v1 POST \/charges\s+201 12ms CV 1/);
    app.stdin.write('c');
    await tick(60);
    const frame = app.lastFrame()!;
    expect(frame).toContain('contracts (report) — violations by operation');
    expect(frame).toContain('payments POST /charges  10 calls  1 errors  0 warnings');
    expect(frame).toContain(
      'error response.body.amount type: amount must be integer (expected integer, got "12.5")',
    );
    expect(frame).toMatch(
      /coverage .*payments\.openapi\.yaml: 1\/4 \(25%\) · not yet: POST \/charges 400/,
    );
    expect(frame).toContain('response bodies checked in a worker thread: 10');
    app.stdin.write('c');
    await tick(60);
    expect(app.lastFrame()).toContain('live calls');
  });

  it('every line fits the terminal width', async () => {
    const { app } = mount(90, 26);
    await tick(60);
    for (const line of app.lastFrame()!.split('\n'))
      expect([...line].length).toBeLessThanOrEqual(90);
    expect(app.lastFrame()!.split('\n').length).toBeLessThanOrEqual(26);
  });

  it('at 80, 110 and 160 columns: every column of the table, distinct endpoints, the chosen percent', async () => {
    for (const [columns, rows] of [
      [80, 24],
      [110, 30],
      [160, 40],
    ] as const) {
      const { app } = mount(columns, rows);
      await tick();
      const frame = app.lastFrame()!;
      const size = `${columns}x${rows}`;
      for (const line of frame.split('\n'))
        expect([...line].length, size).toBeLessThanOrEqual(columns);
      expect(frame, size).toMatch(
        /service +versions +state +req\/s +p50 +p99 +err% +split +faults +breaker/,
      );
      expect(frame, size).toMatch(/payments +v1,v2 +sim .* v1:90 v2:10 +— +closed/);
      expect(frame, size).toMatch(/GET \/ +[\d.]+/);
      expect(frame, size).toMatch(/POST \/charges +[\d.]+/);
      app.stdin.write('\u001B[B');
      await tick();
      for (const key of ['f', 'a', '5']) {
        app.stdin.write(key);
        await tick();
      }
      await tick(60);
      expect(app.lastFrame(), size).toMatch(/^ 50% {2}a abort 503/m);
      app.unmount();
    }
  });
});
