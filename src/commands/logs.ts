/** `meshdev logs <service>`: the captured output of a service meshdev runs. */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfigFor } from '../cli/config-option.js';
import { instanceLabel } from '../config/model.js';
import { UserError } from '../cli/user-error.js';
import { projectPath } from '../config/project-dir.js';

/** Registers `logs` on the program. */
export function registerLogs(program: Command): void {
  program
    .command('logs <service>')
    .description('show the output of a service that meshdev runs (service or service@version)')
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('-f, --follow', 'keep printing new output')
    .option('-n, --lines <count>', 'how many of the last lines to print', '100')
    .addHelpText('after', '\nExample:\n  $ meshdev logs payments@v2 --follow\n')
    .action(
      async (service: string, options: { config?: string; follow?: boolean; lines: string }) => {
        const config = loadConfigFor(options.config, true);
        const file = path.join(projectPath(config), 'logs', `${service}.log`);
        if (!existsSync(file)) {
          const supervised = config.services.flatMap((s) =>
            s.instances.filter((i) => i.command).map((i) => instanceLabel(s.name, i.version)),
          );
          throw new UserError(
            `no logs for "${service}" yet`,
            supervised.length
              ? `meshdev runs: ${supervised.join(', ')}`
              : 'no service has a command: meshdev only captures what it starts',
          );
        }
        const lines = readFileSync(file, 'utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        const count = Math.max(0, Number(options.lines) || 0);
        process.stdout.write(
          lines
            .slice(-count)
            .map((line) => `${line}\n`)
            .join(''),
        );
        if (!options.follow) return;
        let offset = statSync(file).size;
        await new Promise<never>(() => {
          setInterval(() => {
            const size = statSync(file).size;
            if (size < offset) offset = 0; // truncated or replaced
            if (size === offset) return;
            const fd = openSync(file, 'r');
            const buffer = Buffer.alloc(size - offset);
            readSync(fd, buffer, 0, buffer.length, offset);
            closeSync(fd);
            offset = size;
            process.stdout.write(buffer);
          }, 200);
        });
      },
    );
}
