import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const tempDir = () => mkdtempSync(path.join(tmpdir(), 'meshdev-cli-'));

describe('meshdev CLI', () => {
  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('--help lists the commands with examples', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['init', 'validate', 'schema']) expect(result.stdout).toContain(command);
    expect(result.stdout).toContain('Examples:');
  });

  it.each([
    'init',
    'validate',
    'schema',
    'up',
    'env',
    'certs',
    'certs rotate',
    'certs ca',
    'status',
    'calls',
    'fault',
    'fault add',
    'fault ls',
    'fault rm',
    'fault clear',
    'split',
    'reload',
    'logs',
  ])('%s --help shows an example', async (command) => {
    const result = await runCli([...command.split(' '), '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples?:\n {2}\$ (eval "\$\()?meshdev /);
  });

  it('an unknown command is a usage error (exit 2) with a suggestion', async () => {
    const result = await runCli(['valdate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Did you mean validate?');
  });

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await runCli(['validate', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--bogus'");
  });

  it('without a config file explains how to get one, exit 1, no stack', async () => {
    const result = await runCli(['validate'], { cwd: tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no mesh.config.yaml in .* or any parent directory/);
    expect(result.stderr).toContain('meshdev init');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('-c with a missing file names it', async () => {
    const result = await runCli(['validate', '-c', 'nope.yaml'], { cwd: tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nope.yaml  file not found');
  });

  it('init writes a starter that validates, then refuses to overwrite without --force', async () => {
    const dir = tempDir();
    const first = await runCli(['init'], { cwd: dir });
    expect(first.code).toBe(0);
    const text = readFileSync(path.join(dir, 'mesh.config.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(
      /^# yaml-language-server: \$schema=.*mesh\.config\.schema\.json$/,
    );
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toContain('.meshdev/');

    const validate = await runCli(['validate'], { cwd: dir });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/^mesh .+: 2 services, 3 instances, 3 routes, 1 fault — ok\n$/);
    expect(validate.stderr).toBe('using mesh.config.yaml\n');

    const again = await runCli(['init'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect((await runCli(['init', '--force'], { cwd: dir })).code).toBe(0);
  });

  it('validate finds the config in a parent directory and says which file it used', async () => {
    const dir = tempDir();
    copyFileSync('fixtures/configs/valid/minimal.yaml', path.join(dir, 'mesh.config.yaml'));
    const nested = path.join(dir, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    const result = await runCli(['validate'], { cwd: nested });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('mesh tiny: 1 service, 1 instance, 0 routes, 0 faults — ok\n');
    expect(result.stderr).toBe(`using ${path.join(dir, 'mesh.config.yaml')}\n`);
  });

  it('validate prints every error with the line and a caret, exit 1', async () => {
    const result = await runCli([
      'validate',
      '-c',
      'fixtures/configs/broken/32-five-mistakes.yaml',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'fixtures/configs/broken/32-five-mistakes.yaml:26:16  services.orders.retries.attemps: unknown key — did you mean "attempts"?\n' +
        '  26 |     retries: { attemps: 2, perTryTimeout: 1s, retryOn: [5xx, reset, connect-failure, 429] }\n' +
        '                      ^\n',
    );
    expect(result.stderr).toContain('5 errors in fixtures/configs/broken/32-five-mistakes.yaml');
  });

  it('validate --json prints [{file,line,column,path,message,hint}]', async () => {
    const result = await runCli([
      'validate',
      '--json',
      '-c',
      'fixtures/configs/broken/07-split-sum.yaml',
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        file: 'fixtures/configs/broken/07-split-sum.yaml',
        line: 36,
        column: 16,
        path: 'services.payments.routes[2].split',
        message: 'split weights sum to 90, not 100',
        hint: 'adjust the weights so they add up to 100',
      },
    ]);
  });

  it('interpolates ${VAR} and ${VAR:-default} from the environment', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'mesh.config.yaml'),
      'version: 1\nmesh: { name: "${MESH_NAME:-fallback}" }\nservices:\n  api:\n    port: ${API_PORT}\n',
    );
    const missing = await runCli(['validate'], { cwd: dir, env: { API_PORT: '' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'mesh.config.yaml:5:11  services.api.port: environment variable API_PORT is not set',
    );
    const set = await runCli(['validate'], {
      cwd: dir,
      env: { API_PORT: '4000', MESH_NAME: 'env' },
    });
    expect(set).toMatchObject({
      code: 0,
      stdout: 'mesh env: 1 service, 1 instance, 0 routes, 0 faults — ok\n',
    });
  });

  it('schema prints the same JSON Schema the repo ships', async () => {
    const result = await runCli(['schema']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { $schema: string };
    expect(printed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(printed).toEqual(JSON.parse(readFileSync('schema/mesh.config.schema.json', 'utf8')));
  });
});

describe('meshdev writing into a closed pipe', () => {
  it('stops quietly with exit 0, as Unix tools do (`meshdev schema | head -c 10`)', async () => {
    const { execFile } = await import('node:child_process');
    const { BIN } = await import('./helpers/cli.js');
    // The schema is ~70 KB, more than a pipe holds: meshdev writes after `head` has gone.
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        'bash',
        ['-c', `"${process.execPath}" "${BIN}" schema | head -c 10; echo " rc=\${PIPESTATUS[0]}"`],
        { encoding: 'utf8' },
        (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr })),
      ),
    );
    expect(result.stdout).toMatch(/ rc=0\n$/);
    expect(result.stderr).not.toContain('EPIPE');
  });
});
