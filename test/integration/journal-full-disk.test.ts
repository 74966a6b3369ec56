/**
 * The settlement journal on a filesystem that fills up (a 256 KiB tmpfs; mounting needs root, as
 * CI runs; the test fails, never skips, where it cannot mount). A full disk takes part of a row's
 * line (a short write) and refuses the rest: that part must be cut off again, or the next row
 * acknowledged after space returns would share its line and be lost on replay. The probe the
 * store runs while failing says why it cannot write, and writes nothing that stays.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettleJournal, type JournalEntry } from '../../src/daemon/store/sqlite/journal.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';
import { settledRow } from '../support/log-row.js';

let dir: string;
let mounted = false;
const opened: SettleJournal[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-jfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    throw new Error(`cannot mount a tmpfs on ${dir} (needs root, as CI runs): ${(err as Error).message}`);
  }
});

afterEach(() => {
  for (const j of opened.splice(0)) j.close();
  if (mounted) execFileSync('umount', [dir], { stdio: 'pipe' });
  mounted = false;
  fs.rmSync(dir, { recursive: true, force: true });
});

// a long row, so the last one cannot fit whole in what is left of a page
const row = (request_id: string): NewLogRow =>
  settledRow(request_id, { time: '2026-12-07T07:00:00.000Z', dropped_fields: ['x'.repeat(1500)] });

/** Fills the filesystem: only what is left of pages already given to files can still be written. */
function fill(filler: string): void {
  const fd = fs.openSync(filler, 'w');
  for (const size of [64 << 10, 4 << 10]) {
    const buf = Buffer.alloc(size, 1);
    try {
      for (;;) fs.writeSync(fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
  }
  fs.closeSync(fd);
}

describe('the settlement journal on a full disk', () => {
  it('refuses a row whole, keeps every acknowledged row replayable, and recovers when space returns', () => {
    const file = path.join(dir, 'j.jsonl');
    // nothing is ever applied: every row stays in the file, as while the database is failing
    const journal = SettleJournal.open(file, (e) => e, 0);
    opened.push(journal);
    const acknowledged = [journal.append(row('first'))];
    fill(path.join(dir, 'filler'));
    let refused: unknown;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      try {
        acknowledged.push(journal.append(row(`r${i}`)));
      } catch (err) {
        refused = err;
      }
    }
    expect((refused as NodeJS.ErrnoException).code).toBe('ENOSPC');
    // the refused row left nothing behind: the file ends with a whole line
    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(acknowledged.length);

    expect(journal.probe()).toBe('no space left on device (ENOSPC)');
    const size = fs.statSync(file).size;
    fs.rmSync(path.join(dir, 'filler'));
    expect(journal.probe()).toBeNull();
    expect(fs.statSync(file).size).toBe(size);
    acknowledged.push(journal.append(row('after')));
    journal.close();

    const replayed: JournalEntry[] = [];
    const again = SettleJournal.open(file, (e) => (replayed.push(...e), []), 0);
    again.close();
    opened.length = 0;
    // the row that did not fit was partly written before the disk refused the rest
    expect(acknowledged.length).toBeGreaterThan(1);
    expect(replayed.map((e) => e.id)).toEqual(acknowledged);
    expect(replayed.at(-1)?.row.request_id).toBe('after');
  });
});
