/**
 * Follows the daemon's metrics stream for as long as the caller wants, outliving the daemon: when
 * the stream fails, ends, or goes quiet (a half-open socket after a crash sends nothing and never
 * errors), it reports "reconnecting" and tries again with backoff, so `bc top` picks the daemon up
 * again by itself after a restart. Plain async code, so it is tested without React.
 */
import { isMetricsSnapshot, type MetricsSnapshot } from '../../shared/metrics-types.js';
import { errorText, type MetricsSource } from '../client.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

export interface FollowOptions {
  /** waits between attempts; the last repeats */
  backoffMs?: readonly number[];
  /** a stream silent this long is dropped and reopened */
  staleMs?: number;
}

export interface FollowHandlers {
  snapshot(s: MetricsSnapshot): void;
  connection(c: Connection, reason: string | null): void;
}

export const DEFAULT_BACKOFF_MS = [250, 500, 1000, 2000] as const;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** One connection: resolves with why it ended (null when the caller aborted). */
async function followOnce(
  source: MetricsSource,
  on: FollowHandlers,
  signal: AbortSignal,
  staleMs: number,
): Promise<{ reason: string | null; received: boolean }> {
  const inner = new AbortController();
  const abortInner = () => inner.abort();
  signal.addEventListener('abort', abortInner, { once: true });
  let watchdog = setTimeout(abortInner, staleMs);
  let received = false;
  try {
    for await (const doc of source.metricsStream(inner.signal)) {
      if (!isMetricsSnapshot(doc)) continue;
      clearTimeout(watchdog);
      watchdog = setTimeout(abortInner, staleMs);
      received = true;
      on.snapshot(doc);
    }
    if (signal.aborted) return { reason: null, received };
    return {
      reason: inner.signal.aborted ? 'no data from the daemon' : 'the daemon closed the stream',
      received,
    };
  } catch (err) {
    return { reason: signal.aborted ? null : errorText(err), received };
  } finally {
    clearTimeout(watchdog);
    signal.removeEventListener('abort', abortInner);
  }
}

export async function followMetrics(
  source: MetricsSource,
  on: FollowHandlers,
  signal: AbortSignal,
  opts: FollowOptions = {},
): Promise<void> {
  const backoff = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
  const staleMs = opts.staleMs ?? 5000;
  let attempt = 0;
  while (!signal.aborted) {
    const { reason, received } = await followOnce(source, on, signal, staleMs);
    if (signal.aborted || reason === null) return;
    if (received) attempt = 0;
    on.connection('reconnecting', reason);
    await sleep(backoff[Math.min(attempt, backoff.length - 1)] ?? 1000, signal);
    attempt++;
  }
}
