/**
 * How CLI commands talk to the running mesh: `.meshdev/state.json` (beside the config)
 * names the admin port, `.meshdev/admin-token` the bearer token.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
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

  /** Sends a request; API errors become user errors with the API's message. */
  async call<T>(method: string, pathname: string, body?: unknown): Promise<T> {
    let response;
    try {
      response = await request(`${this.base}${pathname}`, {
        method: method as never,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new UserError(
        `the mesh's admin API at ${this.base} does not answer (${(error as Error).message})`,
        'is `meshdev up` still running?',
      );
    }
    const text = await response.body.text();
    const parsed = text
      ? (JSON.parse(text) as T & { message?: string })
      : ({} as T & { message?: string });
    if (response.statusCode >= 400)
      throw new UserError(parsed.message ?? `admin API answered ${response.statusCode}`);
    return parsed;
  }

  /** Opens the live calls stream; `onCall` gets each call until the stream ends. */
  async follow(query: string, onCall: (call: Record<string, unknown>) => void): Promise<void> {
    const response = await request(`${this.base}/v1/calls${query}`, {
      method: 'GET',
      headers: { authorization: `Bearer ${this.token}` },
    });
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += chunk.toString();
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
