// Bundles the compiled CLI (dist/cli/main.js, the dist/cli modules it imports, and commander) into
// dist/cli/bc.js, the file bin/bc.js runs. Node loads a handful of modules instead of about thirty:
// see the figures in bench/PERFORMANCE.md (scenario G). Run by `npm run build` after tsc.
//
// What stays outside the bundle, loaded from its own file:
// - dist/shared: the daemon and the TUIs import it too, and it must be one module instance in a
//   process, so an error class is the same class everywhere (`err instanceof BcError`);
// - the daemon and the TUIs (dist/daemon, dist/tui): `bc daemon`, `bc top` and `bc ui` import them
//   dynamically, and they are large;
// - every other package (conf, ink, fastify...) and Node's built-ins.
// The CLI's own dynamic imports (the start/stop lifecycle, which loads node:child_process) become
// chunks beside the bundle, named bc-<name>.js. The output sits in dist/cli, the same depth as the
// modules it came from, so their `import.meta.url` paths (../../package.json, ../../bin/bc.js) and
// the relative imports of the daemon and the TUIs resolve exactly as before.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI_DIR = path.join(ROOT, 'dist/cli');
const LOADED_APART = ['dist/shared/', 'dist/daemon/', 'dist/tui/'].map((dir) => path.join(ROOT, dir));
const BUNDLED_PACKAGES = new Set(['commander']);

/** True for what the bundle imports at run time instead of containing. */
function loadedApart(id, importer) {
  if (id.startsWith('node:')) return true;
  if (!id.startsWith('.') && !path.isAbsolute(id)) return !BUNDLED_PACKAGES.has(id);
  const file = importer && id.startsWith('.') ? path.resolve(path.dirname(importer), id) : id;
  return LOADED_APART.some((dir) => file.startsWith(dir));
}

await build({
  input: path.join(CLI_DIR, 'main.js'),
  platform: 'node',
  external: loadedApart,
  logLevel: 'warn',
  output: {
    dir: CLI_DIR,
    format: 'esm',
    entryFileNames: 'bc.js',
    chunkFileNames: 'bc-[name].js',
  },
});
