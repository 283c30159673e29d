/**
 * Every command in help order, with what the top-level help says of it: its usage and its
 * summary. `meshdev --help` lists them from here without loading twenty command modules;
 * each module takes its description from here (`summaryOf`), and `cli.test.ts` checks
 * that the usage here is what the module registers.
 */
export const COMMAND_INDEX = [
  {
    name: 'init',
    usage: '[options]',
    summary: 'write a starter mesh.config.yaml in the current directory',
  },
  {
    name: 'validate',
    usage: '[options]',
    summary:
      'check mesh.config.yaml (and the OpenAPI specs it names) and list every problem with its line and column',
  },
  {
    name: 'schema',
    usage: '',
    summary: 'print the JSON Schema (draft 2020-12) of mesh.config.yaml',
  },
  {
    name: 'up',
    usage: '[options]',
    summary:
      'start the mesh: gateway, sidecar listeners, your services, and a live dashboard (or log) of every call',
  },
  {
    name: 'env',
    usage: '[options] <service>',
    summary:
      'print the environment of a service (service or service@version): MESH_SERVICE, PORT and every <UPSTREAM>_URL',
  },
  {
    name: 'certs',
    usage: '[options]',
    summary: 'list the SPIFFE identities of the mesh with serial, expiry and files',
  },
  {
    name: 'top',
    usage: '[options]',
    summary: 'attach the live dashboard to a running mesh (e.g. `meshdev up --no-ui` elsewhere)',
  },
  {
    name: 'status',
    usage: '[options]',
    summary: 'services, instances, faults and splits in force in the running mesh',
  },
  { name: 'calls', usage: '[options]', summary: 'recent and live calls of the running mesh' },
  { name: 'fault', usage: '', summary: 'add, list and remove runtime faults' },
  {
    name: 'split',
    usage: '[options] <service> [weights...]',
    summary:
      'set the traffic split of a service now, e.g. v1=80 v2=20 (--clear to go back to the file)',
  },
  {
    name: 'route',
    usage: '',
    summary: 'add, list and remove runtime routes (matched before the config file’s)',
  },
  {
    name: 'reload',
    usage: '[options]',
    summary: 're-read mesh.config.yaml now (it is also watched)',
  },
  {
    name: 'logs',
    usage: '[options] <service>',
    summary:
      'show the output of a service that meshdev runs (service = all its versions, or service@version)',
  },
  {
    name: 'check',
    usage: '[options]',
    summary:
      "run the config's checks: headless, then JUnit/JSON reports and an exit code (0 pass, 1 fail, 2 config error)",
  },
  {
    name: 'export',
    usage: '[options]',
    summary:
      'write the config as Istio, Linkerd or Consul resources, or the gateway as a Kong (decK) file',
  },
  {
    name: 'import',
    usage: '[options] <from> <files...>',
    summary: 'write mesh.config.yaml from Istio resources or a Kong (decK) file',
  },
  {
    name: 'token',
    usage: '[options] <consumer>',
    summary: "print a JWT for a consumer, signed by meshdev's development issuer",
  },
  {
    name: 'usage',
    usage: '[options]',
    summary:
      'API usage of the running mesh by consumer: calls, errors, limited, quota, top endpoints',
  },
  {
    name: 'plan',
    usage: '',
    summary: "change a consumer's plan on the running mesh (a runtime overlay)",
  },
] as const;

/** A command's name. */
export type CommandName = (typeof COMMAND_INDEX)[number]['name'];

/** The summary of `name`, as its module describes it and the top-level help lists it. */
export function summaryOf(name: CommandName): string {
  return COMMAND_INDEX.find((command) => command.name === name)!.summary;
}
