/**
 * Log retention (SPEC section 7, BC_LOG_RETENTION): rows older than the retention period are
 * deleted in the background, a few minutes apart (and shortly after start), in batches of
 * PRUNE_BATCH rows, one short transaction each, with a turn of the event loop between batches so
 * requests keep being served (SQLite runs on the event loop). `bc logs prune` (the control route)
 * uses the same loop, bounded per call. Spend, balances and usage rollups are not sums over log
 * rows, so pruning moves no money and loses no usage.
 */
import type { FastifyBaseLogger } from 'fastify';
import { BcError } from '../../shared/errors.js';
import { parseDuration } from '../../cli/parse.js';
import type { Store } from './types.js';

export const DEFAULT_LOG_RETENTION = '90d';
/**
 * Rows per transaction. Measured on the test machine (SQLite, 60,000 rows, 2 shared cores):
 * 1,000 rows 3-5 ms, 2,000 rows 4-5 ms, 5,000 rows 15-16 ms; 1,000 keeps each stall to a few ms.
 */
export const PRUNE_BATCH = 1000;
/** The longest pause between two background runs. */
const MAX_INTERVAL_MS = 5 * 60_000;
/** The first run after start. */
const FIRST_RUN_MS = 10_000;

/** BC_LOG_RETENTION -> milliseconds, or null (`0`: keep every row). */
export function retentionFromEnv(env: NodeJS.ProcessEnv): number | null {
  const v = env.BC_LOG_RETENTION;
  const text = v === undefined || v.trim() === '' ? DEFAULT_LOG_RETENTION : v.trim();
  if (text === '0') return null;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    ms = Number.NaN;
  }
  if (!(ms > 0))
    throw new BcError(
      'STARTUP_FAILED',
      `BC_LOG_RETENTION must be a duration such as 90d, 12h or 30m, or 0 to keep every row, got "${v}"`,
    );
  return ms;
}

export interface PruneProgress {
  deleted: number;
  /** rows before the cutoff may remain (`maxRows` was reached, or the run was stopped) */
  more: boolean;
}

/**
 * Deletes rows with a time before `beforeIso`, PRUNE_BATCH at a time, yielding between batches,
 * until none is left, `maxRows` went or `stopped` says so; then gives the space back when the
 * prune is complete.
 */
export async function pruneBefore(
  store: Store,
  beforeIso: string,
  opts: { maxRows?: number; batch?: number; stopped?: () => boolean } = {},
): Promise<PruneProgress> {
  const batch = opts.batch ?? PRUNE_BATCH;
  const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
  let deleted = 0;
  let more = false;
  for (;;) {
    const n = await store.pruneLogs(beforeIso, Math.min(batch, maxRows - deleted));
    deleted += n;
    if (n === 0) break;
    more = deleted >= maxRows || opts.stopped?.() === true;
    if (more) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!more && deleted > 0) await store.reclaimLogSpace();
  return { deleted, more };
}

/** The background run: every `retention / 2` up to five minutes; the first one soon after start. */
export function startRetention(
  store: Store,
  retentionMs: number,
  logger: FastifyBaseLogger,
): () => Promise<void> {
  const intervalMs = Math.max(1000, Math.min(MAX_INTERVAL_MS, Math.floor(retentionMs / 2)));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async (): Promise<void> => {
    try {
      const before = new Date(Date.now() - retentionMs).toISOString();
      const { deleted } = await pruneBefore(store, before, { stopped: () => stopped });
      if (deleted > 0) logger.info({ deleted }, 'log retention: old rows deleted');
    } catch (err) {
      // a busy or failing store: the next run tries again
      if (!stopped) logger.warn({ err }, 'log retention failed');
    }
    schedule(intervalMs);
  };
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run();
    }, ms);
    timer.unref();
  };
  schedule(Math.min(FIRST_RUN_MS, intervalMs));
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
