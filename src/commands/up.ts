/**
 * `meshdev up`: start the mesh and show what flows through it. Headless (until the
 * dashboard lands): a table of listeners, then one access-log line (or JSON object) per
 * call. SIGINT/SIGTERM stop gracefully; a second signal exits at once.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { AttachMessage } from './top.js';
import { instanceLabel } from '../config/model.js';
import { summarize } from '../config/summary.js';
import { loadConfigFor, relative } from '../cli/config-option.js';
import { actAsHeaders } from '../edge/act-as.js';
import { UserError } from '../cli/user-error.js';
import type { ListenerInfo } from '../dataplane/listener.js';
import type { MeshController } from '../controlplane/controller.js';
import { SHUTDOWN_GRACE_MS } from '../dataplane/shutdown-grace.js';
import { formatIssues } from '../cli/format-issues.js';
import { formatCallJson, formatCallLine } from '../telemetry/access-log.js';
import { parseDuration } from '../config/units.js';
import { formatStatsJson, formatStatsTable } from '../telemetry/stats-table.js';
import { summaryOf } from '../cli/command-index.js';

interface UpOptions {
  config?: string;
  ui: boolean;
  json?: boolean;
  quiet?: boolean;
  load: boolean;
  summaryInterval: string;
  only?: string;
}

/** Registers `up` on the program. */
export function registerUp(program: Command): void {
  program
    .command('up')
    .description(summaryOf('up'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--no-ui', 'no dashboard: print one line per call (the default when not a TTY)')
    .option('--json', 'print a ready event, then one JSON object per call')
    .option('--quiet', 'print the listeners and changes, not the calls or the stats tables')
    .option(
      '--only <services>',
      "start only these services' commands (comma-separated); the others are still routed",
    )
    .option('--no-load', 'do not start the load generators of the config')
    .option(
      '--summary-interval <duration>',
      'how often to print the stats table (0 = never)',
      '10s',
    )
    .addHelpText('after', '\nExample:\n  $ meshdev up --json | jq .status\n')
    .action((options: UpOptions) => up(options));
}

async function up(options: UpOptions): Promise<void> {
  const config = await loadConfigFor(options.config, options.json);
  const interval = options.summaryInterval === '0' ? 0 : parseDuration(options.summaryInterval);
  if (interval === undefined) {
    throw new UserError(
      `--summary-interval: "${options.summaryInterval}" is not a duration`,
      'e.g. 10s, 1m, or 0 to turn it off',
      2,
    );
  }
  const dashboard =
    options.ui &&
    Boolean(process.stdout.isTTY) &&
    Boolean(process.stdin.isTTY) && // the dashboard reads keys: a terminal on both sides
    process.env.CI !== 'true' &&
    !options.json;
  // The dashboard is a process of its own (`meshdev top --attached`), a client of the admin
  // API: rendering never shares the data plane's event loop (#14). It starts now, so Ink
  // loads while the mesh starts.
  const ui = dashboard ? startDashboardProcess() : undefined;
  // The mesh itself loads only when `up` runs: `meshdev --help` does not pay for it.
  const [{ MeshController }, { ListenError }] = await Promise.all([
    import('../controlplane/controller.js'),
    import('../dataplane/listener.js'),
  ]);
  let controller: MeshController;
  try {
    const only = options.only
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    for (const name of only ?? []) {
      if (!config.services.some((service) => service.name === name)) {
        throw new UserError(
          `--only: no service "${name}"`,
          `services: ${config.services.map((service) => service.name).join(', ')}`,
          2,
        );
      }
    }
    controller = await MeshController.start(config, {
      only,
      formatError: (error) => formatIssues(error.issues),
    });
  } catch (error) {
    await ui?.stop();
    if (error instanceof ListenError) {
      throw new UserError(
        error.message,
        error.code === 'EADDRINUSE'
          ? 'stop whatever uses it (lsof -i :PORT), or change the port in the config'
          : undefined,
      );
    }
    throw error;
  }
  const { bus } = controller;
  const out = process.stdout;
  const announce = () => {
    const listeners = controller.mesh.listenerInfo();
    if (options.json) {
      out.write(
        `${JSON.stringify({ event: 'ready', mesh: config.mesh.name, admin: controller.adminPort, listeners: listeners.map(publicInfo) })}\n`,
      );
    } else {
      out.write(
        `${summarize(controller.mesh.runtime.current)} — up (${relative(config.file)}, admin 127.0.0.1:${controller.adminPort})\n${listenerTable(listeners)}\n`,
      );
    }
  };
  if (!dashboard) announce();
  // Specs unchanged since they last compiled left their validators for now: off the start.
  controller.mesh.runtime.contracts.warm();
  const color = Boolean(out.isTTY) && !process.env.NO_COLOR;
  if (!options.quiet && !dashboard) {
    bus.on('call', (call) => {
      out.write(`${options.json ? formatCallJson(call) : formatCallLine(call, { color })}\n`);
    });
  }
  if (!dashboard) attachLog(bus, options, announce);
  const { stats } = controller;
  const summary =
    interval > 0 && !dashboard && !options.quiet
      ? setInterval(() => {
          const snapshot = stats.snapshot();
          out.write(`${options.json ? formatStatsJson(snapshot) : formatStatsTable(snapshot)}\n`);
        }, interval)
      : undefined;
  // The load generator (and undici's request API with it) loads once the mesh is up.
  const wantsLoad = options.load && config.gateway && config.load.length > 0;
  const { startLoad } = wantsLoad ? await import('../sim/load.js') : { startLoad: undefined };
  const loads =
    wantsLoad && startLoad
      ? config.load.map((spec) =>
          startLoad(
            { ...spec, headers: { ...actAsHeaders(config, spec.as), ...spec.headers } },
            {
              target: `http://127.0.0.1:${controller.mesh.gatewayPort()}`,
              token: controller.mesh.loadToken,
            },
          ),
        )
      : [];
  const stopAll = async () => {
    clearInterval(summary);
    await Promise.all(loads.map((load) => load.stop()));
    await controller.stop();
  };
  if (ui) {
    ui.attach(`http://127.0.0.1:${controller.adminPort}`, controller.adminToken);
    // Quitting the dashboard (q, Ctrl-C in its raw-mode terminal) stops the mesh.
    void ui.exited.then(() => process.kill(process.pid, 'SIGTERM'));
    await untilSignal(async () => {
      await ui.stop();
      await stopAll();
    }, true);
    return;
  }
  await untilSignal(stopAll, Boolean(options.json));
}

/** The headless log: warnings, config reloads and process states. */
function attachLog(bus: MeshController['bus'], options: UpOptions, announce: () => void): void {
  const out = process.stdout;
  bus.on('warning', (warning) =>
    process.stderr.write(`warning: ${warning.listener}: ${warning.message}\n`),
  );
  bus.on('process', (event) => {
    if (options.json) return void out.write(`${JSON.stringify({ event: 'process', ...event })}\n`);
    const line = `${new Date().toTimeString().slice(0, 8)} ${event.instance} ${event.state}: ${event.message}\n`;
    (event.state === 'crashed' || event.state === 'crash-loop' ? process.stderr : out).write(line);
  });
  bus.on('config', (status) => {
    if (options.json) return void out.write(`${JSON.stringify({ event: 'config', ...status })}\n`);
    const time = new Date(status.at).toTimeString().slice(0, 8);
    if (status.status === 'invalid') {
      process.stderr.write(
        `${time} config invalid — still serving the previous one:\n${status.message}\n`,
      );
    } else {
      out.write(`${time} config reloaded (${status.message})\n`);
      if (status.message.startsWith('listeners changed')) announce();
    }
  });
}

/** The dashboard process of `up`: told the admin API once the mesh is up, stopped with it. */
function startDashboardProcess() {
  const bin = fileURLToPath(new URL('../../bin/meshdev.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'top', '--attached'], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
  const send = (message: AttachMessage) => {
    if (child.connected) child.send(message);
  };
  return {
    exited,
    attach: (base: string, token: string) => send({ type: 'admin', base, token }),
    /** Asks the dashboard to leave the terminal as it was, and waits (up to 3 s). */
    async stop() {
      send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGTERM'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for SIGINT/SIGTERM, then stops gracefully; a second signal exits at once. */
function untilSignal(stop: () => Promise<void>, quietStop: boolean): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      if (!quietStop)
        process.stderr.write(
          `${signal}: finishing calls in flight (up to ${SHUTDOWN_GRACE_MS / 1000}s)…\n`,
        );
      void stop().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function publicInfo(info: ListenerInfo) {
  return {
    kind: info.kind,
    service: info.service ?? null,
    version: info.version ?? null,
    caller: info.caller ?? null,
    port: info.port,
    ...(info.kind === 'gateway' ? { scheme: info.security === 'tls' ? 'https' : 'http' } : {}),
  };
}

function listenerTable(listeners: ListenerInfo[]): string {
  const rows = listeners.map((l) => [
    l.kind,
    l.kind === 'outbound'
      ? `${l.caller} → ${l.service}`
      : l.kind === 'gateway'
        ? 'clients → gateway'
        : instanceLabel(l.service!, l.version),
    l.kind === 'gateway'
      ? `${l.security === 'tls' ? 'https' : 'http'}://127.0.0.1:${l.port}`
      : `127.0.0.1:${l.port}`,
    l.kind === 'inbound'
      ? l.target === undefined
        ? '(simulated)'
        : `→ 127.0.0.1:${l.target}`
      : '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      `  ${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd(),
    )
    .join('\n');
}
