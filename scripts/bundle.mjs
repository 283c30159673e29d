// Bundles the compiled CLI (dist/cli.js and every module it imports, static or dynamic)
// into dist/bundle/: one file per command's modules instead of ~200 small ones. Node 20
// resolves, reads and links each ES module on its own, and a CLI that loads zod, yaml and
// commander file by file spent a third of `meshdev validate` doing it (see README,
// Benchmark). `bin/meshdev.js` runs the bundle when it exists, else dist/cli.js.
//
// Only pure-JavaScript packages on the start-up path are bundled. The rest stay packages
// (node_modules): undici keeps one copy shared with the modules that reach its internals,
// ink and React keep their own files (WebAssembly, the production build chosen at run
// time), and the OpenAPI tools and ajv are loaded through `createRequire` on purpose.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const BUNDLED_PACKAGES = new Set(['commander', 'fastest-levenshtein', 'yaml', 'zod']);

const root = new URL('../', import.meta.url);
const { dependencies } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const external = Object.keys(dependencies)
  .filter((name) => !BUNDLED_PACKAGES.has(name))
  .flatMap((name) => [name, `${name}/*`]);
const outdir = new URL('dist/bundle/', root).pathname;

rmSync(outdir, { recursive: true, force: true });
const { metafile } = await build({
  // The contract worker (`new Worker(new URL('./body-check-worker.js', import.meta.url))`)
  // is an entry of its own, beside the chunks that start it.
  entryPoints: [
    new URL('dist/cli.js', root).pathname,
    new URL('dist/contracts/body-check-worker.js', root).pathname,
  ],
  entryNames: '[name]',
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // The bundled CommonJS packages (commander, yaml) call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as meshdevCreateRequire } from 'node:module'; const require = meshdevCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
});

// `await import('yaml')` of a bundled CommonJS package resolves to a chunk whose only
// export is `default` (Node's named exports for CommonJS are not emulated there), so a
// destructured name is undefined at run time. Refuse to build such a bundle.
for (const [file, input] of Object.entries(metafile.inputs)) {
  if (file.includes('node_modules/')) continue;
  for (const imported of input.imports) {
    if (imported.kind === 'dynamic-import' && !imported.external)
      if (imported.path.includes('node_modules/')) {
        rmSync(outdir, { recursive: true, force: true });
        throw new Error(
          `${file}: import() of the bundled package file ${imported.path}: import it statically, or leave the package out of BUNDLED_PACKAGES`,
        );
      }
  }
}
