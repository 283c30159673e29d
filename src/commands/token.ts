/**
 * `meshdev token <consumer>`: a JWT for a consumer, signed by meshdev's development issuer
 * (the key in `.meshdev/jwt/`, created on first use) — "log in as alice" is one command.
 * The gateway accepts it when `gateway.auth.jwt.local` is true.
 */
import type { Command } from 'commander';
import { loadConfigFor } from '../cli/config-option.js';
import { EXIT, UserError } from '../cli/user-error.js';
import { projectPath } from '../config/project-dir.js';
import { parseDuration } from '../config/units.js';
import { summaryOf } from '../cli/command-index.js';

interface TokenOptions {
  config?: string;
  scope?: string;
  ttl: string;
}

/** Registers `token` on the program. */
export function registerToken(program: Command): void {
  program
    .command('token <consumer>')
    .description(summaryOf('token'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--scope <scopes>', 'scopes the token carries (comma- or space-separated)')
    .option('--ttl <duration>', 'how long the token is valid', '1h')
    .addHelpText(
      'after',
      '\nExample:\n  $ curl -H "Authorization: Bearer $(meshdev token alice --scope orders:write)" localhost:8080/api/orders\n',
    )
    .action(async (name: string, options: TokenOptions) => {
      const config = await loadConfigFor(options.config, true);
      const consumer = config.consumers.find((c) => c.name === name);
      if (!consumer) {
        throw new UserError(
          `no consumer "${name}" in ${config.file}`,
          `consumers: ${config.consumers.map((c) => c.name).join(', ') || '(none) — add a consumers: section'}`,
        );
      }
      if (!config.gateway?.auth.jwt?.local) {
        throw new UserError(
          'the gateway does not trust the development issuer',
          'set gateway.auth.jwt: { local: true }',
        );
      }
      const ttlMs = parseDuration(options.ttl);
      if (!ttlMs)
        throw new UserError(
          `--ttl: "${options.ttl}" is not a duration`,
          'e.g. 15m or 1h',
          EXIT.usage,
        );
      const [{ loadLocalIssuer }, { localAudience }] = await Promise.all([
        import('../edge/local-issuer.js'),
        import('../edge/api-edge.js'),
      ]);
      const issuer = await loadLocalIssuer(projectPath(config), config.mesh.name);
      const token = await issuer.sign({
        subject: consumer.jwtSubject,
        audience: config.gateway.auth.jwt.audience ?? localAudience(config),
        scopes: options.scope?.split(/[\s,]+/).filter(Boolean),
        ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)),
      });
      process.stdout.write(`${token}\n`);
    });
}
