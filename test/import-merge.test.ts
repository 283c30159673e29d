/** `meshdev import … --merge`: the diff first, written on --yes, comments and dev servers kept. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/cli.js';
import { testScope } from './helpers/scope.js';

const scope = testScope();

const EXISTING = `# Our shop, by hand.
version: 1
mesh: { name: shop }
services:
  productpage:
    command: node productpage.js # the real dev server
    port: 9080
    upstreams: [reviews]
  reviews:
    versions:
      v1: { command: node reviews.js, port: 9081 } # the one we work on
    timeout: 2s
  db:
    port: 5432
`;

const ISTIO = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v1 }, { name: v2 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - route: [{ destination: { host: reviews, subset: v1 } }]
      timeout: 3s
`;

function setup(): { project: string; istio: string } {
  const project = scope.project(EXISTING);
  const istio = path.join(mkdtempSync(path.join(tmpdir(), 'meshdev-istio-')), 'reviews.yaml');
  writeFileSync(istio, ISTIO);
  return { project, istio };
}

/**
 * Runs the merge in a real terminal (`script` gives it a pty), answers the prompt once it
 * is shown, and returns what the terminal showed.
 */
function mergeInTerminal(project: string, istio: string, answer: string): Promise<string> {
  const command = `${process.execPath} ${BIN} import istio ${istio} --merge`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: project,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let shown = '';
  let answered = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no prompt within 15 s:\n${shown}`));
    }, 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
      if (shown.includes('[y/N]') && !answered) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(shown);
    });
  });
}

describe('meshdev import --merge', () => {
  it('asks in a terminal: no keeps the file, yes writes it', async () => {
    const { project, istio } = setup();
    const declined = await mergeInTerminal(project, istio, 'n');
    expect(declined).toMatch(/\+\s+routes:/);
    expect(declined).toMatch(/mesh\.config\.yaml not changed/);
    expect(readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8')).toBe(EXISTING);
    const accepted = await mergeInTerminal(project, istio, 'y');
    expect(accepted).toMatch(/merged into mesh\.config\.yaml/);
    expect(readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8')).toMatch(/end-user: jason/);
  });

  it('shows the diff and writes nothing without a yes; --dry-run only shows it', async () => {
    const { project, istio } = setup();
    const refused = await runCli(['import', 'istio', istio, '--merge'], { cwd: project });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^--- mesh\.config\.yaml/m);
    expect(refused.stdout).toMatch(/^\+\s+routes:/m);
    expect(refused.stderr).toMatch(
      /not changed: there is no terminal to confirm the merge[\s\S]*--yes/,
    );
    expect(readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8')).toBe(EXISTING);

    const dry = await runCli(['import', 'istio', istio, '--merge', '--dry-run'], { cwd: project });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(refused.stdout);
    expect(readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8')).toBe(EXISTING);
  });

  it('with --yes merges routes and new versions in, keeping comments, dev servers and other services', async () => {
    const { project, istio } = setup();
    const merged = await runCli(['import', 'istio', istio, '--merge', '--yes'], { cwd: project });
    expect(merged.code).toBe(0);
    expect(merged.stderr).toMatch(/merged into mesh\.config\.yaml/);
    const text = readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8');
    expect(text).toContain('# Our shop, by hand.');
    expect(text).toContain('v1: { command: node reviews.js, port: 9081 } # the one we work on');
    expect(text).toContain('command: node productpage.js # the real dev server');
    expect(text).toMatch(/db:\n\s+port: 5432/);
    expect(text).toMatch(
      /# placeholder: your dev server[^\n]*\n\s+sim: \{ routes: \[ \{ path: \/\*, body: \{ service: reviews, version: v2/,
    );
    expect(text).toMatch(/- \{ match: \{ headers: \{ end-user: jason \} \}, to: v2 \}/);
    // Imported routes bring their whole policy: Istio's 3 s on one route, none on the other.
    expect(text).toMatch(/- \{ to: v1, timeout: 3s \}/);
    expect(text).not.toMatch(/timeout: 2s/);
    const validate = await runCli(['validate'], { cwd: project });
    expect(validate.code).toBe(0);

    const again = await runCli(['import', 'istio', istio, '--merge', '--yes'], { cwd: project });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already holds everything imported; nothing to do/);
    expect(readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8')).toBe(text);
  });

  it('keeps a public route public and reuses a plan of the same limits when a decK file is merged in', async () => {
    const project = scope.project(`version: 1
mesh: { name: shop }
gateway:
  port: 8080
  auth: { require: apiKey }
  routes:
    - { path: /status, service: web, auth: { require: none } }
    - { path: /, service: web }
consumers:
  bob: { plan: gold, keys: [dev-bob-key-1] }
plans:
  gold: { rateLimit: { requests: 1000, per: 1s } } # the paying ones
services:
  web: { port: 3000, upstreams: [] }
`);
    const kong = path.join(mkdtempSync(path.join(tmpdir(), 'meshdev-kong-')), 'kong.yaml');
    writeFileSync(
      kong,
      `_format_version: "3.0"
services:
  - name: web
    url: http://localhost:3000
    routes:
      - { name: status, paths: [/status], strip_path: false, preserve_host: true }
      - { name: admin, paths: [/admin], strip_path: false, preserve_host: true, plugins: [{ name: key-auth, config: { key_names: [x-api-key] } }] }
consumers:
  - username: carol
    keyauth_credentials: [{ key: dev-carol-key-1 }]
    plugins: [{ name: rate-limiting, config: { second: 1000 } }]
`,
    );
    const merged = await runCli(['import', 'kong', kong, '--merge', '--yes'], { cwd: project });
    expect(merged.code).toBe(0);
    const text = readFileSync(path.join(project, 'mesh.config.yaml'), 'utf8');
    // /status stays open (Kong's has no auth plugin); /admin needs a key, as the file's default says.
    expect(text).toContain('- { path: /status, service: web, auth: { require: none } }');
    expect(text).toContain('- { path: /admin, service: web }');
    // carol's limits are gold's: no new plan, and the file's comment stays.
    expect(text).toMatch(/carol:\n\s+plan: gold/);
    expect(text).toContain('gold: { rateLimit: { requests: 1000, per: 1s } } # the paying ones');
    expect(text).not.toMatch(/per-1s:/);
    expect(
      (await runCli(['validate'], { cwd: project, env: { CAROL_KEY: 'dev-carol-key-1' } })).code,
    ).toBe(0);
  });
});
