#!/usr/bin/env node
// The `bc` / `burncloud` executable: runs the compiled, bundled CLI (`npm run build` produces
// dist/, and scripts/bundle-cli.mjs its dist/cli/bc.js).
import('../dist/cli/bc.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/bc.js')) {
    process.stderr.write('burncloud is not built yet: run `npm run build` in the checkout first.\n');
    process.exit(2);
  }
  throw err;
});
