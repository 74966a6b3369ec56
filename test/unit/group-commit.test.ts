/**
 * Group commit: settlements submitted in the same event-loop turn are written by one call, every
 * caller resolves with its own id only after that write, and a failing batch falls back to one
 * write per item so a single bad item fails alone.
 */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/daemon/store/sqlite/group-commit.js';

describe('GroupCommit', () => {
  it('writes items of one turn together and resolves each with its id', async () => {
    const batches: number[][] = [];
    let next = 1;
    const gc = new GroupCommit<number>(
      (items) => {
        batches.push(items);
        return items.map(() => next++);
      },
      () => next++,
    );
    const ids = await Promise.all([gc.submit(10), gc.submit(20), gc.submit(30)]);
    expect(ids).toEqual([1, 2, 3]);
    expect(batches).toEqual([[10, 20, 30]]);
    expect(await gc.submit(40)).toBe(4);
    expect(batches).toEqual([[10, 20, 30], [40]]);
  });

  it('does not resolve before the write happened', async () => {
    let written = false;
    const gc = new GroupCommit<string>(
      (items) => {
        written = true;
        return items.map((_, i) => i);
      },
      () => 0,
    );
    const p = gc.submit('a');
    await Promise.resolve();
    expect(written).toBe(false);
    await p;
    expect(written).toBe(true);
  });

  it('retries a failed batch item by item so only the bad item fails', async () => {
    const gc = new GroupCommit<string>(
      () => {
        throw new Error('batch failed');
      },
      (item) => {
        if (item === 'bad') throw new Error('bad row');
        return item.length;
      },
    );
    const results = await Promise.allSettled([gc.submit('ok'), gc.submit('bad'), gc.submit('fine')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<number>).value).toBe(2);
  });
});
