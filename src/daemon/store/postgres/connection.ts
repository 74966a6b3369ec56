/**
 * The PostgreSQL connection every part of the PostgreSQL store shares (SPEC section 9), on the
 * `postgres` client (porsager): pipelined queries, LISTEN with reconnect, transactions as
 * `sql.begin(tx => ...)`. BIGINT columns (ids, money, counters) come back as JavaScript numbers:
 * money is micro-USD and stays far below 2^53, and the records the store returns are the same
 * shapes the SQLite store returns.
 */
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type TxSql = postgres.TransactionSql;
export type ReservedSql = postgres.ReservedSql;

export interface PostgresOptions {
  /** connections in the pool (default 10) */
  max?: number;
  /** application_name, shown in pg_stat_activity */
  name?: string;
}

export function connectPostgres(url: string, opts: PostgresOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => undefined,
    connection: { application_name: opts.name ?? 'burncloud' },
    types: {
      // int8 as a number, not a string
      bigint: {
        to: 20,
        from: [20],
        serialize: (v: number) => String(v),
        parse: (v: string) => Number(v),
      },
    },
  });
}

/** `postgres://user:secret@host/db` with the password hidden, for `bc status` and logs. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
