import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs for the money and routing areas under `stryker.unit.config.mjs`: every
 * unit and contract test but the TUI and CLI ones (which reach neither area). The in-process
 * gateway suites are left out: each mutant they cover re-runs whole gateway suites, hours on this
 * 2-core machine; that can only lower a score (a mutant only they would kill counts as survived).
 * This is the test set the committed money and routing reports were measured with.
 */
// StrykerJS runs this from its sandbox (<repo>/.stryker-tmp/<label>/sandbox-*/), where the
// fixtures beside the repository are not at ../shared/fixtures: point the tests at the real ones
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = here.includes(`${path.sep}.stryker-tmp${path.sep}`)
  ? here.slice(0, here.indexOf(`${path.sep}.stryker-tmp${path.sep}`))
  : path.resolve(here, '../..');

export default defineConfig({
  test: {
    env: { BC_FIXTURES_ROOT: path.resolve(repoRoot, '../shared/fixtures') },
    include: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/unit/tui-*.test.{ts,tsx}', 'test/unit/cli-*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Modules are kept between mutant runs: Stryker switches a mutant on at run time, so cached
    // modules see it, except static mutants (code run at import time), which stryker.unit.config.mjs
    // ignores and SURVIVORS.md counts apart
    isolate: false,
  },
});
