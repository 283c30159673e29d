/**
 * `meshdev certs`: the mesh's identities (SPIFFE ID, serial, expiry, files);
 * `certs rotate` issues new leaves that a running mesh picks up; `certs ca` prints the
 * CA and how to trust it, so browsers accept the HTTPS gateway.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfigFor, relative } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import type { MeshConfig } from '../config/model.js';
import { projectPath } from '../config/project-dir.js';
import { summaryOf } from '../cli/command-index.js';

/** The PKI's modules (selfsigned and its ASN.1 stack), loaded when a `certs` command runs. */
const pkiModules = async () => {
  const [{ describeCert }, { spiffeId }, { Pki, pkiPaths }] = await Promise.all([
    import('../dataplane/pki/certificates.js'),
    import('../dataplane/pki/identity.js'),
    import('../dataplane/pki/pki.js'),
  ]);
  return { describeCert, spiffeId, Pki, pkiPaths };
};

/** Registers `certs` and its subcommands on the program. */
export function registerCerts(program: Command): void {
  const certs = program
    .command('certs')
    .description(summaryOf('certs'))
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ meshdev certs\n  $ meshdev certs rotate\n  $ meshdev certs ca\n',
    )
    .action(async (options: { config?: string; json?: boolean }) =>
      list(await loadConfigFor(options.config), Boolean(options.json)),
    );

  certs
    .command('rotate')
    .description(
      'issue new leaf certificates now (a running mesh picks them up for new connections)',
    )
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .addHelpText('after', '\nExample:\n  $ meshdev certs rotate\n')
    .action(async (options: { config?: string }) => {
      const config = await loadConfigFor(options.config);
      const { Pki, pkiPaths } = await pkiModules();
      const pki = await Pki.open(config.mesh, projectPath(config));
      await pki.issue(identitiesOf(config));
      writeFileSync(pkiPaths(projectPath(config)).rotateMarker, new Date().toISOString());
      process.stdout.write(
        `issued ${identitiesOf(config).length} new leaf certificates; a running mesh uses them for new connections\n`,
      );
    });

  certs
    .command('ca')
    .description('print the CA certificate, its path, and how to trust it')
    .option('-c, --config <file>', 'config file (default: nearest mesh.config.yaml)')
    .addHelpText('after', '\nExample:\n  $ meshdev certs ca > meshdev-ca.crt\n')
    .action(async (options: { config?: string }) => {
      const config = await loadConfigFor(options.config);
      const { Pki } = await pkiModules();
      const pki = await Pki.open(config.mesh, projectPath(config));
      const caPath = pki.paths.caCert;
      process.stdout.write(pki.ca.cert);
      process.stderr.write(
        `\nCA certificate: ${caPath}\n` +
          'Trust it so browsers accept the HTTPS gateway:\n' +
          `  Linux (Debian/Ubuntu): sudo cp ${caPath} /usr/local/share/ca-certificates/meshdev-${config.mesh.name}.crt && sudo update-ca-certificates\n` +
          `  macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${caPath}\n` +
          '  Firefox keeps its own store: Settings → Certificates → Import.\n',
      );
    });
}

/** Every identity the mesh issues: its services and the gateway. */
export function identitiesOf(config: MeshConfig): string[] {
  return [...config.services.map((service) => service.name), 'gateway'];
}

async function list(config: MeshConfig, json: boolean): Promise<void> {
  const { describeCert, spiffeId, pkiPaths } = await pkiModules();
  const paths = pkiPaths(projectPath(config));
  if (!existsSync(paths.caCert)) {
    throw new UserError(
      `no CA yet in ${relative(paths.caDir)}`,
      'it is created on the first `meshdev up` (with mesh.mtls strict or permissive)',
    );
  }
  const rows = identitiesOf(config).map((name) => {
    const certPath = `${paths.certsDir}/${name}.crt`;
    const info = existsSync(certPath) ? describeCert(readFileSync(certPath, 'utf8')) : undefined;
    return {
      name,
      spiffeId: spiffeId(config.mesh, name),
      serial: info?.serial ?? null,
      notAfter: info?.notAfter.toISOString() ?? null,
      cert: relative(certPath),
      key: relative(`${paths.certsDir}/${name}.key`),
    };
  });
  if (json)
    return void process.stdout.write(
      `${JSON.stringify({ ca: relative(paths.caCert), identities: rows }, null, 2)}\n`,
    );
  const table = [
    ['identity', 'SPIFFE ID', 'serial', 'not after', 'files'],
    ...rows.map((r) => [
      r.name,
      r.spiffeId,
      r.serial ?? '(not issued)',
      r.notAfter ?? '',
      `${r.cert} ${r.key}`,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  process.stdout.write(
    `CA: ${relative(paths.caCert)}\n${table
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  );
}
