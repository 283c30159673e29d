/**
 * `meshdev export --to istio|linkerd|consul|kong [--out DIR] [--namespace NS] [--strict]`: the config as
 * another mesh's resources, on stdout (one YAML stream) or one file per resource. What the
 * target cannot express is a warning on stderr naming the config line; `--strict` makes
 * any warning exit 1, so CI can guard that what runs locally is what production gets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfigFor, relative } from '../cli/config-option.js';
import { EXIT, UserError } from '../cli/user-error.js';

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
    .description(
      'write the config as Istio, Linkerd or Consul resources, or the gateway as a Kong (decK) file',
    )
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
  const config = await loadConfigFor(options.config, !options.out);
  const { stringify } = await import('yaml');
  const text = (manifest: unknown) =>
    stringify(manifest, { lineWidth: 0, aliasDuplicateObjects: false });
  if (options.to === 'kong') {
    const { exportKong } = await import('../export/kong.js');
    const { document, warnings } = exportKong(config);
    if (options.out) {
      mkdirSync(options.out, { recursive: true });
      writeFileSync(path.join(options.out, 'kong.yaml'), text(document));
      process.stderr.write(`wrote ${relative(path.join(options.out, 'kong.yaml'))}\n`);
    } else process.stdout.write(text(document));
    return finish(warnings, options.strict);
  }
  const exporter =
    options.to === 'linkerd'
      ? (await import('../export/linkerd.js')).exportLinkerd
      : options.to === 'consul'
        ? (await import('../export/consul.js')).exportConsul
        : (await import('../export/istio.js')).exportIstio;
  const { manifests, warnings } = exporter(config, { namespace: options.namespace });
  if (options.format !== 'crd') {
    if (options.to !== 'consul' || options.format !== 'entries')
      throw new UserError(
        `--format ${options.format}: only --to consul has another form`,
        '--to consul --format entries writes JSON for `consul config write`',
        EXIT.usage,
      );
    const { configEntry } = await import('../export/consul-entries.js');
    const entries = manifests.map(configEntry);
    if (options.out) {
      mkdirSync(options.out, { recursive: true });
      for (const entry of entries)
        writeFileSync(
          path.join(options.out, `${entry.Kind}-${entry.Name}.json`),
          `${JSON.stringify(entry, null, 2)}\n`,
        );
      process.stderr.write(`wrote ${entries.length} config entries to ${relative(options.out)}\n`);
    } else
      process.stdout.write(entries.map((entry) => `${JSON.stringify(entry, null, 2)}\n`).join(''));
    return finish(warnings, options.strict);
  }
  if (options.out) {
    mkdirSync(options.out, { recursive: true });
    for (const manifest of manifests) {
      const file = path.join(
        options.out,
        `${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`,
      );
      writeFileSync(file, text(manifest));
    }
    process.stderr.write(`wrote ${manifests.length} resources to ${relative(options.out)}\n`);
  } else {
    process.stdout.write(manifests.map(text).join('---\n'));
  }
  finish(warnings, options.strict);
}

/** Prints the warnings; with `--strict`, any of them is exit 1. */
function finish(warnings: ReadonlyArray<{ at: string; message: string }>, strict?: boolean): void {
  for (const warning of warnings) process.stderr.write(`${warning.at} ${warning.message}\n`);
  if (strict && warnings.length > 0) {
    process.stderr.write(
      `--strict: ${warnings.length} thing${warnings.length === 1 ? '' : 's'} could not be carried over\n`,
    );
    process.exitCode = EXIT.userError;
  }
}
