import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against the converters area (`STRYKER_AREA=converters`): the unit and
 * contract tests, which hold the converters' exact-body and exact-frame checks against the
 * recorded fixtures and the official SDKs. The in-process integration suites (protocols-*, the
 * simulators) also run every converter, but each mutant they cover re-runs a whole gateway
 * suite: measured on this 2-core machine, over 4,800 mutants that is many hours, not one. So
 * they are left out here, which can only lower the converters' score (a mutant only they would
 * kill counts as survived); the full config (test/mutation/vitest.config.ts) still runs them.
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
    // suites that never reach a converter: a timing-sensitive one among them (the store's WAL
    // test) fails a dry run on a loaded machine, and heap-policy runs dist/
    exclude: [
      ...configDefaults.exclude,
      'test/unit/tui-*.test.{ts,tsx}',
      'test/unit/cli-*.test.ts',
      'test/unit/heap-policy.test.ts',
      'test/unit/store*.test.ts',
      'test/unit/migrations.test.ts',
      'test/unit/settle-journal.test.ts',
      'test/unit/{pidfile,secrets,systemd-unit,prometheus,write-health}.test.ts',
      'test/unit/metrics-*.test.ts',
      'test/unit/control-validate*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Modules are kept between mutant runs (~3x faster here): Stryker switches a mutant on at run
    // time, so the results match a fresh-import run (263 of 263 mutants run both ways agreed),
    // except static mutants (code run at import time), which need ignoreStatic. STRYKER_FRESH=1
    // imports afresh for each run.
    isolate: process.env.STRYKER_FRESH === '1',
  },
});
