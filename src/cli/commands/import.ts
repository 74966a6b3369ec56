/**
 * `bc import one-api PATH`: brings a One API or New API SQLite database over (SPEC section 11,
 * TENANTS.md 5.11). The CLI reads the source itself, read-only, and plans everything
 * (src/cli/import/); `--dry-run` prints that plan's report and needs no daemon. Otherwise the
 * daemon applies the plan in one transaction and answers with the report: counts per kind
 * (imported, skipped, already imported by an earlier run) and one warning per field it could not
 * carry. The reader loads better-sqlite3, so it is imported only when this command runs.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import {
  dryRunReport,
  IMPORT_FLAVORS,
  IMPORT_KINDS,
  maskPlan,
  type ImportFlavor,
  type ImportKind,
  type ImportReport,
  type PricesMode,
} from '../../shared/import-plan.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { UsageError, parseList } from '../parse.js';

interface ImportFlags {
  dryRun?: boolean;
  flavor?: ImportFlavor;
  only?: ImportKind[];
  quotaPerUnit?: number;
  mergeKeys?: boolean;
  prices: PricesMode;
  admins: 'unmetered' | 'metered';
  skipUsedCodes?: boolean;
}

/** An import takes as long as its rows: give the daemon up to 10 minutes to answer. */
const IMPORT_TIMEOUT_MS = 600_000;

function oneOf<T extends string>(what: string, allowed: readonly T[]): (input: string) => T {
  return (input) => {
    const s = input.trim().toLowerCase();
    const found = allowed.find((a) => a === s);
    if (found === undefined)
      throw new UsageError(`"${input}" is not a ${what}: one of ${allowed.join(', ')}`);
    return found;
  };
}

export function parseKinds(input: string): ImportKind[] {
  return parseList(input).map(oneOf('kind to import', IMPORT_KINDS));
}

export function parseQuotaPerUnit(input: string): number {
  const n = Number(input.trim());
  if (input.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(
      `"${input}" is not a quota per unit: a positive number, e.g. 500000 (One API's default)`,
    );
  }
  return n;
}

export function registerImport(program: Command, ctx: CliContext): void {
  const imp = program
    .command('import')
    .description('bring channels, keys, users and prices over from another gateway');

  imp
    .command('one-api')
    .description(
      'import a One API or New API SQLite database (read-only; stop One API first or import a copy of its .db, -wal and -shm files)',
    )
    .argument('<path>', 'the SQLite file (one-api.db)')
    .option('--dry-run', 'show what would be imported; write nothing (no daemon needed)')
    .option(
      '--flavor <flavor>',
      'one-api or new-api (default: detected)',
      arg(oneOf('flavor', IMPORT_FLAVORS)),
    )
    .option('--only <kinds>', `import only these: ${IMPORT_KINDS.join(',')}`, arg(parseKinds))
    .option(
      '--quota-per-unit <n>',
      "quota units per USD (default: the source's QuotaPerUnit, else 500000)",
      arg(parseQuotaPerUnit),
    )
    .option('--merge-keys', 'merge channels alike in all but their key into one multi-key channel')
    .option(
      '--prices <mode>',
      "source: the source's ratios replace prices set here; keep: leave those",
      arg(oneOf('prices mode', ['source', 'keep'] as const)),
      'source',
    )
    .option(
      '--admins <mode>',
      'unmetered: admins and root get no balance (only key budgets limit them); metered: they keep theirs',
      arg(oneOf('admins mode', ['unmetered', 'metered'] as const)),
      'unmetered',
    )
    .option('--skip-used-codes', 'leave out redemption codes already redeemed (default: imported as history)')
    .action(async (file: string, flags: ImportFlags) => {
      ctx.out.progress(`reading ${file}...`);
      if (!flags.dryRun && fs.existsSync(`${file}-wal`)) {
        ctx.out.warn(
          `${file}-wal exists: if One API is running, stop it first (or import a copy of the .db, -wal and -shm files)`,
        );
      }
      const { planFromFile } = await import('../import/plan.js');
      const plan = planFromFile(file, {
        flavor: flags.flavor,
        only: flags.only,
        quotaPerUnit: flags.quotaPerUnit,
        mergeKeys: flags.mergeKeys === true,
        prices: flags.prices,
        admins: flags.admins,
        skipUsedCodes: flags.skipUsedCodes === true,
      });
      const { renderImportReport } = await import('../import/report.js');
      if (flags.dryRun) {
        const report = dryRunReport(plan);
        ctx.out.result({ ...report, plan: maskPlan(plan) }, (s) => renderImportReport(report, s, plan));
        return;
      }
      ctx.out.progress(`importing ${plan.path}...`);
      const report = (await ctx.client(IMPORT_TIMEOUT_MS).importOneApi(plan)) as ImportReport;
      ctx.out.result(report, (s) => renderImportReport(report, s));
    });
}
