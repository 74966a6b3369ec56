/**
 * The daemon's own health beyond "the process answers": whether the store can record requests
 * (a full or read-only disk makes the gateway refuse work with 503 store_unavailable) and how
 * many log lines were dropped because the log could not be written. `bc status`, `/readyz` and
 * `/metrics` all read it from here, so they always agree.
 */
import type { StoreFault } from '../store/write-health.js';
import type { Store } from '../store/types.js';
import { droppedLogLines } from './logger.js';

export interface DaemonHealth {
  storeFault: StoreFault | null;
  logLinesDropped: number;
  /** the code of the last failed log write (ENOSPC...), null if none failed */
  logError: string | null;
}

export function daemonHealth(services: { store: Store; logger: object }): DaemonHealth {
  const log = droppedLogLines(services.logger);
  return { storeFault: services.store.writeFault(), logLinesDropped: log.dropped, logError: log.error };
}

/** The health as Prometheus text (format 0.0.4), appended to the gateway's /metrics. */
export function daemonHealthPrometheus(h: DaemonHealth): string {
  return [
    '# HELP bc_store_writable 1 while the store records requests; 0 while it cannot write and requests get 503 store_unavailable.',
    '# TYPE bc_store_writable gauge',
    `bc_store_writable ${h.storeFault ? 0 : 1}`,
    '# HELP bc_log_lines_dropped_total Log lines dropped because the log could not be written (e.g. a full disk).',
    '# TYPE bc_log_lines_dropped_total counter',
    `bc_log_lines_dropped_total ${h.logLinesDropped}`,
    '',
  ].join('\n');
}
