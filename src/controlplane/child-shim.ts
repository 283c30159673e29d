/**
 * Runs one supervised command for meshdev. meshdev starts this shim as the leader of a
 * new process group, so one signal to the group stops the command and all its children
 * (`npm run dev` and the node it starts). If meshdev dies — even by SIGKILL — the pipe on
 * our stdin closes, and the shim takes the whole group down: no orphans.
 */
import { spawn } from 'node:child_process';

const GRACE_MS = 5_000;
const command = process.argv[2];
if (!command) {
  process.stderr.write('usage: child-shim <command>\n');
  process.exit(2);
}

const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

/** Stops the whole group: SIGTERM now, SIGKILL after the grace period. */
function stopGroup(): void {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-process.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  setTimeout(() => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(1);
    }
  }, GRACE_MS).unref();
}

// meshdev gone: its end of our stdin closed.
process.stdin.on('end', stopGroup);
process.stdin.on('close', stopGroup);
process.stdin.resume();
// The group SIGTERM reaches us too: wait for the command, then leave with its status.
process.on('SIGTERM', stopGroup);
process.on('SIGINT', stopGroup);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
