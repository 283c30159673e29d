/** `meshdev schema`: print the JSON Schema of the config, for editors and other tools. */
import type { Command } from 'commander';

/** Registers `schema` on the program. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of mesh.config.yaml')
    .addHelpText('after', '\nExample:\n  $ meshdev schema > mesh.config.schema.json\n')
    .action(async () => {
      const { configJsonSchema } = await import('../config/json-schema.js');
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
