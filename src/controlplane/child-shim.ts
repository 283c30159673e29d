/**
 * Runs one supervised command for meshdev and guarantees that nothing it started outlives
 * it. The command runs as the leader of its own process group; the shim stays outside
 * that group, so it can signal the group and see when it is empty. The group is stopped —
 * SIGTERM, then SIGKILL after the grace period, then waited for — when:
 * - meshdev asks (SIGTERM/SIGINT to the shim);
 * - meshdev dies, even by SIGKILL: the pipe on the shim's stdin closes;
 * - the command exits and left background children behind (they would hold its port).
 * The shim exits with the command's status once the group is gone. It tells meshdev the
 * group id on fd 3, so meshdev can SIGKILL the group itself as a last resort.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createWriteStream } from 'node:fs';

const command = process.argv[2];
const graceMs = Number(process.argv[3] ?? 5_000);
if (!command) {
  process.stderr.write('usage: child-shim <command> [grace-ms]\n');
  process.exit(2);
}

const child = spawn('sh', ['-c', command], {
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});
const group = child.pid!;
try {
  createWriteStream('', { fd: 3 }).end(`${group}\n`);
} catch {
  // Started by hand, without meshdev's fd 3.
}

let exitStatus: number | undefined;
let stopping: Promise<void> | undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether any process of the command's group is still there. */
function groupAlive(): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM, up to `graceMs` to leave, SIGKILL, then a bounded wait for the group to go. */
function stopGroup(): Promise<void> {
  stopping ??= (async () => {
    signalGroup('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive() && Date.now() < deadline) await sleep(50);
    if (!groupAlive()) return;
    signalGroup('SIGKILL');
    // Bounded: a zombie nobody reaps still counts as a member of the group.
    for (let i = 0; i < 40 && groupAlive(); i++) await sleep(50);
  })();
  return stopping;
}

function finish(): void {
  if (exitStatus === undefined) return;
  void stopGroup().then(() => process.exit(exitStatus));
}

// meshdev gone: its end of our stdin closed.
process.stdin.on('end', () => void stopGroup().then(finish));
process.stdin.on('close', () => void stopGroup().then(finish));
process.stdin.resume();
process.on('SIGTERM', () => void stopGroup().then(finish));
process.on('SIGINT', () => void stopGroup().then(finish));
child.on('exit', (code, signal) => {
  exitStatus = code ?? (signal ? 128 + (constants.signals[signal] ?? 15) : 1);
  // Background children the command left would hold its port: the group goes with it.
  finish();
});
