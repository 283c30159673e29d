#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
// React (the dashboard) runs its production build unless told otherwise: the development
// build checks every render and would slow the mesh it shows.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node >= 22.1 keeps the compiled code of our modules on disk (in the OS's temp directory):
// every command after the first starts without compiling the bundle again. Node 20 has no
// such cache (the call is absent there); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();

process.env.NODE_ENV ??= 'production';

// `meshdev calls --follow | head` closes the pipe under us: stop quietly, as Unix tools do.
// `up` stops gracefully (its SIGTERM handler), so its services are stopped too.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
    else process.exit(process.exitCode ?? 0);
  });
}

// The bundle (`npm run build` writes it) loads in a fraction of the time the ~200 separate
// modules of dist/ take; dist/cli.js is the same program, run when only tsc has built.
const bundled = new URL('../dist/bundle/cli.js', import.meta.url);
const { main } = await import(existsSync(bundled) ? bundled.href : '../dist/cli.js');

await main(process.argv);
