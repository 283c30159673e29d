/**
 * `meshdev import istio FILE|DIR…` and `meshdev import kong kong.yaml`: another mesh's
 * config as `mesh.config.yaml` — a new file, or merged into the one there is with
 * `--merge` (the diff shown first, written on a yes). What cannot be carried over is a
 * warning at its file:line; services whose dev server is unknown get simulated
 * placeholders so the imported mesh comes `up` at once.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { relative } from '../cli/config-option.js';
import { reportLossy } from '../cli/lossy-report.js';
import { EXIT, UserError } from '../cli/user-error.js';
import { CONFIG_FILE_NAME } from '../config/discover.js';
import { summaryOf } from '../cli/command-index.js';

/** Systems meshdev imports from. */
const SOURCES = ['istio', 'kong'] as const;

interface ImportCommandOptions {
  out: string;
  merge?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  force?: boolean;
  name?: string;
  strict?: boolean;
}

/** Registers `import` on the program. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description(summaryOf('import'))
    .argument('<from>', `what the files are: ${SOURCES.join(', ')}`)
    .argument('<files...>', 'files or directories (YAML or JSON; multi-document, kubectl lists)')
    .option('-o, --out <file>', 'the config to write (- for stdout)', CONFIG_FILE_NAME)
    .option('--merge', 'merge into the existing config: show the diff, then write on a yes')
    .option('-y, --yes', 'with --merge: write without asking')
    .option('--dry-run', 'with --merge: show the diff, write nothing')
    .option('--force', 'overwrite an existing config instead of merging')
    .option('--name <name>', 'mesh.name of a new config (default: the directory name)')
    .option('--strict', 'exit 1 when anything could not be carried over')
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev import istio k8s/istio/\n  $ kubectl get vs,dr,authorizationpolicy -o yaml | meshdev import istio - --out -\n  $ meshdev import kong kong.yaml --merge\n',
    )
    .action((from: string, files: string[], options: ImportCommandOptions) =>
      importConfig(from, files, options),
    );
}

async function importConfig(
  from: string,
  files: string[],
  options: ImportCommandOptions,
): Promise<void> {
  if (!(SOURCES as readonly string[]).includes(from))
    throw new UserError(
      `meshdev cannot import from "${from}"`,
      `import from: ${SOURCES.join(', ')}`,
      EXIT.usage,
    );
  const out = options.out;
  const target = out === '-' ? undefined : path.resolve(out);
  if (target && existsSync(target) && !options.merge && !options.force)
    throw new UserError(
      `${relative(target)} already exists`,
      'pass --merge to merge the import into it (the diff is shown first), --force to replace it, or --out OTHER.yaml',
    );
  if (options.merge && !(target && existsSync(target)))
    throw new UserError(
      `--merge: there is no ${out} to merge into`,
      'leave out --merge to write a new one',
    );

  const { readSources } = await import('../import/source.js');
  const objects = readSources(files);
  const name =
    options.name ??
    (path
      .basename(path.dirname(target ?? path.resolve(CONFIG_FILE_NAME)))
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-') ||
      'imported');
  const { draft, warnings } =
    from === 'kong'
      ? (await import('../import/kong.js')).importKong(objects, { name })
      : (await import('../import/istio.js')).importIstio(objects, { name });
  if (Object.keys(draft.services).length === 0)
    throw new UserError(
      `found no ${from === 'kong' ? 'Kong services' : 'Istio resources'} to import in ${files.join(', ')}`,
      from === 'kong'
        ? 'give a decK file (_format_version: "3.0", services: …)'
        : 'give VirtualService, DestinationRule, AuthorizationPolicy or PeerAuthentication YAML',
    );
  const { withPlaceholders } = await import('../import/draft.js');
  const placeholders = withPlaceholders(draft);
  const { mergedConfigText, newConfigText } = await import('../import/write.js');
  const before = options.merge ? readFileSync(target!, 'utf8') : undefined;
  const { schemaReferenceFrom } = await import('../config/json-schema.js');
  const dir = path.dirname(target ?? path.resolve(CONFIG_FILE_NAME));
  const text =
    before !== undefined
      ? mergedConfigText(before, draft)
      : newConfigText(
          draft,
          ` yaml-language-server: $schema=${schemaReferenceFrom(dir)}\n` +
            ` Imported by \`meshdev import ${from} ${files.join(' ')}\`.` +
            (placeholders.length > 0
              ? `\n Simulated placeholders (replace with your dev servers): ${placeholders.join(', ')}.`
              : ''),
        );
  await mustLoad(text, target ?? path.resolve(CONFIG_FILE_NAME));
  reportLossy(warnings, options.strict);

  if (!target) process.stdout.write(text);
  else if (before !== undefined) await confirmMerge(target, before, text, options);
  else {
    writeFileSync(target, text);
    process.stderr.write(
      `wrote ${relative(target)}: ${summary(draft, placeholders)}\nnext: meshdev validate, then meshdev up\n`,
    );
  }
}

/** The config must load as meshdev reads it; an import that does not is refused, not written. */
async function mustLoad(text: string, file: string): Promise<void> {
  const { loadConfigText } = await import('../config/load.js');
  const { ConfigError } = await import('../config/config-error.js');
  try {
    loadConfigText(text, file, { env: process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const { formatIssues } = await import('../cli/format-issues.js');
    throw new UserError(
      `the imported config does not load, so nothing was written:\n${formatIssues(error.issues)}`,
      'with --out - you can see what the import made',
    );
  }
}

/** Shows the diff of a merge, then writes it on --yes or a typed yes. */
async function confirmMerge(
  target: string,
  before: string,
  after: string,
  options: ImportCommandOptions,
): Promise<void> {
  const name = relative(target);
  if (before === after) {
    process.stderr.write(`${name} already holds everything imported; nothing to do\n`);
    return;
  }
  const { createTwoFilesPatch } = await import('diff');
  const patch = createTwoFilesPatch(name, name, before, after, '', 'imported', { context: 3 });
  process.stdout.write(colorDiff(patch));
  if (options.dryRun) return;
  if (!options.yes) {
    if (!process.stdin.isTTY)
      throw new UserError(
        `${name} not changed: there is no terminal to confirm the merge`,
        'run again with --yes to write it (or --dry-run to only see the diff)',
      );
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(`write these changes to ${name}? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stderr.write(`${name} not changed\n`);
      return;
    }
  }
  writeFileSync(target, after);
  process.stderr.write(`merged into ${name}\n`);
}

function colorDiff(patch: string): string {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return patch;
  return patch
    .split('\n')
    .map((line) =>
      line.startsWith('+') && !line.startsWith('+++')
        ? `\x1b[32m${line}\x1b[0m`
        : line.startsWith('-') && !line.startsWith('---')
          ? `\x1b[31m${line}\x1b[0m`
          : line,
    )
    .join('\n');
}

function summary(
  draft: {
    services: Record<string, { routes?: unknown[] }>;
    consumers?: object;
    gateway?: { routes: unknown[] };
  },
  placeholders: readonly string[],
): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const routes = Object.values(draft.services).reduce((sum, s) => sum + (s.routes?.length ?? 0), 0);
  return [
    count(Object.keys(draft.services).length, 'service'),
    count(routes, 'route'),
    ...(draft.gateway ? [count(draft.gateway.routes.length, 'gateway route')] : []),
    ...(draft.consumers ? [count(Object.keys(draft.consumers).length, 'consumer')] : []),
    count(placeholders.length, 'simulated placeholder'),
  ].join(', ');
}
