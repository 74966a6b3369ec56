/**
 * `bc logs -f` over several writers (LogFollower): a row whose id is below rows already printed
 * (another worker's or node's commit landing late) is still printed, once; nothing is printed
 * twice; more new rows than one page are all read in one poll; the memory of printed ids stays
 * bounded by the lookback.
 */
import { describe, expect, it } from 'vitest';
import { FOLLOW_LOOKBACK_IDS, LogFollower } from '../../src/cli/commands/logs.js';
import type { LogRow } from '../../src/shared/control-api.js';

const row = (id: number): LogRow => ({ id, request_id: `r${id}` }) as LogRow;

/** A log whose visible rows the test controls, answering as the control API does (after_id, limit, ascending). */
function table(ids: number[]): {
  add(...more: number[]): void;
  fetch(after: number, limit: number): Promise<LogRow[]>;
} {
  const visible = new Set(ids);
  return {
    add: (...more) => more.forEach((i) => visible.add(i)),
    fetch: async (after, limit) =>
      [...visible]
        .filter((i) => i > after)
        .sort((a, b) => a - b)
        .slice(0, limit)
        .map(row),
  };
}

describe('LogFollower', () => {
  it('prints a row committed late with a lower id, and nothing twice', async () => {
    const t = table([1, 2, 3]);
    const f = new LogFollower([1, 2, 3].map(row));
    // worker 0 (even ids) is ahead; worker 1's id 5 is not committed yet
    t.add(4, 6, 8);
    expect((await f.poll((a, l) => t.fetch(a, l))).map((r) => r.id)).toEqual([4, 6, 8]);
    t.add(5, 10);
    expect((await f.poll((a, l) => t.fetch(a, l))).map((r) => r.id)).toEqual([5, 10]);
    expect(await f.poll((a, l) => t.fetch(a, l))).toEqual([]);
  });

  it('a first poll takes in what was there before (what --limit left out), so the next one prints only what came since', async () => {
    const t = table([1, 2, 3, 4, 5]);
    // `bc logs -f --limit 1` printed row 5
    const f = new LogFollower([row(5)]);
    expect((await f.poll((a, l) => t.fetch(a, l))).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    t.add(6);
    expect((await f.poll((a, l) => t.fetch(a, l))).map((r) => r.id)).toEqual([6]);
  });

  it('reads every page of a burst in one poll', async () => {
    const t = table([]);
    const f = new LogFollower([]);
    t.add(...Array.from({ length: 2500 }, (_, i) => i + 1));
    const got = await f.poll((a, l) => t.fetch(a, l));
    expect(got).toHaveLength(2500);
    expect(got[2499]!.id).toBe(2500);
  });

  it('forgets printed ids below the lookback, and does not print them again', async () => {
    const t = table([]);
    const f = new LogFollower([]);
    const n = FOLLOW_LOOKBACK_IDS * 3;
    t.add(...Array.from({ length: n }, (_, i) => i + 1));
    expect(await f.poll((a, l) => t.fetch(a, l))).toHaveLength(n);
    t.add(n + 1);
    expect((await f.poll((a, l) => t.fetch(a, l))).map((r) => r.id)).toEqual([n + 1]);
    expect((f as unknown as { printed: Set<number> }).printed.size).toBeLessThanOrEqual(
      FOLLOW_LOOKBACK_IDS + 1,
    );
  });
});
