/**
 * `meshdev route add|ls|rm|clear`: runtime routes, overlays matched before the file's
 * routes — Istio's request routing changed live (`route add reviews --header
 * end-user=jason --to v2`), like `split` changes weights.
 */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { collect, matchFrom, MATCH_OPTIONS } from '../cli/match-options.js';
import { UserError } from '../cli/user-error.js';
import type { RuntimeRoute, ServiceState } from '../dataplane/runtime.js';
import { describeMatch } from '../dataplane/faults/describe.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `route` on the program. */
export function registerRoute(program: Command): void {
  const route = program
    .command('route')
    .description(summaryOf('route'))
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev route add reviews --header end-user=jason --to v2\n  $ meshdev route ls\n',
    );
  route
    .command('add <service>')
    .description('route matching calls to one version, or split them, now (a runtime overlay)')
    .option(...configOption)
    .option('--to <version>', 'send matching calls to this version')
    .option('--split <weights>', 'or split them: v1=50,v2=50 (sums to 100)')
    .option(
      '--timeout <duration>',
      "whole-call timeout on this route, e.g. 500ms (over the service's)",
    )
    .option('--mirror <version>', 'also send a copy of each matching call to this version')
    .option('--mirror-percent <percent>', 'copy only this share of the calls (default 100)')
    .option('--path <path>', MATCH_OPTIONS.path)
    .option('--method <method>', MATCH_OPTIONS.method)
    .option('--header <match>', MATCH_OPTIONS.header, collect, [] as string[])
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev route add reviews --header end-user=jason --to v2\n  $ meshdev route add reviews --path /api/* --split v1=80,v2=20\n  $ meshdev route add reviews --to v1 --mirror v2 --mirror-percent 10\n',
    )
    .action(async (service: string, options: Record<string, string | string[] | undefined>) => {
      if ((options.to === undefined) === (options.split === undefined)) {
        throw new UserError('say where matching calls go', 'use --to v2 or --split v1=50,v2=50', 2);
      }
      const body: Record<string, unknown> = { service };
      if (options.to !== undefined) body.to = options.to;
      if (options.split !== undefined) body.split = splitWeights(String(options.split));
      if (options.timeout !== undefined) body.timeout = options.timeout;
      if (options.mirror !== undefined) {
        const percent = options.mirrorPercent === undefined ? 100 : Number(options.mirrorPercent);
        if (!Number.isFinite(percent))
          throw new UserError(
            `--mirror-percent ${String(options.mirrorPercent)} is not a number`,
            'e.g. --mirror-percent 10',
            2,
          );
        body.mirror = { to: options.mirror, percent };
      }
      const match = matchFrom(options);
      if (match) body.match = match;
      const added = await AdminClient.connect(
        options.config as string | undefined,
      ).call<RuntimeRoute>('POST', '/v1/routes', body);
      process.stdout.write(`added route ${added.id} on ${service}: ${describeRoute(added)}\n`);
    });
  route
    .command('ls')
    .description('list the runtime routes in force, in match order')
    .option(...configOption)
    .addHelpText('after', '\nExample:\n  $ meshdev route ls\n')
    .action(async (options: { config?: string }) => {
      const state = await AdminClient.connect(options.config).call<{ services: ServiceState[] }>(
        'GET',
        '/v1/state',
      );
      const routes = state.services.flatMap((service) =>
        service.routes.map((r) => ({ service: service.name, ...r })),
      );
      if (routes.length === 0) return void process.stdout.write('no runtime routes\n');
      for (const r of routes) process.stdout.write(`${r.id}  ${r.service}  ${describeRoute(r)}\n`);
    });
  route
    .command('rm <id>')
    .description('remove one runtime route')
    .option(...configOption)
    .addHelpText('after', '\nExample:\n  $ meshdev route rm rr-1\n')
    .action(async (id: string, options: { config?: string }) => {
      await AdminClient.connect(options.config).call(
        'DELETE',
        `/v1/routes/${encodeURIComponent(id)}`,
      );
      process.stdout.write(`removed ${id}\n`);
    });
  route
    .command('clear')
    .description('remove every runtime route (the file’s routes stay)')
    .option(...configOption)
    .option('--service <name>', 'only this service')
    .addHelpText('after', '\nExample:\n  $ meshdev route clear --service reviews\n')
    .action(async (options: { config?: string; service?: string }) => {
      const { removed } = await AdminClient.connect(options.config).call<{ removed: number }>(
        'DELETE',
        `/v1/routes${options.service ? `?service=${encodeURIComponent(options.service)}` : ''}`,
      );
      process.stdout.write(`removed ${removed} runtime route${removed === 1 ? '' : 's'}\n`);
    });
}

/** `v1=50,v2=50` as weights. */
function splitWeights(text: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [version, weight] = part.split('=');
    if (!version || weight === undefined || !Number.isFinite(Number(weight))) {
      throw new UserError(
        `--split: "${part}" is not version=weight`,
        'e.g. --split v1=50,v2=50',
        2,
      );
    }
    weights[version.trim()] = Number(weight);
  }
  return weights;
}

/** `end-user=jason → v2`, `/api/* → v1 80% v2 20%`. */
export function describeRoute(
  route: Pick<RuntimeRoute, 'match' | 'to' | 'split' | 'timeoutMs' | 'mirror'>,
): string {
  const condition = route.match ? describeMatch(route.match) : 'every call';
  const where = route.to
    ? route.to
    : (route.split ?? []).map((entry) => `${entry.version} ${entry.weight}%`).join(' ');
  const timeout = route.timeoutMs === undefined ? '' : `, timeout ${route.timeoutMs}ms`;
  const mirror = route.mirror ? `, mirror ${route.mirror.to} ${route.mirror.percent}%` : '';
  return `${condition} → ${where}${timeout}${mirror}`;
}
