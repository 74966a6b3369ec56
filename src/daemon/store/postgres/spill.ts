/**
 * Settled requests while PostgreSQL cannot take them (SPEC section 9: "rows wait in the node's
 * journal and are applied once it returns, never twice"). A settlement normally commits straight
 * to PostgreSQL before the response ends (PgLogTable.settle). When that fails or does not answer
 * in time, the row is written to a local append-only file beside the node's home, one line in one
 * write(2) (the settlement journal's format, sqlite/journal.ts), and the request counts as settled:
 * the row survives SIGKILL from then on. A drain retries the spilled rows in order every
 * `retryMs` and empties the file once all are in. Replaying is safe because PostgreSQL settles by
 * request id (ON CONFLICT DO NOTHING, charged only when inserted): a row whose first attempt did
 * commit but whose reply was lost is not charged again.
 */
import fs from 'node:fs';
import type { NewLogRow, SpendAfter } from '../types.js';
import { journalLine, readEntries } from '../sqlite/journal.js';

/** Settles one row in PostgreSQL; resolves with its log id. */
export type SettleRow = (row: NewLogRow, after?: SpendAfter) => Promise<number>;

export interface SpillOptions {
  /** how long a settlement may take before its row is spilled (default 2 s) */
  settleTimeoutMs?: number;
  /** how often the drain retries while rows wait (default 1 s) */
  retryMs?: number;
  /** told when the backlog changes (for /readyz and metrics) */
  onBacklog?: (rows: number) => void;
}

export class SettleSpill {
  private pending: NewLogRow[] = [];
  private readonly fd: number;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly settleRow: SettleRow,
    private readonly opts: SpillOptions,
  ) {
    this.pending = readEntries(file).map((e) => e.row);
    this.fd = fs.openSync(file, 'a', 0o600);
    if (this.pending.length > 0) this.schedule(0);
  }

  /** Opens the spill file, replaying (in the background) what an earlier run left in it. */
  static open(file: string, settleRow: SettleRow, opts: SpillOptions = {}): SettleSpill {
    return new SettleSpill(file, settleRow, opts);
  }

  /**
   * Settles the row in PostgreSQL, or, when that fails or takes too long, makes it durable here.
   * Resolves with the row's log id, or 0 when spilled (the id comes when it is applied). Rejects
   * only when neither works (the local disk failed too). `after` is filled only when PostgreSQL
   * took the row (Store.settle).
   */
  async settle(row: NewLogRow, after?: SpendAfter): Promise<number> {
    // rows already waiting go first: a newer row must not overtake them into the database
    if (this.pending.length === 0) {
      try {
        return await withTimeout(this.settleRow(row, after), this.opts.settleTimeoutMs ?? 2000);
      } catch {
        // PostgreSQL unreachable, failing or too slow: keep the row here
      }
    }
    this.spill(row);
    return 0;
  }

  /** Rows waiting for PostgreSQL. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Applies the waiting rows now (tests, and shutdown); resolves when this attempt is over. */
  async drain(): Promise<void> {
    if (this.draining) return this.draining;
    this.draining = this.drainOnce().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
    fs.closeSync(this.fd);
  }

  private spill(row: NewLogRow): void {
    // one write: once it returns, the row is on the disk's side of the process
    fs.writeSync(this.fd, journalLine(0, row));
    this.pending.push(row);
    this.opts.onBacklog?.(this.pending.length);
    this.schedule(this.opts.retryMs ?? 1000);
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, ms);
    this.timer.unref();
  }

  private async drainOnce(): Promise<void> {
    while (this.pending.length > 0) {
      const row = this.pending[0]!;
      try {
        await withTimeout(this.settleRow(row), this.opts.settleTimeoutMs ?? 2000);
      } catch {
        this.schedule(this.opts.retryMs ?? 1000);
        return;
      }
      this.pending.shift();
      // every row in the file is in the database: start the file afresh
      if (this.pending.length === 0) fs.ftruncateSync(this.fd, 0);
      this.opts.onBacklog?.(this.pending.length);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
