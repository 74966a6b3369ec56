// The usage rollup's background job (store/usage-rollup.ts): first run soon after start, then
// every ten minutes with the time of the run, a failed run followed by the next one, nothing
// after stop.
import { afterEach, expect, it, vi } from 'vitest';
import pino from 'pino';
import { startUsageRollup } from '../../src/daemon/store/usage-rollup.js';
import type { Store } from '../../src/daemon/store/types.js';

afterEach(() => {
  vi.useRealTimers();
});

it('rolls up 30 s after start and every 10 minutes, keeps going after a failure, stops', async () => {
  vi.useFakeTimers({ now: Date.parse('2026-03-01T00:00:00.000Z') });
  const calls: number[] = [];
  const store = {
    rollUpUsage: async (now: number) => {
      calls.push(now);
      if (calls.length === 2) throw new Error('busy');
      return 1;
    },
  } as unknown as Store;
  const stop = startUsageRollup(store, pino({ level: 'silent' }));
  await vi.advanceTimersByTimeAsync(29_999);
  expect(calls).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(calls).toEqual([Date.parse('2026-03-01T00:00:30.000Z')]);
  await vi.advanceTimersByTimeAsync(20 * 60_000);
  expect(calls).toHaveLength(3);
  expect(calls[2]).toBe(Date.parse('2026-03-01T00:20:30.000Z'));
  await stop();
  await vi.advanceTimersByTimeAsync(60 * 60_000);
  expect(calls).toHaveLength(3);
});
