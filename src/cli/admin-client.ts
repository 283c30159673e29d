/**
 * How CLI commands talk to the running mesh: `.meshdev/state.json` (beside the config)
 * names the admin port, `.meshdev/admin-token` the bearer token.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { MeshStateFile } from '../controlplane/admin.js';
import { resolveConfigPath } from './config-option.js';
import { UserError } from './user-error.js';

/** A client for the admin API of the mesh that owns a config file. */
export class AdminClient {
  private constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  /** A client for the admin API at `base` (e.g. `http://127.0.0.1:15000`) with `token`. */
  static at(base: string, token: string): AdminClient {
    return new AdminClient(base, token);
  }

  /** Finds the running mesh for `-c FILE` (or the discovered config), or explains. */
  static connect(explicit: string | undefined): AdminClient {
    const client = AdminClient.find(explicit);
    if (client) return client;
    const dir = path.dirname(resolveConfigPath(explicit));
    throw new UserError(`no mesh is running for ${dir} — start one with \`meshdev up\``);
  }

  /** The running mesh for `-c FILE` (or the discovered config), or undefined. */
  static find(explicit: string | undefined): AdminClient | undefined {
    const file = resolveConfigPath(explicit);
    const dir = path.join(path.dirname(file), '.meshdev');
    const stateFile = path.join(dir, 'state.json');
    if (!existsSync(stateFile)) return undefined;
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as MeshStateFile;
    if (!isAlive(state.pid)) return undefined;
    const token = readFileSync(path.join(dir, 'admin-token'), 'utf8').trim();
    return new AdminClient(`http://127.0.0.1:${state.adminPort}`, token);
  }

  /**
   * Sends a request; API errors become user errors with the API's message. Plain
   * `node:http`: loading undici (or Node's own fetch, which bundles it) took 0.2–0.3 s of
   * every `meshdev status` here, longer than the rest of the command.
   */
  async call<T>(method: string, pathname: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let answer: { status: number; text: string };
    try {
      answer = await new Promise((resolve, reject) => {
        const req = http.request(
          `${this.base}${pathname}`,
          {
            method,
            headers: {
              authorization: `Bearer ${this.token}`,
              ...(payload === undefined
                ? {}
                : {
                    'content-type': 'application/json',
                    'content-length': Buffer.byteLength(payload),
                  }),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    } catch (error) {
      throw new UserError(
        `the mesh's admin API at ${this.base} does not answer (${(error as Error).message})`,
        'is `meshdev up` still running?',
      );
    }
    const parsed = answer.text
      ? (JSON.parse(answer.text) as T & { message?: string })
      : ({} as T & { message?: string });
    if (answer.status >= 400)
      throw new UserError(parsed.message ?? `admin API answered ${answer.status}`);
    return parsed;
  }

  /** Opens the live calls stream; `onCall` gets each call until the stream ends. */
  async follow(query: string, onCall: (call: Record<string, unknown>) => void): Promise<void> {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${this.base}/v1/calls${query}`, {
        headers: { authorization: `Bearer ${this.token}` },
      });
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    res.setEncoding('utf8');
    let buffer = '';
    for await (const chunk of res) {
      buffer += chunk as string;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').find((line) => line.startsWith('data: '));
        if (data) onCall(JSON.parse(data.slice(6)) as Record<string, unknown>);
      }
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
