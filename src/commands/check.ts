/**
 * `meshdev check`: runs the mesh headless, runs the config's `checks:` scenarios, stops
 * everything, writes the reports and exits 0 (all passed), 1 (a check failed, or the
 * mesh could not get healthy) or 2 (config, spec or usage error) — Schemathesis's
 * convention. Seeded (`--seed`, else `mesh.seed`, else 1), so a run is reproducible.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { loadConfigFor, relative } from '../cli/config-option.js';
import { formatIssues } from '../cli/format-issues.js';
import { EXIT, UserError } from '../cli/user-error.js';
import type { MeshConfig } from '../config/model.js';
import { deepFreeze } from '../config/normalize.js';
import { parseDuration } from '../config/units.js';
import { summaryOf } from '../cli/command-index.js';

interface CheckOptions {
  config?: string;
  only?: string;
  json?: string;
  junit?: string;
  seed?: string;
  freePorts?: boolean;
  startupTimeout: string;
  color: boolean;
}

/** Registers `check` on the program. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(summaryOf('check'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--only <names>', 'run only these checks (comma-separated names)')
    .option('--junit <file>', 'write a JUnit XML report (GitLab, GitHub test reporters)')
    .option('--json <file>', 'write a JSON report')
    .option(
      '--seed <n>',
      'seed for faults, splits and simulated services (default: mesh.seed, else 1)',
    )
    .option(
      '--free-ports',
      "listen on ports the OS picks instead of the config's (parallel CI jobs)",
    )
    .option('--startup-timeout <duration>', 'how long commands may take to become healthy', '60s')
    .option('--no-color', 'no colours in the summary')
    .addHelpText('after', '\nExample:\n  $ meshdev check --junit report.xml --json report.json\n')
    .action((options: CheckOptions) => check(options));
}

async function check(options: CheckOptions): Promise<void> {
  let config: MeshConfig;
  try {
    config = await loadConfigFor(options.config);
  } catch (error) {
    return configFailure(error);
  }
  const seed = options.seed === undefined ? (config.mesh.seed ?? 1) : Number(options.seed);
  if (!Number.isInteger(seed))
    throw new UserError(`--seed: "${options.seed}" is not a whole number`, undefined, EXIT.usage);
  const startupMs = parseDuration(options.startupTimeout);
  if (startupMs === undefined) {
    throw new UserError(
      `--startup-timeout: "${options.startupTimeout}" is not a duration`,
      'e.g. 60s or 2m',
      EXIT.usage,
    );
  }
  config = deepFreeze({ ...config, mesh: { ...config.mesh, seed } });
  const checks = selectChecks(config, options.only);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const [{ MeshController }, { ContractLedger }, { runScenario }, report, { ListenError }] =
    await Promise.all([
      import('../controlplane/controller.js'),
      import('../telemetry/contract-ledger.js'),
      import('../check/scenario.js'),
      import('../check/report.js'),
      import('../dataplane/listener.js'),
    ]);
  let controller;
  try {
    controller = await MeshController.start(config, {
      watch: false,
      headless: true,
      ephemeralPorts: options.freePorts,
      formatError: (error) => formatIssues(error.issues),
    });
  } catch (error) {
    if (error instanceof ListenError) {
      throw new UserError(
        error.message,
        'stop whatever uses it, or run with --free-ports',
        EXIT.usage,
      );
    }
    return configFailure(error);
  }
  // Every validator compiled before the first check: no call's latency pays for one.
  controller.mesh.runtime.contracts.compileAll();
  const overall = new ContractLedger(() => controller.mesh.runtime.contracts).attach(
    controller.bus,
  );
  try {
    log(
      `meshdev check: ${checks.length} check${checks.length === 1 ? '' : 's'}, seed ${seed}, contracts ${config.mesh.contracts}`,
    );
    const unhealthy = await waitHealthy(controller, startupMs);
    if (unhealthy) {
      process.stderr.write(`error: ${unhealthy}\n`);
      process.exitCode = EXIT.userError;
      return;
    }
    const results = [];
    for (const spec of checks) {
      log(`▶ ${spec.name}`);
      const result = await runScenario(
        {
          config,
          runtime: controller.mesh.runtime,
          bus: controller.bus,
          ledger: controller.contracts,
          gatewayPort: controller.mesh.gatewayPort(),
          loadToken: controller.mesh.loadToken,
          log,
        },
        spec,
      );
      log(`${result.passed ? '✓' : '✗'} ${spec.name} (${result.calls.length} calls)`);
      results.push(result);
    }
    const run = { config: config.file, seed, results, coverage: overall.coverage() };
    if (options.json)
      writeFileSync(options.json, `${JSON.stringify(report.jsonReport(run), null, 2)}\n`);
    if (options.junit) writeFileSync(options.junit, report.junitReport(run));
    const color = options.color && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(`${paint(report.textReport(run), color)}\n`);
    for (const file of [options.junit, options.json]) if (file) log(`wrote ${relative(file)}`);
    process.exitCode = report.passed(run) ? EXIT.ok : EXIT.userError;
  } finally {
    overall.detach();
    await controller.stop();
  }
}

function configFailure(error: unknown): void {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${formatIssues(error.issues)}\n`);
  process.exitCode = EXIT.usage;
}

function selectChecks(config: MeshConfig, only: string | undefined): MeshConfig['checks'] {
  if (config.checks.length === 0) {
    throw new UserError(
      `${relative(config.file)} has no checks:`,
      'add a checks: section (see the README, "Contracts in CI")',
      EXIT.usage,
    );
  }
  if (!only) return config.checks;
  const names = only
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!config.checks.some((c) => c.name === name)) {
      throw new UserError(
        `--only: no check "${name}"`,
        `checks: ${config.checks.map((c) => c.name).join(', ')}`,
        EXIT.usage,
      );
    }
  }
  return config.checks.filter((c) => names.includes(c.name));
}

/** Waits until every supervised command is up; returns why not, if one never gets there. */
async function waitHealthy(
  controller: { describe(): Record<string, unknown> },
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const processes = controller.describe().processes as Array<{
      instance: string;
      state: string;
      lastLines: string[];
    }>;
    const broken = processes.find((p) => p.state === 'crash-loop' || p.state === 'blocked');
    if (broken) return `${broken.instance} is ${broken.state}:\n${broken.lastLines.join('\n')}`;
    const waiting = processes.filter((p) => p.state !== 'up');
    if (waiting.length === 0) return undefined;
    if (Date.now() > deadline) {
      return `not healthy after ${timeoutMs}ms: ${waiting.map((p) => `${p.instance} (${p.state})`).join(', ')}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function paint(text: string, color: boolean): string {
  if (!color) return text;
  return text
    .replace(/^(PASS)/gm, '\u001b[32m$1\u001b[39m')
    .replace(/^(FAIL)/gm, '\u001b[31m$1\u001b[39m')
    .replace(/^( {2}✗)/gm, '\u001b[31m$1\u001b[39m');
}
