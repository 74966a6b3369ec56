/**
 * The run's own PostgreSQL and Redis (test/global-setup.ts) answer, on loopback, and a test file
 * gets a database and a key prefix of its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { freshPgDatabase, freshRedisPrefix, pgUrl, redisUrl } from '../support/stores.js';

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe('test servers', () => {
  it('PostgreSQL 15 on loopback, with a fresh database per caller', async () => {
    expect(new URL(pgUrl()).hostname).toBe('127.0.0.1');
    const url = await freshPgDatabase();
    const sql = postgres(url, { max: 1, onnotice: () => undefined });
    closers.push(() => sql.end());
    const [row] = await sql<
      { v: string; db: string }[]
    >`SELECT current_setting('server_version_num') AS v, current_database() AS db`;
    expect(Number(row!.v)).toBeGreaterThanOrEqual(150000);
    expect(row!.db).toBe(new URL(url).pathname.slice(1));
    await sql`CREATE TABLE t (id int)`;
    const other = postgres(await freshPgDatabase(), { max: 1, onnotice: () => undefined });
    closers.push(() => other.end());
    const [found] = await other<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 't'`;
    expect(found!.n).toBe(0);
  });

  it('Redis on loopback, without persistence', async () => {
    expect(new URL(redisUrl()).hostname).toBe('127.0.0.1');
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    closers.push(() => redis.quit());
    const prefix = freshRedisPrefix();
    expect(await redis.incr(`${prefix}n`)).toBe(1);
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });
});
