/**
 * The background job of the usage rollups (store/sqlite/rollups.ts): every few minutes, and
 * shortly after start, aged minute buckets move into hours and aged hours into days, one hour or
 * day per transaction, so the buckets a usage read walks stay few. Usage answers the same
 * whether the job has run or not; a failed run changes nothing and the next one tries again.
 * Safe on several daemons at once (each move deletes what it adds; see postgres/rollups.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from './types.js';

/** Between two runs: an hour of minutes becomes movable once an hour, so this is plenty. */
const INTERVAL_MS = 10 * 60_000;
/** The first run after start. */
const FIRST_RUN_MS = 30_000;

/** Starts the job; the function returned stops it, waiting for a run under way. */
export function startUsageRollup(store: Store, logger: FastifyBaseLogger): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async (): Promise<void> => {
    try {
      const moved = await store.rollUpUsage(Date.now());
      if (moved > 0) logger.info({ moved }, 'usage rollup: hours and days rolled up');
    } catch (err) {
      if (!stopped) logger.warn({ err }, 'usage rollup failed');
    }
    schedule(INTERVAL_MS);
  };
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run();
    }, ms);
    timer.unref();
  };
  schedule(FIRST_RUN_MS);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
