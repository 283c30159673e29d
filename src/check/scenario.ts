/**
 * Runs one `checks:` scenario against a running mesh: applies its faults and splits,
 * sends its traffic (`requests:` through the gateway, `load:`, `explore:`'s requests made
 * up from the specs, and the `run:` command with the mesh's URLs in its env), collects
 * every call the mesh carried meanwhile,
 * takes the faults and splits away again, and evaluates the expectations.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'undici';
import type { CheckSpec, MeshConfig } from '../config/model.js';
import { envVarName } from '../config/names.js';
import type { MeshRuntime } from '../dataplane/runtime.js';
import { startLoad } from '../sim/load.js';
import { actAsHeaders } from '../edge/act-as.js';
import type { MeshBus } from '../telemetry/bus.js';
import type { CallRecord } from '../telemetry/call-record.js';
import type { ContractLedger } from '../telemetry/contract-ledger.js';
import { bodyChecksIdle } from '../contracts/off-thread-checks.js';
import { redactPath, type Violation } from '../contracts/violation.js';
import { evaluate, type Expectation } from './expectations.js';
import { runExplore, type ExploreCounts } from './explore-run.js';

/** The calls of one caller to one operation of a callee: a JUnit test case of its own. */
export interface ContractCase {
  caller: string;
  service: string;
  /** `GET /orders/{id}`, or `METHOD /path (not in the spec)`. */
  operation: string;
  /** The spec file, when the callee has one. */
  file?: string;
  calls: number;
  violations: Array<Violation & { method: string; path: string; status: number; version: string }>;
}

/** What running one scenario found. */
export interface ScenarioResult {
  name: string;
  passed: boolean;
  durationMs: number;
  expectations: Expectation[];
  contracts: ContractCase[];
  calls: CallRecord[];
  /** The last lines `run:` printed. */
  runOutput: string[];
  /** Why the scenario could not run to the end (timeout), if it did not. */
  problem?: string;
}

/** What a scenario needs from the running mesh. */
export interface ScenarioMesh {
  config: MeshConfig;
  runtime: MeshRuntime;
  bus: MeshBus;
  ledger: ContractLedger;
  gatewayPort: number | undefined;
  loadToken: string;
  /** Progress lines (stderr). */
  log(line: string): void;
}

/** How long to wait after the traffic for the last call records (ms). */
const SETTLE_MS = 150;
const RUN_OUTPUT_LINES = 200;

/** Runs `check` and evaluates it. */
export async function runScenario(mesh: ScenarioMesh, check: CheckSpec): Promise<ScenarioResult> {
  const started = performance.now();
  const calls: CallRecord[] = [];
  mesh.ledger.reset();
  const off = mesh.bus.on('call', (call) => calls.push(call));
  const faultIds = check.faults.map((fault) => {
    const { id: _file, ...rest } = fault;
    return mesh.runtime.addFault(rest).id;
  });
  for (const [service, weights] of Object.entries(check.splits ?? {}))
    mesh.runtime.setSplit(service, { ...weights });
  const gateway =
    mesh.gatewayPort === undefined ? undefined : `http://127.0.0.1:${mesh.gatewayPort}`;
  const runOutput: string[] = [];
  let exitCode: number | null | undefined;
  let explored: ExploreCounts | undefined;
  let problem: string | undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => {
    problem = `the scenario did not finish within ${check.timeoutMs}ms`;
    abort.abort();
  }, check.timeoutMs);
  try {
    await Promise.all([
      gateway && check.requests.length > 0
        ? sendRequests(gateway, mesh.config, check, abort.signal)
        : undefined,
      gateway && check.load ? runLoad(gateway, mesh, check, abort.signal) : undefined,
      gateway && check.explore
        ? runExplore(
            gateway,
            mesh.config,
            () => mesh.runtime.contracts,
            check,
            (line) => mesh.log(line),
            abort.signal,
          ).then((counts) => (explored = counts))
        : undefined,
      check.run !== undefined
        ? runCommand(check.run, mesh, gateway, abort.signal, (line) => {
            runOutput.push(line);
            if (runOutput.length > RUN_OUTPUT_LINES) runOutput.shift();
            mesh.log(`  │ ${line}`);
          }).then((code) => (exitCode = code))
        : undefined,
    ]);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    // Records of checked calls wait for their body's check (a worker thread's answer).
    await bodyChecksIdle();
  } finally {
    clearTimeout(timer);
    off();
    for (const id of faultIds) mesh.runtime.removeFault(id);
    for (const service of Object.keys(check.splits ?? {})) mesh.runtime.setSplit(service, null);
  }
  const coverage = mesh.ledger.coverage();
  const declared = coverage.reduce((sum, spec) => sum + spec.declared, 0);
  const exercised = coverage.reduce((sum, spec) => sum + spec.exercised, 0);
  const expectations = evaluate(check, {
    calls,
    coveragePercent: declared === 0 ? 100 : (exercised / declared) * 100,
    exitCode,
  });
  if (explored) {
    // Exploring that made nothing up proved nothing: it fails rather than pass empty.
    const notes = [
      explored.leftOut > 0 && `${explored.leftOut} operations not fully explored (see the log)`,
      explored.refused > 0 && `${explored.refused} refused by the gateway itself`,
    ].filter(Boolean);
    expectations.push({
      name: 'explore',
      passed: explored.sent - explored.refused > 0,
      measured: `${explored.sent} requests made up for ${explored.operations} operations${notes.map((note) => `, ${note}`).join('')}`,
      wanted: 'at least one request made up from the specs that reached its service',
    });
  }
  if (problem)
    expectations.push({
      name: 'finished in time',
      passed: false,
      measured: problem,
      wanted: `done within ${check.timeoutMs}ms`,
    });
  return {
    name: check.name,
    passed: expectations.every((e) => e.passed),
    durationMs: performance.now() - started,
    expectations,
    contracts: contractCases(calls, mesh),
    calls,
    runOutput,
    problem,
  };
}

async function sendRequests(
  gateway: string,
  config: MeshConfig,
  check: CheckSpec,
  signal: AbortSignal,
): Promise<void> {
  const pool = new Pool(gateway, { connections: 4 });
  try {
    for (const request of check.requests) {
      const json = request.body !== undefined && typeof request.body !== 'string';
      const body =
        request.body === undefined
          ? undefined
          : json
            ? JSON.stringify(request.body)
            : String(request.body);
      for (let i = 0; i < request.repeat && !signal.aborted; i++) {
        try {
          const response = await pool.request({
            method: request.method as never,
            path: request.path,
            headers: {
              ...(json ? { 'content-type': 'application/json' } : {}),
              ...actAsHeaders(config, request.as),
              ...request.headers,
            },
            body,
            signal,
          });
          await response.body.dump();
        } catch {
          // A reset or refused call is recorded by the mesh itself (status 0).
        }
      }
    }
  } finally {
    await pool.destroy();
  }
}

async function runLoad(
  gateway: string,
  mesh: ScenarioMesh,
  check: CheckSpec,
  signal: AbortSignal,
): Promise<void> {
  const spec = check.load!;
  const load = startLoad(
    {
      name: check.name,
      method: spec.method,
      path: spec.path,
      headers: { ...actAsHeaders(mesh.config, spec.as), ...spec.headers },
      body: spec.body,
      rps: spec.rps,
      concurrency: spec.concurrency,
      durationMs: spec.durationMs,
      maxRequests: spec.requests,
    },
    { target: gateway, token: mesh.loadToken },
  );
  const stop = () => void load.stop();
  signal.addEventListener('abort', stop, { once: true });
  await load.done;
  signal.removeEventListener('abort', stop);
  await load.stop();
}

/**
 * Runs `command` in a shell, in its own process group (killed whole on timeout), with
 * `MESH_GATEWAY_URL` and, for every service the gateway routes to, `<SVC>_URL`.
 */
function runCommand(
  command: string,
  mesh: ScenarioMesh,
  gateway: string | undefined,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<number | null> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  if (gateway) {
    env.MESH_GATEWAY_URL = gateway;
    for (const route of mesh.config.gateway?.routes ?? []) {
      const name = envVarName(route.service);
      env[name] ??= route.stripPrefix ? `${gateway}${route.path.replace(/\/$/, '')}` : gateway;
    }
  }
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      cwd: path.dirname(mesh.config.file),
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const read = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    signal.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => {
      onLine(`cannot run: ${error.message}`);
      resolve(127);
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', kill);
      if (pending) onLine(pending);
      resolve(signal.aborted ? null : code);
    });
  });
}

/** Groups the calls by caller, callee and operation. */
function contractCases(calls: readonly CallRecord[], mesh: ScenarioMesh): ContractCase[] {
  const cases = new Map<string, ContractCase>();
  for (const call of calls) {
    if (!call.violations) continue;
    const operation =
      call.operation ?? `${call.method} ${call.path.split('?')[0]} (not in the spec)`;
    const key = `${call.caller}|${call.service}|${operation}`;
    let entry = cases.get(key);
    const contract = mesh.runtime.contracts.forInstance(call.service, call.version);
    if (!entry) {
      entry = {
        caller: call.caller,
        service: call.service,
        operation,
        file: contract?.file,
        calls: 0,
        violations: [],
      };
      cases.set(key, entry);
    }
    entry.calls++;
    // Reports travel (CI artifacts): secret query values never go in them.
    const shownPath = contract ? redactPath(call.path, contract.redactor) : call.path;
    for (const violation of call.violations) {
      entry.violations.push({
        ...violation,
        method: call.method,
        path: shownPath,
        status: call.status,
        version: call.version,
      });
    }
  }
  return [...cases.values()];
}
