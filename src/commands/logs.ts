/**
 * `meshdev logs <service>[@version]`: the captured output of what meshdev runs. A bare
 * name of a versioned service means all its versions, each line prefixed with its
 * instance (`users@v2 | …`).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfigFor } from '../cli/config-option.js';
import { instanceLabel, type MeshConfig } from '../config/model.js';
import { UserError } from '../cli/user-error.js';
import { projectPath } from '../config/project-dir.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `logs` on the program. */
export function registerLogs(program: Command): void {
  program
    .command('logs <service>')
    .description(summaryOf('logs'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('-f, --follow', 'keep printing new output')
    .option('-n, --lines <count>', 'how many of the last lines to print (per instance)', '100')
    .addHelpText('after', '\nExample:\n  $ meshdev logs payments@v2 --follow\n')
    .action(async (name: string, options: { config?: string; follow?: boolean; lines: string }) => {
      const config = await loadConfigFor(options.config, true);
      const instances = instancesNamed(config, name);
      const dir = path.join(projectPath(config), 'logs');
      const files = instances
        .map((label) => ({ label, file: path.join(dir, `${label}.log`) }))
        .filter(({ file }) => existsSync(file));
      if (files.length === 0) {
        const supervised = config.services.flatMap((s) =>
          s.instances.filter((i) => i.command).map((i) => instanceLabel(s.name, i.version)),
        );
        throw new UserError(
          `no logs for "${name}" yet`,
          supervised.length
            ? `meshdev runs: ${supervised.join(', ')}`
            : 'no service has a command: meshdev only captures what it starts',
        );
      }
      const prefix = (label: string) => (files.length > 1 ? `${label} | ` : '');
      const count = Math.max(0, Number(options.lines) || 0);
      for (const { label, file } of files) {
        const lines = readFileSync(file, 'utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        process.stdout.write(
          lines
            .slice(-count)
            .map((line) => `${prefix(label)}${line}\n`)
            .join(''),
        );
      }
      if (!options.follow) return;
      const offsets = new Map(files.map(({ file }) => [file, statSync(file).size]));
      await new Promise<never>(() => {
        setInterval(() => {
          for (const { label, file } of files) {
            const text = readNew(file, offsets);
            if (!text) continue;
            process.stdout.write(files.length > 1 ? text.replace(/^(?=.)/gm, prefix(label)) : text);
          }
        }, 200);
      });
    });
}

/** The instances a name means: `svc@v` one, `svc` all of its versions; else explains. */
function instancesNamed(config: MeshConfig, name: string): string[] {
  const [serviceName = '', version] = name.split('@');
  const service = config.services.find((s) => s.name === serviceName);
  if (!service) {
    throw new UserError(
      `no service "${serviceName}" in ${config.file}`,
      `services: ${config.services.map((s) => s.name).join(', ')}`,
    );
  }
  const versions = service.instances.map((instance) => instance.version);
  if (version !== undefined && !versions.includes(version)) {
    throw new UserError(
      `${serviceName} has no version "${version}"`,
      `versions: ${versions.join(', ')}`,
    );
  }
  return (version === undefined ? versions : [version]).map((v) => instanceLabel(serviceName, v));
}

/** What was appended to `file` since the last read (from the start if it was replaced). */
function readNew(file: string, offsets: Map<string, number>): string {
  const size = statSync(file).size;
  let offset = offsets.get(file) ?? 0;
  if (size < offset) offset = 0; // truncated or replaced
  if (size === offset) return '';
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(size - offset);
  readSync(fd, buffer, 0, buffer.length, offset);
  closeSync(fd);
  offsets.set(file, size);
  return buffer.toString();
}
