/** `meshdev schema`: print the JSON Schema of the config, for editors and other tools. */
import type { Command } from 'commander';
import { configJsonSchema } from '../config/json-schema.js';

/** Registers `schema` on the program. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of mesh.config.yaml')
    .addHelpText('after', '\nExample:\n  $ meshdev schema > mesh.config.schema.json\n')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
