#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
// React (the dashboard) runs its production build unless told otherwise: the development
// build checks every render and would slow the mesh it shows.
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

const { main } = await import('../dist/cli.js');

await main(process.argv);
