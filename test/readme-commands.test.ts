/**
 * Every `meshdev` command the README shows runs on the bundled demo as written, in README
 * order, against a running mesh: it must succeed (or fail exactly as the README shows),
 * and where the README shows output, the real output must have the same shape (numbers
 * may differ). Long-running forms (`up`, `--follow`) are covered by their own tests.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { spawnCli } from './helpers/process.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

interface ReadmeCommand {
  line: number;
  command: string;
  /** Output the README shows for it: a trailing comment that quotes output, or `$ ` lines. */
  shown?: string;
}

/** The `meshdev …` lines of the README's shell blocks and `$ meshdev` samples. */
function readmeCommands(): ReadmeCommand[] {
  const lines = readFileSync('README.md', 'utf8').split('\n');
  const found: ReadmeCommand[] = [];
  let fence: string | undefined;
  lines.forEach((text, index) => {
    const open = /^```(\w*)/.exec(text);
    if (open) {
      fence = fence === undefined ? open[1] : undefined;
      return;
    }
    if (fence === undefined) return;
    const sample = /^\$ (meshdev .*)$/.exec(text);
    if (sample) {
      const output: string[] = [];
      for (let i = index + 1; i < lines.length && !/^(```|\$ )/.test(lines[i]!); i++)
        output.push(lines[i]!);
      found.push({ line: index + 1, command: sample[1]!, shown: output.join('\n') });
      return;
    }
    if (fence !== 'sh' || !text.startsWith('meshdev ')) return;
    const comment = /\s+#\s(.*)$/.exec(text);
    const command = comment ? text.slice(0, comment.index) : text;
    // A comment that starts like meshdev output ("mesh <name>: …") quotes it.
    const shown = comment && /^mesh \w+: /.test(comment[1]!) ? comment[1] : undefined;
    found.push({ line: index + 1, command: command.trim(), shown });
  });
  return found;
}

function run(command: string, cwd: string): Promise<{ code: number | null; output: string }> {
  const shell = command.replace(
    /^meshdev/,
    `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`,
  );
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', shell], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Same shape: digits, hex ids, times and host ports may differ; the words may not. */
function shape(text: string): string {
  return text
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the README', () => {
  it('every meshdev command it shows runs on the demo as shown', async () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThan(20);
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-readme-'));
    // The demo as shipped, on ports the OS picks (tests run in parallel).
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      readFileSync('mesh.config.yaml', 'utf8')
        .replace('admin: { port: 15000 }', 'admin: { port: 0 }')
        .replace('ports: { from: 15100 }', 'ports: { from: 0 }')
        .replace(/^ {2}port: 8080$/m, '  port: 0'),
    );
    cpSync('specs', path.join(dir, 'specs'), { recursive: true });
    const up = scope.running(spawnCli(['up', '--no-ui', '--no-load', '--json'], { cwd: dir }));
    await up.waitForLine(/"event":"ready"/, 30_000);

    const ran: string[] = [];
    for (const { line, command, shown } of commands) {
      if (/^meshdev up\b/.test(command) || command.includes('--follow')) continue;
      const cwd = command.startsWith('meshdev init')
        ? mkdtempSync(path.join(tmpdir(), 'meshdev-readme-init-'))
        : dir;
      const result = await run(command, cwd);
      const where = `README.md:${line} ${command}\n${result.output}`;
      if (shown?.startsWith('error:')) {
        expect(result.code, where).toBe(1);
        expect(shape(result.output), where).toContain(shape(shown));
      } else {
        expect(result.code, where).toBe(0);
        // A one-line sample in a comment is deterministic (`mesh shop: 4 services, …`): exact.
        if (shown) expect(result.output, where).toContain(shown);
      }
      ran.push(command);
    }
    expect(ran).toContain('meshdev validate');
    expect(ran).toContain('meshdev status');
  }, 240_000);
});
