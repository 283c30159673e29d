/**
 * `meshdev export --to istio|linkerd|consul|kong [--out DIR] [--namespace NS] [--strict]`: the config as
 * another mesh's resources, on stdout (one YAML stream) or one file per resource. What the
 * target cannot express is a warning on stderr naming the config line; `--strict` makes
 * any warning exit 1, so CI can guard that what runs locally is what production gets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfigFor, relative } from '../cli/config-option.js';
import { reportLossy } from '../cli/lossy-report.js';
import { EXIT, UserError } from '../cli/user-error.js';
import { summaryOf } from '../cli/command-index.js';

/** Targets meshdev exports to. */
const TARGETS = ['istio', 'linkerd', 'consul', 'kong'] as const;

interface ExportCommandOptions {
  config?: string;
  to: string;
  out?: string;
  namespace?: string;
  strict?: boolean;
  format: string;
}

/** Registers `export` on the program. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(summaryOf('export'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .requiredOption('--to <target>', `what to export to: ${TARGETS.join(', ')}`)
    .option('--out <dir>', 'one file per resource in this directory (default: stdout)')
    .option('--namespace <name>', 'Kubernetes namespace of the services (default: mesh.namespace)')
    .option('--strict', 'exit 1 when anything could not be carried over')
    .option(
      '--format <form>',
      'consul only: crd (consul-k8s resources) or entries (JSON for `consul config write`)',
      'crd',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev export --to istio > istio.yaml\n  $ meshdev export --to istio --out k8s/ --strict\n  $ meshdev export --to consul --format entries --out consul/\n',
    )
    .action((options: ExportCommandOptions) => exportConfig(options));
}

async function exportConfig(options: ExportCommandOptions): Promise<void> {
  if (!(TARGETS as readonly string[]).includes(options.to)) {
    throw new UserError(
      `--to: meshdev cannot export to "${options.to}" yet`,
      `targets: ${TARGETS.join(', ')}`,
      EXIT.usage,
    );
  }
  if (options.format !== 'crd' && !(options.to === 'consul' && options.format === 'entries'))
    throw new UserError(
      `--format ${options.format}: only --to consul has another form`,
      '--to consul --format entries writes JSON for `consul config write`',
      EXIT.usage,
    );
  const config = await loadConfigFor(options.config, !options.out);
  const text = (manifest: unknown) =>
    stringify(manifest, { lineWidth: 0, aliasDuplicateObjects: false });
  if (options.to === 'kong') {
    const { exportKong } = await import('../export/kong.js');
    const { document, warnings } = exportKong(config);
    output(options.out, [['kong.yaml', text(document)]], '', (dir) =>
      relative(path.join(dir, 'kong.yaml')),
    );
    return reportLossy(warnings, options.strict);
  }
  const exporter =
    options.to === 'linkerd'
      ? (await import('../export/linkerd.js')).exportLinkerd
      : options.to === 'consul'
        ? (await import('../export/consul.js')).exportConsul
        : (await import('../export/istio.js')).exportIstio;
  const { manifests, warnings } = exporter(config, { namespace: options.namespace });
  if (options.format === 'entries') {
    const { configEntry } = await import('../export/consul-entries.js');
    const entries = manifests.map(configEntry);
    output(
      options.out,
      entries.map((entry) => [
        `${entry.Kind}-${entry.Name}.json`,
        `${JSON.stringify(entry, null, 2)}\n`,
      ]),
      '',
      (dir) => `${entries.length} config entries to ${relative(dir)}`,
    );
  } else {
    output(
      options.out,
      manifests.map((manifest) => [
        `${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`,
        text(manifest),
      ]),
      '---\n',
      (dir) => `${manifests.length} resources to ${relative(dir)}`,
    );
  }
  reportLossy(warnings, options.strict);
}

/**
 * The exported files: into `dir` (saying `wrote <what>` on stderr), or all on stdout,
 * joined by `separator`.
 */
function output(
  dir: string | undefined,
  files: ReadonlyArray<readonly [name: string, text: string]>,
  separator: string,
  what: (dir: string) => string,
): void {
  if (!dir) {
    process.stdout.write(files.map(([, text]) => text).join(separator));
    return;
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(dir, name), text);
  process.stderr.write(`wrote ${what(dir)}\n`);
}
