import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against the converters area (`STRYKER_AREA=converters`): the unit and
 * contract tests, which hold the converters' exact-body and exact-frame checks, and the in-process
 * integration tests that drive a conversion end to end (the protocols-* suites with the official
 * clients, and the provider simulators' suites). The money, store, CLI and daemon suites never
 * run a converter the others do not already judge, and each would add seconds to every mutant
 * that a request path covers, so they are left out here (the full config still runs them).
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
    include: [
      'test/unit/**/*.test.ts',
      'test/contract/**/*.test.ts',
      'test/integration/protocols-*.test.ts',
      'test/integration/*-sim*.test.ts',
    ],
    exclude: [...configDefaults.exclude, 'test/unit/tui-*.test.{ts,tsx}', 'test/unit/cli-*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
