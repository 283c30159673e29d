/** `meshdev schema`: print the JSON Schema of the config, for editors and other tools. */
import type { Command } from 'commander';
import { summaryOf } from '../cli/command-index.js';

/** Registers `schema` on the program. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description(summaryOf('schema'))
    .addHelpText('after', '\nExample:\n  $ meshdev schema > mesh.config.schema.json\n')
    .action(async () => {
      const { configJsonSchema } = await import('../config/json-schema.js');
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
