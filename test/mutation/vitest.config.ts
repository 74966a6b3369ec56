import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (`npm run test:mutation`): unit tests and the
 * in-process integration and contract tests. Tests that spawn the built daemon or `bc` run
 * `dist/`, which never carries a mutant, and end-to-end clients only add minutes; both are left
 * out so a mutant is judged by the tests that can see it.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/integration/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      'test/integration/cli-*.test.ts',
      'test/integration/daemon-*.test.ts',
      'test/integration/relay-crash.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
