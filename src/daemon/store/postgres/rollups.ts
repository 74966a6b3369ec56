/**
 * Usage rollups in PostgreSQL (sqlite/rollups.ts says what they are and how a window is read).
 * The group commit (log-batch.ts) adds a batch's per-minute sums with one upsert, the buckets
 * sorted by key so several daemons' batches lock them in one order. The rollup moves an hour or
 * a day per statement: the finer buckets are deleted and their deleted values added to the
 * coarser one, so two daemons rolling up at once each add only what their own DELETE removed
 * (the second waits on the first's rows, then finds them gone), and a settlement's upsert into a
 * minute being moved either lands before the delete (and is moved) or makes a new minute after.
 */
import type { UsageDimension } from '../../../shared/control-api.js';
import type { UsageAggregate } from '../types.js';
import {
  coarser,
  cutoffs,
  KEY_COLUMNS,
  lastMinute,
  straddling,
  SUM_COLUMNS,
  usageSql,
  usageWindow,
  userUsageSql,
  type BucketSums,
  type Dialect,
  type UsageWindow,
} from '../sqlite/rollups.js';
import type { UserUsageDimension } from '../sqlite/tenant-queries.js';
import type { Sql, TxSql } from './connection.js';

const PARAMS = { since: '$1', edge: '$2', edgeTime: '$3', user: '$4', key: '$5' } as const;

const POSTGRES: Dialect = {
  param: (n) => PARAMS[n],
  sum: (e) => `SUM(${e})::bigint`,
  collate: ' COLLATE "C"',
  nullsLast: ' NULLS LAST',
};

const ADD_SUMS = SUM_COLUMNS.map((c) => `${c} = usage_rollups.${c} + excluded.${c}`).join(', ');
const CONFLICT = `ON CONFLICT (span, ${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${ADD_SUMS}`;
const ALL_COLUMNS = ['span', ...KEY_COLUMNS, ...SUM_COLUMNS].join(', ');
const KEY_TYPES = ['text', 'bigint', 'text', 'text', 'text'];

// one statement for any number of buckets, in the order given (sorted by key)
const UPSERT = `INSERT INTO usage_rollups (${ALL_COLUMNS})
  SELECT 1, * FROM unnest(${[...KEY_TYPES, ...SUM_COLUMNS.map(() => 'bigint')].map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
  ${CONFLICT}`;

const MOVE = `WITH moved AS (
    DELETE FROM usage_rollups WHERE span = $1 AND bucket >= $2 AND bucket <= $3 RETURNING *)
  INSERT INTO usage_rollups (${ALL_COLUMNS})
  SELECT $4::bigint, $2::text, key_id, key_name, channel_name, model,
    ${SUM_COLUMNS.map((c) => `SUM(${c})::bigint`).join(', ')}
  FROM moved GROUP BY key_id, key_name, channel_name, model
  ORDER BY key_id, key_name, channel_name, model
  ${CONFLICT}`;

/** Adds a batch's sums inside the transaction that inserted its rows. */
export async function addBuckets(tx: TxSql, sums: BucketSums): Promise<void> {
  if (sums.size === 0) return;
  const rows = sums.rows();
  const columns = rows[0]!.map((_, c) => rows.map((r) => r[c]!));
  await tx.unsafe(UPSERT, columns as never, { prepare: true });
}

export class PgRollups {
  constructor(private readonly sql: Sql) {}

  async usage(by: UsageDimension, since: string): Promise<UsageAggregate[]> {
    return this.read(since, usageSql(POSTGRES, by), []);
  }

  async userUsage(
    by: UserUsageDimension,
    since: string,
    userId: number,
    keyId: number | null,
  ): Promise<UsageAggregate[]> {
    const values = keyId === null ? [userId] : [userId, keyId];
    return this.read(since, userUsageSql(POSTGRES, by, keyId !== null), values);
  }

  /**
   * Moves aged minutes into hours and aged hours into days, an hour or a day per statement;
   * returns how many hours and days were rolled up.
   */
  async rollUp(nowMs: number): Promise<number> {
    let moved = 0;
    for (const c of cutoffs(nowMs)) {
      for (;;) {
        const [row] = await this.sql<{ bucket: string | null }[]>`
          SELECT MIN(bucket) AS bucket FROM usage_rollups WHERE span = ${c.span} AND bucket < ${c.before}`;
        if (!row?.bucket) break;
        const to = coarser(row.bucket, c.into);
        await this.sql.unsafe(MOVE, [c.span, to, lastMinute(to, c.into), c.into], { prepare: true });
        moved += 1;
      }
    }
    return moved;
  }

  /**
   * The window's edge and its sums from one snapshot, so a rollup committing in between cannot
   * move rows across the edge unseen.
   */
  private async read(since: string, text: string, values: number[]): Promise<UsageAggregate[]> {
    return this.sql.begin('isolation level repeatable read read only', async (tx) => {
      const w = await window(tx, since);
      const rows = await tx.unsafe<UsageAggregate[]>(text, [w.since, w.edge, w.edgeTime, ...values], {
        prepare: true,
      });
      return rows.map((r) => ({
        name: r.name,
        requests: r.requests,
        errors: r.errors,
        input_tokens: r.input_tokens,
        output_tokens: r.output_tokens,
        cost: r.cost,
        unpriced: r.unpriced,
      }));
    });
  }
}

async function window(tx: TxSql, since: string): Promise<UsageWindow> {
  const s = straddling(since);
  if (s.hour === null && s.day === null) return usageWindow(since, []);
  const found = await tx<{ span: number; bucket: string }[]>`
    SELECT DISTINCT span, bucket FROM usage_rollups
    WHERE (span = 60 AND bucket = ${s.hour ?? ''}) OR (span = 1440 AND bucket = ${s.day ?? ''})`;
  return usageWindow(since, found);
}
