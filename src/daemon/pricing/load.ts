/**
 * Start-up check of everything prices are read from, so a broken install fails at start with a
 * reason instead of leaving models unpriced at the first request: the catalog package and its
 * version, the output-limit package, and our supplement file. It only finds the packages; their
 * data is read at the first price or limit lookup (catalog.ts, output-limits.ts), so an idle
 * daemon does not hold it.
 */
import { createRequire } from 'node:module';
import { BcError } from '../../shared/errors.js';
import { CATALOG_PACKAGE, catalogVersion } from './catalog.js';
import { OUTPUT_LIMITS_PACKAGE } from './output-limits.js';
import { supplement } from './supplement.js';

export function loadPricing(): void {
  try {
    catalogVersion();
  } catch (e) {
    throw notInstalled(`price catalog ${CATALOG_PACKAGE}`, e);
  }
  try {
    createRequire(import.meta.url).resolve(OUTPUT_LIMITS_PACKAGE);
  } catch (e) {
    throw notInstalled(`output-limit data ${OUTPUT_LIMITS_PACKAGE}`, e);
  }
  supplement();
}

function notInstalled(what: string, e: unknown): BcError {
  return new BcError(
    'STARTUP_FAILED',
    `${what} is not installed or unreadable (${e instanceof Error ? e.message : String(e)}): reinstall with \`npm ci\``,
  );
}
