// StrykerJS over the unit and contract tests only (issue 14): the money and routing areas'
// committed reports come from this config (`STRYKER_AREA=money npx stryker run
// stryker.unit.config.mjs`). It is stryker.config.mjs with the unit and contract tests only
// (test/mutation/unit.vitest.config.ts, modules kept between mutants).
// Each mutant the in-process gateway suites cover re-runs whole gateway suites, which on this
// 2-core machine makes a money run hours long; leaving them out can only lower a score (a mutant
// only they would kill counts as survived). Modules kept between mutants cannot see a mutant in
// code run at import time, so those static mutants are ignored and counted apart (SURVIVORS.md).
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'test/mutation/unit.vitest.config.ts', related: false },
  ignoreStatic: true,
};
