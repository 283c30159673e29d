/** `meshdev init`: write a commented starter config and keep `.meshdev/` out of git. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE_NAME } from '../config/discover.js';
import { relative } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import { starterConfig } from './init-template.js';
import { summaryOf } from '../cli/command-index.js';

/** Registers `init` on the program. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description(summaryOf('init'))
    .option('-c, --config <file>', 'where to write it', CONFIG_FILE_NAME)
    .option('--force', 'overwrite an existing file')
    .addHelpText('after', '\nExample:\n  $ meshdev init && meshdev validate\n')
    .action(async (options: { config: string; force?: boolean }) => {
      const file = path.resolve(options.config);
      if (existsSync(file) && !options.force) {
        throw new UserError(
          `${relative(file)} already exists`,
          'pass --force to overwrite it, or -c OTHER.yaml to write elsewhere',
        );
      }
      const dir = path.dirname(file);
      const name =
        path
          .basename(dir)
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-') || 'dev';
      // The schema module loads zod: only `init` itself pays for it, not `--help`.
      const { schemaReferenceFrom } = await import('../config/json-schema.js');
      writeFileSync(file, starterConfig(schemaReferenceFrom(dir), name));
      const ignored = ensureGitignored(dir);
      process.stdout.write(
        `wrote ${relative(file)}${ignored ? ' and added .meshdev/ to .gitignore' : ''}\n` +
          'next: meshdev validate, then meshdev up\n',
      );
    });
}

/** Adds `.meshdev/` (keys, logs, state) to the project's .gitignore; true when it did. */
function ensureGitignored(dir: string): boolean {
  const gitignore = path.join(dir, '.gitignore');
  const current = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
  if (/^\/?\.meshdev\/?$/m.test(current)) return false;
  appendFileSync(gitignore, `${current && !current.endsWith('\n') ? '\n' : ''}.meshdev/\n`);
  return true;
}
