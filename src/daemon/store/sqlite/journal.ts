/**
 * The settlement journal: how a request's log row becomes durable without paying a SQLite commit
 * on the request path. `append` writes the row as one JSON line to an append-only file next to the
 * database (a single write(2): once it returns, the row survives SIGKILL of the process) and
 * assigns the row its final id; rows are applied to SQLite in batches shortly after, and before
 * any read that could see them. Applying is idempotent by id (INSERT OR IGNORE, spend added only
 * when the row was new), so replaying the journal after a crash can never count a row twice. The
 * file is emptied whenever everything in it has been applied. A write that fails (a full or
 * read-only disk) throws, and whatever part of it reached the file is cut off again, so the row
 * acknowledged next never shares a line with a torn one.
 */
import fs from 'node:fs';
import type { NewLogRow } from '../types.js';
import { describeWriteError } from '../write-health.js';

export interface JournalEntry {
  id: number;
  row: NewLogRow;
}

/**
 * Which ids this journal hands out: those with `id % stride === residue`. One process alone uses
 * every id (stride 1); the N workers of `--workers N` appending to one SQLite file each take their
 * own residue class, so two of them never assign the same id (applying is INSERT OR IGNORE by
 * id: a shared id would drop a row).
 */
export interface IdSpace {
  stride: number;
  residue: number;
}

/** Applies entries (already-present ones are skipped) and returns those it could not apply. */
export type ApplyBatch = (entries: JournalEntry[]) => JournalEntry[];

const FLUSH_DELAY_MS = 20;
const FLUSH_AT_ROWS = 512;
/** A page-sized line that replay skips (no id): the probe's test write, as large as a big row. */
const PROBE_LINE = `{"probe":"${'x'.repeat(4096 - 13)}"}\n`;

interface Waiter {
  id: number;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

export class SettleJournal {
  private pending: JournalEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastId: number;
  private readonly fd: number;
  /** bytes of whole lines in the file: a failed write is cut back to this */
  private size: number;
  /** a failed write could not be cut back: the next write starts a new line */
  private torn = false;
  /** a row was written in this turn of the event loop; later ones wait for the turn's end */
  private turnOpen = false;
  private queuedLines: string[] = [];
  private queuedEntries: JournalEntry[] = [];
  private waiters: Waiter[] = [];

  private constructor(
    file: string,
    private readonly apply: ApplyBatch,
    lastId: number,
    private readonly ids: IdSpace,
  ) {
    this.lastId = lastId;
    this.fd = fs.openSync(file, 'a', 0o600);
    // it holds request rows: the owner's alone, also when an older build left it readable
    try {
      fs.fchmodSync(this.fd, 0o600);
    } catch {
      // not ours to change (another owner): it opened, so it still works
    }
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Opens the journal, replaying what a crash left in it; `maxLoggedId` is the logs table's max id. */
  static open(
    file: string,
    apply: ApplyBatch,
    maxLoggedId: number,
    ids: IdSpace = { stride: 1, residue: 0 },
  ): SettleJournal {
    const left = readEntries(file);
    const lastId = left.reduce((m, e) => Math.max(m, e.id), maxLoggedId);
    const journal = new SettleJournal(file, apply, lastId, ids);
    if (left.length > 0) {
      journal.pending = left;
      journal.flush();
    } else journal.empty();
    return journal;
  }

  /**
   * Lets later ids start above `id` (the highest in the database, other workers' rows included),
   * so the ids of N workers stay about as ordered as their rows' times.
   */
  raiseTo(id: number): void {
    if (id > this.lastId) this.lastId = id;
  }

  /** The smallest id above every id seen so far that is in this journal's id space. */
  private nextId(): number {
    const { stride, residue } = this.ids;
    const above = this.lastId + 1;
    this.lastId = above + ((((residue - above) % stride) + stride) % stride);
    return this.lastId;
  }

  /** Makes the row durable now and returns its id (its id in the logs table once applied). */
  append(row: NewLogRow): number {
    const id = this.nextId();
    this.writeOut(journalLine(id, row));
    this.written({ id, row });
    return id;
  }

  /**
   * Resolves with the row's id once the row is durable. The first row of a turn of the event loop
   * is written at once, as `append` does, so a lone request waits for nothing; rows settled later
   * in the same turn (many responses completing together under load) share one write at the end
   * of the turn instead of a system call each.
   */
  settle(row: NewLogRow): Promise<number> {
    if (!this.turnOpen) {
      const id = this.append(row);
      this.turnOpen = true;
      setImmediate(this.endTurn);
      return Promise.resolve(id);
    }
    const id = this.nextId();
    this.queuedLines.push(journalLine(id, row));
    this.queuedEntries.push({ id, row });
    return new Promise((resolve, reject) => this.waiters.push({ id, resolve, reject }));
  }

  /** Writes the rows queued during the turn in one write, then lets their requests finish. */
  private readonly endTurn = (): void => {
    this.turnOpen = false;
    if (this.waiters.length === 0) return;
    const lines = this.queuedLines;
    const entries = this.queuedEntries;
    const waiters = this.waiters;
    this.queuedLines = [];
    this.queuedEntries = [];
    this.waiters = [];
    try {
      this.writeOut(lines.join(''));
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const e of entries) this.written(e);
    for (const w of waiters) w.resolve(w.id);
  };

  private written(entry: JournalEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= FLUSH_AT_ROWS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
  }

  /** Applies everything pending; rows that fail stay pending (and in the file) for the next flush. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.pending = this.apply(this.pending);
    if (this.pending.length === 0) this.empty();
  }

  /**
   * Appends `text` whole or not at all. A full disk may take part of a write (a short write, then
   * ENOSPC on the rest): that part is cut off again before the error is thrown.
   */
  private writeOut(text: string): void {
    const data = this.torn ? `\n${text}` : text;
    const bytes = Buffer.byteLength(data);
    try {
      let done = fs.writeSync(this.fd, data);
      if (done < bytes) {
        const buf = Buffer.from(data);
        while (done < bytes) done += fs.writeSync(this.fd, buf, done);
      }
    } catch (err) {
      this.cutBack(this.size);
      throw err;
    }
    this.size = this.torn ? fs.fstatSync(this.fd).size : this.size + bytes;
    this.torn = false;
  }

  /** Cuts the file back to `size` bytes; if even that fails, the next write starts a new line. */
  private cutBack(size: number): void {
    try {
      fs.ftruncateSync(this.fd, size);
      this.size = size;
    } catch {
      this.torn = true;
    }
  }

  /** Everything is applied: the file may start over (if it cannot be cut, replay is harmless). */
  private empty(): void {
    try {
      fs.ftruncateSync(this.fd, 0);
      this.size = 0;
      this.torn = false;
    } catch {
      // the rows stay in the file, already applied: a replay skips them by id
    }
  }

  /**
   * Tries a real write as large as a big row and cuts it off again: null when the journal can
   * take rows, else why not (a full or read-only disk). The store's probe while failing.
   */
  probe(): string | null {
    const before = this.size;
    try {
      this.writeOut(PROBE_LINE);
    } catch (err) {
      return describeWriteError(err);
    }
    this.cutBack(before);
    return null;
  }

  /** Rows written but not yet in the database (a failing apply keeps them here). */
  get backlog(): number {
    return this.pending.length;
  }

  /** Applies what it can and closes the file; unapplied rows stay in it for the next open. */
  close(): void {
    try {
      this.endTurn();
      this.flush();
    } finally {
      fs.closeSync(this.fd);
    }
  }
}

/** Printable ASCII without `"` and `\\`: such a string is its own JSON body. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const str = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));
const nstr = (s: string | null): string => (s === null ? 'null' : str(s));
// JSON has no NaN or Infinity: like JSON.stringify, they become null
const num = (n: number | null): string => (n !== null && Number.isFinite(n) ? `${n}` : 'null');

/**
 * The journal line of a row: exactly what `JSON.stringify({ id, row })` gives (a unit test holds
 * them equal after parsing), written field by field because this runs before the last byte of
 * every response.
 */
export function journalLine(id: number, r: NewLogRow): string {
  const dropped = r.dropped_fields.length === 0 ? '[]' : JSON.stringify(r.dropped_fields);
  // absent (not null) stays absent, as JSON.stringify leaves it
  const clamped =
    r.max_tokens_clamped === undefined ? '' : `,"max_tokens_clamped":${num(r.max_tokens_clamped)}`;
  return (
    `{"id":${num(id)},"row":{"request_id":${str(r.request_id)},"time":${str(r.time)},` +
    `"key":${nstr(r.key)},"key_id":${num(r.key_id)},"channel":${nstr(r.channel)},` +
    `"channel_id":${num(r.channel_id)},"model":${str(r.model)},"upstream_model":${nstr(r.upstream_model)},` +
    `"endpoint":${str(r.endpoint)},"status":${num(r.status)},"error":${nstr(r.error)},` +
    `"input_tokens":${num(r.input_tokens)},"cached_tokens":${num(r.cached_tokens)},` +
    `"cache_write_tokens":${num(r.cache_write_tokens)},"output_tokens":${num(r.output_tokens)},` +
    `"reasoning_tokens":${num(r.reasoning_tokens)},"cost":${num(r.cost)},` +
    `"usage_estimated":${r.usage_estimated ? 'true' : 'false'},"latency_ms":${num(r.latency_ms)},` +
    `"ttft_ms":${num(r.ttft_ms)},"retries":${num(r.retries)},"stream":${r.stream ? 'true' : 'false'},` +
    `"dropped_fields":${dropped}${clamped}}}\n`
  );
}

/** Entries of a journal file; a torn last line (the process died inside the write) is ignored. */
export function readEntries(file: string): JournalEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (Number.isInteger(e.id) && e.row && typeof e.row === 'object') out.push(e);
    } catch {
      // torn write
    }
  }
  return out;
}
