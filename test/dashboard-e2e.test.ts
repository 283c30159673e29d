import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';

const hasTmux = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v tmux']);
    return true;
  } catch {
    return false;
  }
})();
const socket = `meshdev-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
});

async function screenMatching(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = tmux('capture-pane', '-p', '-t', 'mesh');
    if (pattern.test(screen)) return screen;
    await sleep(200);
  }
  throw new Error(`screen never matched ${pattern}:\n${screen}`);
}

/** Every process under `root` (its pid included), with its command line. */
function processTree(root: number): Array<{ pid: number; args: string }> {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)!)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args! }));
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const row of table)
      if (tree.has(row.ppid) && !tree.has(row.pid)) grew = Boolean(tree.add(row.pid));
  }
  return table.filter((row) => tree.has(row.pid));
}

/**
 * A 120×36 tmux pane running `meshdev <command>` in `dir`, then printing its exit code and
 * idling (so the pane stays to be read). CI=true turns the dashboard off: unset here.
 */
function openPane(dir: string, command: string): void {
  tmux(
    'new-session',
    '-d',
    '-s',
    'mesh',
    '-x',
    '120',
    '-y',
    '36',
    `cd ${dir} && env -u CI NO_COLOR=1 ${process.execPath} ${BIN} ${command}; echo "EXIT=$?"; sleep 30`,
  );
}

/** A copy of the demo on free ports, in a temp directory. */
function demoCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-tty-'));
  const demo = readFileSync('mesh.config.yaml', 'utf8')
    .replace('port: 8080', 'port: 0')
    .replace('admin: { port: 15000 }', 'admin: { port: 0 }')
    .replace('ports: { from: 15100 }', 'ports: { from: 0 }');
  writeFileSync(path.join(dir, 'mesh.config.yaml'), demo);
  cpSync('specs', path.join(dir, 'specs'), { recursive: true });
  return dir;
}

describe.skipIf(!hasTmux)('the dashboard in a real terminal (tmux)', () => {
  it('shows the demo mesh live, adds a fault with four keys, and quits cleanly with q', async () => {
    const dir = demoCopy();
    openPane(dir, 'up');

    // The demo's first calls can time out while a loaded machine warms up (TLS handshakes,
    // JIT): wait for a served page with room to spare, not for the first seconds to be clean.
    const screen = await screenMatching(/load→frontend GET \/\s+200/, 30_000);
    expect(screen).toMatch(
      /meshdev · shop · up \dm\d\ds · [\d.]+ req\/s · err [\d.]+%? · mTLS strict · config ok/,
    );
    expect(screen).toContain('live calls');
    expect(screen).toContain('API usage');
    expect(screen).toMatch(/payments\s+v1,v2\s+sim\s+[\d.]+/);
    for (const line of screen.split('\n')) expect([...line].length).toBeLessThanOrEqual(120);
    // The dashboard renders in a process of its own, off the data plane's event loop.
    const pane = Number(tmux('display', '-p', '-t', 'mesh', '#{pane_pid}').trim());
    const running = processTree(pane).map((row) => row.args);
    expect(running.filter((args) => args.endsWith(`${BIN} up`))).toHaveLength(1);
    expect(running.filter((args) => args.endsWith(`${BIN} top --attached`))).toHaveLength(1);

    tmux('send-keys', '-t', 'mesh', 'Down', 'Down');
    await sleep(300);
    tmux('send-keys', '-t', 'mesh', 'f', 'a', '5', 'Enter');
    await screenMatching(/✎ added 50% abort on payments/);
    await screenMatching(/payments\s+v1,v2\s+sim\s+.*\s1\s+closed/);

    tmux('send-keys', '-t', 'mesh', 'q');
    const done = await screenMatching(/EXIT=\d+/, 10_000);
    expect(done).toContain('EXIT=0');
    // Only `sleep` is left in the pane: meshdev and everything it started are gone.
    const alive = processTree(pane).map((row) => row.args);
    expect(
      alive.every(
        (args) => /^(sh -c .*|sleep 30)$/.test(args) && !args.startsWith(process.execPath),
      ),
    ).toBe(true);
    expect(alive).toContain('sleep 30');
  }, 90_000);

  it('meshdev top attaches to a mesh already running, changes it, and leaves it running', async () => {
    const dir = demoCopy();
    const mesh = spawn(process.execPath, [BIN, 'up', '--no-ui', '--json', '--quiet'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const admin = await new Promise<number>((resolve, reject) => {
        let buffer = '';
        mesh.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const ready = buffer.split('\n').find((line) => line.includes('"event":"ready"'));
          if (ready) resolve((JSON.parse(ready) as { admin: number }).admin);
        });
        mesh.once('exit', (code) => reject(new Error(`meshdev up exited ${code}`)));
      });
      openPane(dir, 'top');
      const screen = await screenMatching(/load→frontend GET \/\s+200/, 30_000);
      expect(screen).toMatch(/meshdev · shop · up \dm\d\ds · [\d.]+ req\/s/);
      tmux('send-keys', '-t', 'mesh', 'Down', 'Down');
      await sleep(300);
      tmux('send-keys', '-t', 'mesh', 'f', 'a', '5', 'Enter');
      await screenMatching(/✎ added 50% abort on payments/);
      const token = readFileSync(path.join(dir, '.meshdev/admin-token'), 'utf8').trim();
      const state = (await (
        await fetch(`http://127.0.0.1:${admin}/v1/state`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { services: Array<{ name: string; faults: Array<{ source: string }> }> };
      expect(state.services.find((s) => s.name === 'payments')!.faults).toMatchObject([
        { source: 'runtime', abort: { status: 503, percent: 50 } },
      ]);
      tmux('send-keys', '-t', 'mesh', 'q');
      expect(await screenMatching(/EXIT=\d+/, 10_000)).toContain('EXIT=0');
      // The mesh was only watched: it still answers.
      expect((await fetch(`http://127.0.0.1:${admin}/v1/state`)).status).toBe(200);
      expect(mesh.exitCode).toBeNull();
    } finally {
      mesh.kill('SIGINT');
      await new Promise((resolve) =>
        mesh.exitCode !== null ? resolve(null) : mesh.once('exit', resolve),
      );
    }
  }, 90_000);
});
