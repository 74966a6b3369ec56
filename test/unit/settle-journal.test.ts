/**
 * The settlement journal on its own: ids continue across reopenings, a torn last line (a crash
 * inside the write) is ignored, the file empties once everything is applied, and rows an apply
 * refuses stay pending for the next flush.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettleJournal, type JournalEntry } from '../../src/daemon/store/sqlite/journal.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';

let dir: string;
let file: string;
const row = (request_id: string): NewLogRow => ({ request_id }) as NewLogRow;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-journal-'));
  file = path.join(dir, 'j.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

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
});
