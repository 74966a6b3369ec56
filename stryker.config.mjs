// StrykerJS over the code whose mistakes cost money or send the wrong request (issue 14):
// `npm run test:mutation` (slow: not part of `npm test`); `STRYKER_AREA=money|routing|converters`
// limits a run to one area. Reports go to reports/mutation/ (committed: mutation.json and the
// summary quoted in the README).
const AREAS = {
  money: [
    'src/daemon/gateway/money/meter.ts',
    'src/daemon/gateway/money/budget-ledger.ts',
    'src/daemon/gateway/money/admission.ts',
    'src/daemon/gateway/money/settle.ts',
    'src/daemon/gateway/money/limits.ts',
    'src/daemon/gateway/money/output-limit.ts',
    'src/daemon/gateway/money/worst-case.ts',
    'src/daemon/gateway/money/admitted-prices.ts',
    'src/daemon/store/sqlite/journal.ts',
    'src/daemon/store/sqlite/logs.ts',
  ],
  routing: ['src/daemon/gateway/routing/router.ts', 'src/daemon/gateway/routing/health.ts'],
  converters: [
    'src/daemon/providers/*/request.ts',
    'src/daemon/providers/*/messages.ts',
    'src/daemon/providers/*/stream.ts',
    'src/daemon/providers/*/response.ts',
    'src/daemon/inbound/*/request.ts',
    'src/daemon/inbound/*/stream.ts',
    'src/daemon/inbound/*/response.ts',
  ],
};

const area = process.env.STRYKER_AREA;
// STRYKER_MUTATE=a.ts,b.ts: an ad-hoc run over just those files
const only = process.env.STRYKER_MUTATE?.split(',').filter((f) => f.length > 0);
const mutate = only ?? (area ? AREAS[area] : Object.values(AREAS).flat());
if (!mutate) throw new Error(`STRYKER_AREA must be one of ${Object.keys(AREAS).join(', ')}`);
// STRYKER_LABEL names an ad-hoc run's report; each run has its own sandbox folder so two areas can run at once
const label = process.env.STRYKER_LABEL ?? (only ? 'adhoc' : (area ?? 'all'));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // the converters area runs the conversion suites only (test/mutation/converters.vitest.config.ts)
  vitest: {
    configFile:
      area === 'converters' ? 'test/mutation/converters.vitest.config.ts' : 'test/mutation/vitest.config.ts',
    // perTest coverage already names each mutant's tests; finding "related" test files on top walks
    // every test file's imports on each mutant run
    related: area !== 'converters',
  },
  coverageAnalysis: 'perTest',
  // the converters tests keep modules between mutants, where a static mutant cannot be switched on
  ignoreStatic: area === 'converters' && process.env.STRYKER_FRESH !== '1',
  mutate,
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${label}.json` },
  htmlReporter: { fileName: `reports/mutation/${label}.html` },
  tempDirName: `.stryker-tmp/${label}`,
  // another area's sandbox (a run going on at the same time) is not part of the project to copy
  ignorePatterns: ['/.stryker-tmp'],
  cleanTempDir: 'always',
};
