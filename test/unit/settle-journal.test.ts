/**
 * The settlement journal on its own: ids continue across reopenings, a torn last line (a crash
 * inside the write) is ignored, the file empties once everything is applied, and rows an apply
 * refuses stay pending for the next flush.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { journalLine, SettleJournal, type JournalEntry } from '../../src/daemon/store/sqlite/journal.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';
import { settledRow } from '../support/log-row.js';

let dir: string;
let file: string;
const row = settledRow;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-journal-'));
  file = path.join(dir, 'j.jsonl');
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SettleJournal', () => {
  it('writes a line per row at once, applies them in one batch, then empties the file', () => {
    const applied: JournalEntry[][] = [];
    const j = SettleJournal.open(file, (e) => (applied.push(e), []), 7);
    expect(j.append(row('a'))).toBe(8);
    expect(j.append(row('b'))).toBe(9);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    j.flush();
    expect(applied.map((b) => b.map((e) => e.id))).toEqual([[8, 9]]);
    expect(fs.statSync(file).size).toBe(0);
    j.close();
  });

  it('replays what a crash left, ignoring a torn last line, and continues the ids', () => {
    fs.writeFileSync(
      file,
      `${JSON.stringify({ id: 3, row: row('x') })}\n${JSON.stringify({ id: 4, row: row('y') })}\n{"id":5,"ro`,
    );
    const applied: number[] = [];
    const j = SettleJournal.open(file, (e) => (applied.push(...e.map((x) => x.id)), []), 2);
    expect(applied).toEqual([3, 4]);
    expect(j.append(row('z'))).toBe(5);
    j.close();
  });

  it('keeps rows an apply refuses, in memory and in the file, until a flush succeeds', () => {
    let refuse = true;
    const applied: number[] = [];
    const j = SettleJournal.open(
      file,
      (entries) => {
        if (refuse) return entries;
        applied.push(...entries.map((e) => e.id));
        return [];
      },
      0,
    );
    j.append(row('a'));
    j.flush();
    expect(j.backlog).toBe(1);
    expect(fs.statSync(file).size).toBeGreaterThan(0);
    refuse = false;
    j.flush();
    expect(applied).toEqual([1]);
    expect(j.backlog).toBe(0);
    j.close();
  });

  it('writes each row as the same JSON as JSON.stringify, whatever its strings and numbers hold', () => {
    const rows: NewLogRow[] = [
      row('plain'),
      row('nulls', {
        key: null,
        key_id: null,
        channel: null,
        channel_id: null,
        upstream_model: null,
        cost: null,
      }),
      row('quote "and" back\\slash', {
        model: 'm\u00e9t\u00e9o \u6a21\u578b \u{1F600}',
        error: 'line\nbreak\ttab\u0001',
      }),
      row('flags', { usage_estimated: true, stream: true, ttft_ms: 12.5, dropped_fields: ['top_k', 'x"y'] }),
      row('odd numbers', {
        cost: 0.1 + 0.2,
        latency_ms: 1e21,
        input_tokens: Number.NaN,
        output_tokens: Infinity,
      }),
      row('\u2028\u2029 separators and \ud800 a lone surrogate', { endpoint: '/v1/messages?x=<script>' }),
    ];
    for (const [i, r] of rows.entries()) {
      const line = journalLine(i + 1, r);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify({ id: i + 1, row: r })));
    }
  });

  it('writes the first row of a loop turn at once and the rest of the turn together, each durable before it resolves', async () => {
    // an apply that keeps everything pending, so the file is never emptied under the test
    const j = SettleJournal.open(file, (e) => e, 0);
    const lines = (): string[] => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const durable: number[][] = [];
    const settled = ['a', 'b', 'c', 'd'].map((r) =>
      j.settle(row(r)).then((id) => {
        // the promise resolves only once its own line is in the file
        durable.push([id, lines().filter((l) => (JSON.parse(l) as JournalEntry).id === id).length]);
        return id;
      }),
    );
    // the first is written synchronously; the other three wait for the end of this turn
    expect(lines()).toHaveLength(1);
    expect(await Promise.all(settled)).toEqual([1, 2, 3, 4]);
    expect(lines().map((l) => (JSON.parse(l) as JournalEntry).row.request_id)).toEqual(['a', 'b', 'c', 'd']);
    expect(durable).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    // a later turn starts again with an immediate write
    await new Promise((r) => setImmediate(r));
    void j.settle(row('e'));
    expect(lines()).toHaveLength(5);
    j.close();
  });

  it('close() writes what the turn still holds', async () => {
    const j = SettleJournal.open(file, (e) => e, 0);
    const first = j.settle(row('a'));
    const second = j.settle(row('b'));
    j.close();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

describe('SettleJournal: exact bytes, batches and failures', () => {
  const text = (): string => fs.readFileSync(file, 'utf8');
  const recorder = () => {
    const batches: JournalEntry[][] = [];
    return { batches, apply: (e: JournalEntry[]) => (batches.push(e), []) };
  };

  it('writes exactly the row lines, nothing before them, also after the file was emptied', () => {
    const { apply } = recorder();
    const j = SettleJournal.open(file, apply, 0);
    j.append(row('a'));
    expect(text()).toBe(journalLine(1, row('a')));
    j.flush();
    expect(text()).toBe('');
    j.append(row('b'));
    expect(text()).toBe(journalLine(2, row('b')));
    j.close();
  });

  it('applies exactly the rows of each turn, and does not call apply with nothing pending', async () => {
    const { batches, apply } = recorder();
    const j = SettleJournal.open(file, apply, 0);
    j.flush();
    expect(batches).toEqual([]);
    for (const turn of [
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]) {
      await Promise.all(turn.map((r) => j.settle(row(r))));
      j.flush();
      await new Promise((r) => setImmediate(r));
    }
    expect(batches.map((b) => b.map((e) => [e.id, e.row.request_id]))).toEqual([
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ],
      [
        [4, 'd'],
        [5, 'e'],
      ],
    ]);
    j.close();
  });

  it('applies at once when 512 rows are pending, not before', () => {
    const { batches, apply } = recorder();
    const j = SettleJournal.open(file, apply, 0);
    for (let i = 0; i < 511; i++) j.append(row(`r${i}`));
    expect(batches).toHaveLength(0);
    j.append(row('r511'));
    expect(batches.map((b) => b.length)).toEqual([512]);
    expect(j.backlog).toBe(0);
    j.close();
  });

  it('finishes a short write, so the line is whole', () => {
    const real = fs.writeSync.bind(fs) as (fd: number, data: string | Buffer, offset?: number) => number;
    const spy = vi.spyOn(fs, 'writeSync');
    // the disk takes 10 bytes, then 7 more, then the rest
    spy.mockImplementationOnce((fd, data) => real(fd, String(data).slice(0, 10)));
    spy.mockImplementationOnce((fd, data, offset) =>
      real(fd, (data as unknown as Buffer).subarray(0, (offset as number) + 7), offset as number),
    );
    const { batches, apply } = recorder();
    const j = SettleJournal.open(file, apply, 0);
    j.append(row('a'));
    expect(text()).toBe(journalLine(1, row('a')));
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockRestore();
    j.append(row('b'));
    expect(text()).toBe(journalLine(1, row('a')) + journalLine(2, row('b')));
    j.flush();
    expect(batches.map((b) => b.length)).toEqual([2]);
    j.close();
  });

  it('cuts off what a failed write left, and starts a new line when even that fails', () => {
    const real = fs.writeSync.bind(fs) as (fd: number, data: string) => number;
    const j = SettleJournal.open(file, (e) => e, 0);
    j.append(row('a'));
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const write = vi.spyOn(fs, 'writeSync').mockImplementationOnce((fd, data) => {
      real(fd, String(data).slice(0, 25));
      throw full;
    });
    expect(() => j.append(row('b'))).toThrow(full);
    expect(text()).toBe(journalLine(1, row('a')));
    // the torn part cannot be cut off either: the next row starts on a line of its own
    write.mockImplementationOnce((fd, data) => {
      real(fd, String(data).slice(0, 25));
      throw full;
    });
    vi.spyOn(fs, 'ftruncateSync').mockImplementationOnce(() => {
      throw full;
    });
    expect(() => j.append(row('c'))).toThrow(full);
    j.append(row('d'));
    const lines = text().split('\n');
    expect(lines[0]).toBe(journalLine(1, row('a')).trimEnd());
    expect(lines[1]).toBe(journalLine(3, row('c')).slice(0, 25));
    expect(lines[2]).toBe(journalLine(4, row('d')).trimEnd());
    j.close();
    // a replay finds the whole rows and skips the torn one
    const replayed: number[] = [];
    SettleJournal.open(file, (e) => (replayed.push(...e.map((x) => x.id)), []), 0).close();
    expect(replayed).toEqual([1, 4]);
  });

  it('rejects every row of a turn whose shared write failed', async () => {
    const j = SettleJournal.open(file, (e) => e, 0);
    const first = j.settle(row('a'));
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    vi.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw full;
    });
    const queued = [j.settle(row('b')), j.settle(row('c'))];
    expect(await first).toBe(1);
    await expect(Promise.all(queued)).rejects.toBe(full);
    expect(text()).toBe(journalLine(1, row('a')));
    expect(j.backlog).toBe(1);
    j.close();
  });

  it('replays only lines with an integer id and a row object (not the probe line)', () => {
    fs.writeFileSync(
      file,
      [
        `{"probe":"${'x'.repeat(40)}"}`,
        JSON.stringify({ id: 1, row: row('a') }),
        JSON.stringify({ id: 2, row: 'not a row' }),
        JSON.stringify({ id: '3', row: row('c') }),
        JSON.stringify({ id: 4.5, row: row('d') }),
        JSON.stringify({ id: 5, row: null }),
        JSON.stringify({ id: 6 }),
        '',
        JSON.stringify({ id: 7, row: row('g') }),
      ].join('\n') + '\n',
    );
    const replayed: JournalEntry[] = [];
    const j = SettleJournal.open(file, (e) => (replayed.push(...e), []), 0);
    expect(replayed.map((e) => [e.id, e.row.request_id])).toEqual([
      [1, 'a'],
      [7, 'g'],
    ]);
    expect(j.append(row('h'))).toBe(8);
    j.close();
  });

  it('empties a file that holds no row on opening, so a torn tail never joins the next line', () => {
    fs.writeFileSync(file, '{"id":5,"ro');
    const j = SettleJournal.open(file, (e) => e, 0);
    j.append(row('a'));
    expect(text()).toBe(journalLine(1, row('a')));
    j.close();
  });

  it('close() applies what is pending at once', () => {
    const { batches, apply } = recorder();
    const j = SettleJournal.open(file, apply, 0);
    j.append(row('a'));
    j.close();
    expect(batches.map((b) => b.map((e) => e.id))).toEqual([[1]]);
  });

  it('probes with a write it takes back: null when the disk takes it, else the reason', () => {
    const j = SettleJournal.open(file, (e) => e, 0);
    j.append(row('a'));
    expect(j.probe()).toBeNull();
    expect(text()).toBe(journalLine(1, row('a')));
    vi.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    });
    expect(j.probe()).toMatch(/ENOSPC/);
    expect(text()).toBe(journalLine(1, row('a')));
    j.close();
  });

  it('writes the lowered limit a row carries, null when not lowered, nothing when absent', () => {
    expect(JSON.parse(journalLine(1, row('a', { max_tokens_clamped: 700 })))).toMatchObject({
      row: { max_tokens_clamped: 700 },
    });
    expect(JSON.parse(journalLine(1, row('a', { max_tokens_clamped: null })))).toMatchObject({
      row: { max_tokens_clamped: null },
    });
    expect(journalLine(1, row('a'))).not.toContain('max_tokens_clamped');
  });
});
