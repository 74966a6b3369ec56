/**
 * Group commit of settlements on PostgreSQL (SCALEOUT.md 2(e)). A settlement must be committed
 * before its response ends (SPEC section 7), and one transaction per request spends most of its
 * time waiting for the commit's WAL flush; settlements that arrive together share one instead.
 * A settlement waits only for the next event-loop turn, or, while `maxInFlight` batches are
 * committing, for one of them to finish: at low load a row goes alone at once, and under load
 * the queue that builds during a commit becomes the next batch (at most `maxRows` rows).
 *
 * One batch is one transaction: a multi-row INSERT (one prepared statement whatever the batch
 * size: the columns go in as arrays through unnest) with ON CONFLICT (request_id) DO NOTHING
 * RETURNING, then one increment per user and per key over the rows actually inserted, so a
 * request id already logged (a replay, another daemon's copy, or a repeat inside the batch) is
 * charged nothing and answers with the id logged the first time, as a single settlement does.
 * Rows are inserted in request-id order and rows locked users first, then keys, each sorted by
 * id (the order a user patch takes them in), so batches of several daemons never wait on each
 * other in a cycle. Spend moves by increments only (`spent = spent + d.cost`). The inserted rows'
 * usage goes into its per-minute buckets in the same transaction, one upsert for the batch
 * (rollups.ts): a replayed request id adds nothing there either.
 *
 * Every caller's promise settles after the commit, with its row's id, and the spend of its key and
 * user right after it (`RETURNING spent` of the increments, for the shared books). When a batch fails as a
 * whole (one row breaking a constraint, a deadlock, a lost connection), nothing of it is in, and
 * each row is tried again alone: one bad row fails only its own request, and a row whose batch
 * did commit before the reply was lost is found by its request id, never charged twice.
 *
 * Measured on the test PostgreSQL 15 (2 cores shared with other work, a pool of 4, 64 settlements
 * always in flight over 5 keys and 3 users; pg-log-batch.test.ts prints it): one transaction per
 * row (the settle this replaced, and this class with maxRows 1) 140-580 rows/s, the hot key rows
 * held from UPDATE to the commit's flush; batched 2,400-11,900 rows/s, 17-44 times more, the range
 * being the machine's load. maxInFlight 2 measured best (in one run 1: 8,500, 2: 11,600, 4: 8,100).
 */
import { roundHalfUp } from '../../../shared/money.js';
import type { NewLogRow, SpendAfter } from '../types.js';
import { logTime } from '../sqlite/logs.js';
import { LOG_COLUMNS, logValues } from '../sqlite/rows.js';
import { BucketSums } from '../sqlite/rollups.js';
import type { Sql, TxSql } from './connection.js';
import { addBuckets } from './rollups.js';

export interface LogBatchOptions {
  /** rows in one transaction at most (default 256) */
  maxRows?: number;
  /** transactions committing at once (default 2) */
  maxInFlight?: number;
}

interface Waiter {
  row: NewLogRow;
  after: SpendAfter | undefined;
  resolve: (id: number) => void;
  reject: (err: unknown) => void;
}

// the logs table's TEXT columns; every other column of LOG_COLUMNS is BIGINT (migrations.ts)
const TEXT_COLUMNS = new Set([
  'request_id',
  'time',
  'key_name',
  'channel_name',
  'model',
  'upstream_model',
  'endpoint',
  'error',
  'dropped_fields',
]);

// INSERT ... SELECT FROM unnest($1::text[], $2::text[], ...): one statement for any batch size
const INSERT_ROWS = `INSERT INTO logs (${LOG_COLUMNS.map((c) => `"${c}"`).join(', ')})
  SELECT * FROM unnest(${LOG_COLUMNS.map((c, i) => `$${i + 1}::${TEXT_COLUMNS.has(c) ? 'text' : 'bigint'}[]`).join(', ')})
  ON CONFLICT (request_id) DO NOTHING
  RETURNING id, request_id, key_id, cost`;

export class LogBatcher {
  private queue: Waiter[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxRows: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly sql: Sql,
    opts: LogBatchOptions = {},
  ) {
    this.maxRows = opts.maxRows ?? 256;
    this.maxInFlight = opts.maxInFlight ?? 2;
  }

  /**
   * Logs the row and charges its cost, together, with the rows settled beside it; resolves with
   * the row's id once committed (a replayed request id: the id logged the first time, nothing
   * charged again, `after` left empty). `after` gets the spend of the row's key and user after
   * the commit.
   */
  settle(row: NewLogRow, after?: SpendAfter): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ row, after, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // the rest of this turn's settlements join the batch
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxRows);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        // what queued during the commit goes next, without waiting any longer
        this.flush();
      });
    }
  }

  private async run(batch: Waiter[]): Promise<void> {
    const rows = distinct(batch);
    let done: Committed;
    try {
      done = await commitRows(this.sql, [...rows.values()]);
    } catch (err) {
      if (rows.size === 1) {
        for (const w of batch) w.reject(err);
        return;
      }
      // nothing of the batch is in: each row alone, so one bad row fails only itself
      await Promise.all([...rows.keys()].map((id) => this.run(batch.filter((w) => w.row.request_id === id))));
      return;
    }
    for (const w of batch) {
      const id = done.ids.get(w.row.request_id);
      if (id === undefined) {
        w.reject(new Error(`log row of request ${w.row.request_id} vanished`));
        continue;
      }
      if (w.after && done.charged.has(w.row.request_id)) Object.assign(w.after, spendOf(done, w.row));
      w.resolve(id);
    }
  }
}

/** One row per request id, the first settled (a repeat is answered with the same id). */
function distinct(batch: Waiter[]): Map<string, NewLogRow> {
  const rows = new Map<string, NewLogRow>();
  for (const w of batch) if (!rows.has(w.row.request_id)) rows.set(w.row.request_id, w.row);
  return rows;
}

/** What a batch's transaction committed. */
interface Committed {
  /** the log id of every row, by request id */
  ids: Map<string, number>;
  /** the request ids this batch inserted and charged (not replays) */
  charged: Set<string>;
  /** spent after the commit of each key charged, and the key's user */
  keys: Map<number, { spent: number; userId: number | null }>;
  /** spent after the commit of each user charged */
  users: Map<number, number>;
}

/** The spend after the commit of the row's key and of its user, where the batch charged them. */
function spendOf(done: Committed, row: NewLogRow): SpendAfter {
  const key = row.key_id === null ? undefined : done.keys.get(row.key_id);
  if (!key) return {};
  const user = key.userId === null ? undefined : done.users.get(key.userId);
  return user === undefined ? { key: key.spent } : { key: key.spent, user };
}

/** Logs and charges the rows in one transaction. */
async function commitRows(sql: Sql, rows: NewLogRow[]): Promise<Committed> {
  const now = new Date().toISOString();
  const sorted = [...rows].sort((a, b) => (a.request_id < b.request_id ? -1 : 1));
  // column-wise: LOG_COLUMNS order, as logValues gives them after the id
  const columns: (string | number | null)[][] = LOG_COLUMNS.map(() => []);
  const logged = new Map<string, { time: string; cost: number | null }>();
  for (const row of sorted) {
    // the relay rounds once at settlement; this only guards against a fractional slip
    const cost = row.cost === null ? null : roundHalfUp(row.cost);
    const time = logTime(row.time, now);
    logged.set(row.request_id, { time, cost });
    const values = logValues(0, row, time, cost);
    for (let c = 0; c < columns.length; c++) columns[c]!.push(values[c + 1]!);
  }
  return sql.begin(async (tx) => {
    const inserted = await tx.unsafe<InsertedRow[]>(INSERT_ROWS, columns as never, { prepare: true });
    const ids = new Map(inserted.map((r) => [r.request_id, r.id]));
    const insertedIds = new Set(ids.keys());
    const known = sorted.filter((r) => !ids.has(r.request_id)).map((r) => r.request_id);
    if (known.length > 0) {
      const first = await tx<{ id: number; request_id: string }[]>`
        SELECT id, request_id FROM logs WHERE request_id = ANY(${known}::text[])`;
      for (const r of first) ids.set(r.request_id, r.id);
    }
    // usage rollups: the rows inserted only, after the keys and users (the lock order)
    const sums = new BucketSums();
    for (const row of sorted) {
      const l = logged.get(row.request_id)!;
      if (insertedIds.has(row.request_id)) sums.add(row, l.time, l.cost);
    }
    const [spend] = await Promise.all([charge(tx, inserted, now), addBuckets(tx, sums)]);
    return { ids, charged: new Set(inserted.map((r) => r.request_id)), ...spend };
  });
}

interface InsertedRow {
  id: number;
  request_id: string;
  key_id: number | null;
  cost: number | null;
}

/**
 * Adds the inserted rows' spend to their keys and the keys' users: one increment per user, then
 * one per key, each after locking the rows in id order. A user's NULL balance (unmetered) stays
 * NULL. Unpriced rows (cost null) add nothing; their key's last use moves all the same. A key's
 * owner never changes, so it is read without a lock. Returns the keys' and users' spent after.
 */
async function charge(
  tx: TxSql,
  inserted: InsertedRow[],
  now: string,
): Promise<Pick<Committed, 'keys' | 'users'>> {
  const byKey = new Map<number, number>();
  for (const r of inserted) {
    if (r.key_id !== null) byKey.set(r.key_id, (byKey.get(r.key_id) ?? 0) + (r.cost ?? 0));
  }
  if (byKey.size === 0) return { keys: new Map(), users: new Map() };
  const keyIds = [...byKey.keys()].sort((a, b) => a - b);
  const costs = keyIds.map((k) => byKey.get(k)!);
  const paying = keyIds.filter((_, i) => costs[i] !== 0);
  const paid = paying.map((k) => byKey.get(k)!);
  // pipelined on the transaction's connection, run in this order
  const [, users, , keys] = await Promise.all([
    paying.length > 0 &&
      tx`SELECT id FROM users WHERE id IN (SELECT user_id FROM keys WHERE id = ANY(${paying}::bigint[]))
        ORDER BY id FOR NO KEY UPDATE`,
    paying.length > 0 &&
      tx<SpentRow[]>`UPDATE users SET balance = balance - d.cost, spent = spent + d.cost
        FROM (SELECT keys.user_id, SUM(c.cost)::bigint AS cost
              FROM unnest(${paying}::bigint[], ${paid}::bigint[]) AS c(key_id, cost)
              JOIN keys ON keys.id = c.key_id GROUP BY keys.user_id) AS d
        WHERE users.id = d.user_id RETURNING users.id, users.spent`,
    tx`SELECT id FROM keys WHERE id = ANY(${keyIds}::bigint[]) ORDER BY id FOR NO KEY UPDATE`,
    tx<SpentRow[]>`UPDATE keys SET spent = spent + d.cost, last_used_at = ${now}
      FROM unnest(${keyIds}::bigint[], ${costs}::bigint[]) AS d(id, cost) WHERE keys.id = d.id
      RETURNING keys.id, keys.spent, keys.user_id`,
  ]);
  return {
    keys: new Map(keys.map((k) => [k.id, { spent: k.spent, userId: k.user_id }])),
    users: new Map(users ? users.map((u) => [u.id, u.spent]) : []),
  };
}

interface SpentRow {
  id: number;
  spent: number;
  user_id: number | null;
}
