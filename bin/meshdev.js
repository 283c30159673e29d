#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
// React (the dashboard) runs its production build unless told otherwise: the development
// build checks every render and would slow the mesh it shows.
process.env.NODE_ENV ??= 'production';
const { main } = await import('../dist/cli.js');

await main(process.argv);
