/**
 * Start-up check of everything prices are read from, so a broken install fails at start with a
 * reason instead of leaving models unpriced at the first request: the catalog package and its
 * version, the output-limit package, and our supplement file.
 */
import { BcError } from '../../shared/errors.js';
import { CATALOG_PACKAGE, catalogVersion } from './catalog.js';
import { loadOutputLimits } from './output-limits.js';
import { supplement } from './supplement.js';

export function loadPricing(): void {
  try {
    catalogVersion();
  } catch (e) {
    throw new BcError(
      'STARTUP_FAILED',
      `price catalog ${CATALOG_PACKAGE} is not installed or unreadable (${e instanceof Error ? e.message : String(e)}): reinstall with \`npm ci\``,
    );
  }
  supplement();
  loadOutputLimits();
}
