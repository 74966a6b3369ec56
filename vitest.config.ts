import { configDefaults, defineConfig } from 'vitest/config';

// CI sets VITEST_JSON_REPORT so .ci/run can print "N passed, N failed" from the JSON report.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // test/live talks to real providers: only `npm run test:live` (test/live/vitest.config.ts) runs it
    exclude: [...configDefaults.exclude, 'test/live/**', '.stryker-tmp/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // real PostgreSQL and Redis on loopback for the whole run (SPEC section 9)
    globalSetup: ['test/global-setup.ts'],
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
});
