/**
 * `meshdev top`: the live dashboard of a mesh that is already running — `meshdev up
 * --no-ui` in another terminal, or a CI job's — like `linkerd viz top` or k9s. It reads
 * and changes the mesh only through the admin API, with the same keys as `meshdev up`.
 * `meshdev up` runs its own dashboard this way too (`--attached`): a process of its own,
 * so rendering never shares the data plane's event loop.
 */
import type { Command } from 'commander';
import { AdminClient } from '../cli/admin-client.js';
import { configOption } from '../cli/config-option.js';
import { UserError } from '../cli/user-error.js';
import { summaryOf } from '../cli/command-index.js';

/** What `meshdev up` tells the dashboard process it started (over the IPC channel). */
export type AttachMessage = { type: 'admin'; base: string; token: string } | { type: 'stop' };

/** Registers `top` on the program. */
export function registerTop(program: Command): void {
  program
    .command('top')
    .description(summaryOf('top'))
    .option(...configOption)
    .option('--attached', 'internal: the dashboard process of `meshdev up`', false)
    .addHelpText('after', '\nExample:\n  $ meshdev top\n')
    .action((options: { config?: string; attached: boolean }) => top(options));
}

async function top(options: { config?: string; attached: boolean }): Promise<void> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new UserError(
      'meshdev top needs a terminal',
      'in scripts, use `meshdev status`, `meshdev calls --follow` or GET /v1/dashboard',
      2,
    );
  }
  // Load the dashboard while the mesh (for `up`) is still starting.
  const modules = Promise.all([
    import('react'),
    import('ink'),
    import('../ui/Dashboard.js'),
    import('../ui/admin-source.js'),
  ]);
  const stopped = new Promise<void>((resolve) => {
    // `up` stops us (or died): leave the terminal as it was.
    process.on('message', (message: AttachMessage) => message.type === 'stop' && resolve());
    process.on('disconnect', resolve);
  });
  const client = options.attached
    ? await attachedClient(stopped)
    : AdminClient.connect(options.config);
  if (!client) return;
  const [{ createElement }, { render }, { Dashboard }, { AdminSource }] = await modules;
  const source = new AdminSource(client);
  await source.start();
  const app = render(createElement(Dashboard, { source, onQuit: () => {} }), {
    exitOnCtrlC: false,
  });
  await Promise.race([app.waitUntilExit(), stopped]);
  app.unmount();
  source.stop();
  // The IPC channel would keep `--attached` alive.
  if (process.connected) process.disconnect();
}

/** Waits for `up` to say where its admin API is; undefined when `up` stopped first. */
function attachedClient(stopped: Promise<void>): Promise<AdminClient | undefined> {
  return new Promise((resolve) => {
    process.on('message', (message: AttachMessage) => {
      if (message.type === 'admin') resolve(AdminClient.at(message.base, message.token));
    });
    void stopped.then(() => resolve(undefined));
  });
}
