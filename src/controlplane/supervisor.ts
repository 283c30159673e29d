/**
 * Starts and watches the dev services that have a `command`: env with their upstream
 * URLs, output captured (bounded ring + `.meshdev/logs/<service>[@version].log`), health
 * checks (HTTP path or TCP connect) gating "up", restarts with exponential backoff
 * (1 s → 30 s) and a crash-loop state, and a clean stop. Each command runs behind
 * `child-shim.ts` in a process group of its own, which is stopped whole (SIGTERM, SIGKILL
 * after the grace) on shutdown, on a crash and when meshdev dies. A command whose port is
 * still held by another process is `blocked` (naming the pid), not started and not healthy.
 */
import { authorityOf, findLoopback, type LoopbackHost } from '../dataplane/loopback.js';
import { ensurePrivateDir, writePrivateFile } from '../lib/private-files.js';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instanceLabel, type InstanceConfig } from '../config/model.js';
import { portHolder, processGroupOf } from './port-holder.js';

/** What a supervised process is doing. */
export type ProcessState =
  'starting' | 'up' | 'unhealthy' | 'crashed' | 'crash-loop' | 'blocked' | 'stopped';

export interface SupervisorOptions {
  /** Where `logs/` goes (`.meshdev/`). */
  stateDir: string;
  /** Backoff of the first restart, ms (doubles up to `maxBackoffMs`). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Crashes within `crashWindowMs` that make a crash loop. */
  crashLoopAfter?: number;
  crashWindowMs?: number;
  /** SIGKILL this long after SIGTERM, ms. */
  killAfterMs?: number;
  /** Told about every state change. */
  onState?: (key: string, state: ProcessState, message: string) => void;
}

// Beside this file when compiled by tsc; from dist/ when this runs bundled (dist/bundle/,
// the same depth) or as TypeScript (tests).
const SHIM = [
  new URL('./child-shim.js', import.meta.url),
  new URL('../../dist/controlplane/child-shim.js', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((candidate) => existsSync(candidate))!;
const RING_LINES = 1000;

/** `service` or `service@version`, as logs and states are keyed. */
export function instanceKey(instance: Pick<InstanceConfig, 'service' | 'version'>): string {
  return instanceLabel(instance.service, instance.version);
}

/** One supervised command. */
class Managed {
  state: ProcessState = 'starting';
  pid: number | undefined;
  restarts = 0;
  readonly lines: string[] = [];
  private child: ChildProcess | undefined;
  /** The command's process group (told by the shim), SIGKILLed as a last resort. */
  private group: number | undefined;
  private crashes: number[] = [];
  private healthTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private log: WriteStream;
  private stopped = false;

  constructor(
    readonly instance: InstanceConfig,
    private readonly env: Record<string, string>,
    private readonly options: Required<Omit<SupervisorOptions, 'onState'>> &
      Pick<SupervisorOptions, 'onState'>,
  ) {
    const dir = path.join(options.stateDir, 'logs');
    ensurePrivateDir(dir);
    this.log = createWriteStream(path.join(dir, `${instanceKey(instance)}.log`), { flags: 'a' });
    this.start();
  }

  private set(state: ProcessState, message: string): void {
    if (this.state === state && state !== 'crashed') return;
    this.state = state;
    this.options.onState?.(instanceKey(this.instance), state, message);
  }

  /** Where the command's process group id is kept, to recognise it after a crash of meshdev. */
  private get groupFile(): string {
    return path.join(this.options.stateDir, 'pids', `${instanceKey(this.instance)}.pgid`);
  }

  private start(): void {
    const port = this.instance.port;
    if (port === undefined) return this.spawn();
    void portInUse(port).then((held) => {
      if (this.stopped) return;
      if (!held) return this.spawn();
      // Starting now would fail with EADDRINUSE while health checks reach the squatter.
      this.set('blocked', this.blockedMessage(port));
      this.restartTimer = setTimeout(() => this.start(), this.options.baseBackoffMs);
    });
  }

  private blockedMessage(port: number): string {
    const pid = portHolder(port);
    let previous: number | undefined;
    try {
      previous = Number(readFileSync(this.groupFile, 'utf8'));
    } catch {
      previous = undefined;
    }
    const fromPrevious =
      pid !== undefined && previous !== undefined && processGroupOf(pid) === previous;
    const holder = pid === undefined ? 'another process' : `pid ${pid}`;
    return (
      `port ${port} still held by ${holder}${fromPrevious ? ' from a previous run' : ''}` +
      ` — stop it${pid === undefined ? '' : ` (kill ${pid})`} and meshdev starts ${instanceKey(this.instance)}`
    );
  }

  private spawn(): void {
    const child = spawn(
      process.execPath,
      [SHIM, this.instance.command!, String(this.options.killAfterMs)],
      {
        cwd: this.instance.cwd,
        env: { ...process.env, ...this.env },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.pid = child.pid;
    this.group = undefined;
    this.set('starting', `started (pid ${child.pid})`);
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      this.group = Number(chunk.toString().trim()) || undefined;
      if (this.group === undefined) return;
      ensurePrivateDir(path.dirname(this.groupFile));
      writePrivateFile(this.groupFile, String(this.group));
    });
    const capture = (stream: Readable) => {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        this.log.write(chunk);
        partial += chunk.toString();
        const parts = partial.split('\n');
        partial = parts.pop()!;
        for (const line of parts) {
          this.lines.push(line);
          if (this.lines.length > RING_LINES) this.lines.shift();
        }
      });
    };
    capture(child.stdout!);
    capture(child.stderr!);
    child.on('error', (error) => this.lines.push(`meshdev: cannot start: ${error.message}`));
    child.on('exit', (code, signal) => {
      clearTimeout(this.healthTimer);
      this.child = undefined;
      if (this.stopped) return this.set('stopped', 'stopped');
      const now = Date.now();
      this.crashes = [...this.crashes.filter((at) => now - at < this.options.crashWindowMs), now];
      const loop = this.crashes.length >= this.options.crashLoopAfter;
      const backoff = Math.min(
        this.options.maxBackoffMs,
        this.options.baseBackoffMs * 2 ** (this.crashes.length - 1),
      );
      const last = this.lines.slice(-5).join(' | ');
      this.set(
        loop ? 'crash-loop' : 'crashed',
        `exited ${signal ?? `with code ${code}`}; restarting in ${backoff}ms${last ? ` — last output: ${last}` : ''}`,
      );
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, backoff);
    });
    this.checkHealth();
  }

  private checkHealth(): void {
    const interval = this.instance.health?.intervalMs ?? 500;
    this.healthTimer = setTimeout(
      async () => {
        if (!this.child) return;
        const healthy = await probe(this.instance);
        if (!this.child) return;
        if (healthy) this.set('up', 'healthy');
        else if (this.state === 'up') this.set('unhealthy', 'health check failed');
        this.checkHealth();
      },
      this.state === 'starting' ? Math.min(interval, 250) : interval,
    );
  }

  /**
   * Stops the command: SIGTERM to the shim, which stops the command's whole group (SIGKILL
   * after the grace period) and exits when it is empty. If the shim itself does not exit a
   * little after that, meshdev SIGKILLs it and the group. Resolves when all are gone.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.healthTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      signal(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        signal(child.pid!, 'SIGKILL');
        if (this.group !== undefined) signal(-this.group, 'SIGKILL');
      }, this.options.killAfterMs + 3_000);
      await exited;
      clearTimeout(timer);
    }
    this.set('stopped', 'stopped');
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}

function signatureOf(instance: InstanceConfig, env: Record<string, string>): string {
  return JSON.stringify([instance.command, instance.cwd, instance.port, instance.health, env]);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Whether something accepts connections on `port`, on 127.0.0.1 or ::1 (within `timeout` ms). */
async function portInUse(port: number, timeout = 1000): Promise<boolean> {
  return (await findLoopback(port, timeout)) !== undefined;
}

/** HTTP GET of the health path (2xx/3xx), or a TCP connect to the port. */
async function probe(instance: InstanceConfig): Promise<boolean> {
  const port = instance.port!;
  const timeout = instance.health?.timeoutMs ?? 1000;
  const path = instance.health?.path;
  if (path) {
    const { request } = await import('undici'); // loaded with the first HTTP health check
    const healthy = async (host: LoopbackHost) => {
      const response = await request(`http://${authorityOf(host, port)}${path}`, {
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      await response.body.dump();
      return response.statusCode < 400;
    };
    // 127.0.0.1 first; refused there, ::1 (a dev server bound to `localhost` may be there alone).
    try {
      return await healthy('127.0.0.1');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ECONNREFUSED') return false;
    }
    return healthy('::1').catch(() => false);
  }
  return portInUse(port, timeout);
}

/** The supervised processes of a mesh. */
export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private readonly options: Required<Omit<SupervisorOptions, 'onState'>> &
    Pick<SupervisorOptions, 'onState'>;

  constructor(options: SupervisorOptions) {
    this.options = {
      baseBackoffMs: 1000,
      maxBackoffMs: 30_000,
      crashLoopAfter: 5,
      crashWindowMs: 60_000,
      killAfterMs: 5000,
      ...options,
    };
  }

  private readonly signatures = new Map<string, string>();

  /** Starts `instance` (which must have a command) with `env`. */
  start(instance: InstanceConfig, env: Record<string, string>): void {
    this.managed.set(instanceKey(instance), new Managed(instance, env, this.options));
    this.signatures.set(instanceKey(instance), signatureOf(instance, env));
  }

  /**
   * Brings the running commands to `wanted`: a command whose settings (command, cwd,
   * env, port, health) are unchanged keeps running; changed ones restart; removed ones
   * stop; new ones start. Returns the keys it restarted, started or stopped.
   */
  async sync(
    wanted: ReadonlyArray<{ instance: InstanceConfig; env: Record<string, string> }>,
  ): Promise<string[]> {
    const next = new Map(wanted.map((entry) => [instanceKey(entry.instance), entry]));
    const changed: string[] = [];
    for (const key of [...this.managed.keys()]) {
      const entry = next.get(key);
      if (entry && signatureOf(entry.instance, entry.env) === this.signatures.get(key)) continue;
      await this.stop(key);
      this.signatures.delete(key);
      changed.push(key);
    }
    for (const [key, entry] of next) {
      if (this.managed.has(key)) continue;
      this.start(entry.instance, entry.env);
      if (!changed.includes(key)) changed.push(key);
    }
    return changed;
  }

  /** The state of a supervised instance, or undefined when meshdev does not run it. */
  state(instance: Pick<InstanceConfig, 'service' | 'version'>): ProcessState | undefined {
    return this.managed.get(instanceKey(instance))?.state;
  }

  /** Every supervised instance with its state, pid, restarts and last output. */
  describe(): Array<{
    instance: string;
    state: ProcessState;
    pid: number | undefined;
    restarts: number;
    lastLines: string[];
  }> {
    return [...this.managed].map(([key, managed]) => ({
      instance: key,
      state: managed.state,
      pid: managed.pid,
      restarts: managed.restarts,
      lastLines: managed.lines.slice(-10),
    }));
  }

  /** The captured output of an instance (at most the last 1,000 lines). */
  lines(key: string): string[] {
    return this.managed.get(key)?.lines ?? [];
  }

  /** Stops one instance (by key), or all. */
  async stop(key?: string): Promise<void> {
    const targets = key ? [[key, this.managed.get(key)] as const] : [...this.managed];
    await Promise.all(
      targets.map(
        ([name, managed]) => managed && managed.stop().then(() => this.managed.delete(name)),
      ),
    );
  }
}
