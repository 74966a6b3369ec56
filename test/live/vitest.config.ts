/**
 * The live suite's vitest configuration (`npm run test:live`, i.e. `vitest run --config
 * test/live/vitest.config.ts`): real providers through a real daemon, only the files under
 * test/live, which the main config leaves out. It lives here rather than at the top so the
 * project's typed lint covers it with the rest of test/. Real networks are slow, so the timeouts
 * are long; cases run one after another, so each log row read belongs to the case that reads it.
 * The verbose reporter lists every case; the summary reporter prints which providers ran and
 * fails a run in which none did.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['test/live/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['verbose', './test/live/summary-reporter.ts'],
  },
});
