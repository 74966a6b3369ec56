/**
 * Configuration changes across nodes (SPEC section 9): three change feeds on one real PostgreSQL
 * database and one real Redis, as three nodes would run them. An announcement on one node makes
 * the others refresh in well under a second; with Redis unreachable the version poll alone does
 * it; when a node's subscription is cut (messages published meanwhile are lost), it still catches
 * up by the poll and hears messages again once resubscribed; a change learnt twice (message and
 * poll) refreshes once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ChangeFeed } from '../../src/daemon/cluster/change-feed.js';
import { connectPostgres, type Sql } from '../../src/daemon/store/postgres/connection.js';
import { MIGRATIONS } from '../../src/daemon/store/sqlite/migrations.js';
import { PgMetaTable } from '../../src/daemon/store/postgres/catalog.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { freePort } from '../support/servers.js';

let sql: Sql;
let meta: PgMetaTable;
let admin: Redis;
const feeds: ChangeFeed[] = [];

beforeAll(async () => {
  sql = connectPostgres(await freshPgDatabase(), { max: 4 });
  for (const m of MIGRATIONS) await sql.begin((tx) => tx.unsafe(m.postgres!));
  meta = new PgMetaTable(sql);
  admin = new Redis(redisUrl());
});

afterAll(async () => {
  for (const f of feeds) await f.stop();
  await sql?.end();
  admin?.disconnect();
});

interface Node {
  feed: ChangeFeed;
  refreshes: { at: number; via: string }[];
}

async function nodes(n: number, redis: string | undefined, prefix: string, pollMs = 500): Promise<Node[]> {
  const out: Node[] = [];
  for (let i = 0; i < n; i++) {
    const refreshes: { at: number; via: string }[] = [];
    const feed = new ChangeFeed({
      store: { getMeta: (k) => meta.get(k), bumpMeta: (k) => meta.bump(k) },
      ...(redis ? { redisUrl: redis } : {}),
      prefix,
      pollMs,
      refresh: async () => undefined,
      onEvent: (e) => {
        if (e.kind === 'refreshed') refreshes.push({ at: Date.now(), via: e.via });
      },
    });
    await feed.start();
    feeds.push(feed);
    out.push({ feed, refreshes });
  }
  return out;
}

async function until(check: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
}

describe('the change feed', () => {
  it('brings an edit announced on one node to the others in well under a second, by message', async () => {
    const [a, b, c] = await nodes(3, redisUrl(), freshRedisPrefix(), 10_000);
    // a long poll: only the Redis message can be this fast
    await new Promise((r) => setTimeout(r, 100));
    const v = await a!.feed.announce();
    const took = await until(() => b!.feed.current() >= v && c!.feed.current() >= v, 1000);
    expect(took).toBeLessThan(500);
    expect(b!.refreshes.map((r) => r.via)).toEqual(['message']);
    expect(a!.refreshes).toEqual([]); // the announcing node is already up to date
  });

  it('carries edits by the version poll alone when Redis cannot be reached', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const [a, b] = await nodes(2, closed, freshRedisPrefix(), 200);
    for (let i = 0; i < 3; i++) {
      const v = await a!.feed.announce();
      const took = await until(() => b!.feed.current() >= v, 1000);
      expect(took).toBeLessThan(1000);
    }
    expect(b!.refreshes.every((r) => r.via === 'poll')).toBe(true);
  });

  it('catches up after its subscription was cut, and hears messages again once resubscribed', async () => {
    const prefix = freshRedisPrefix();
    const [a, b] = await nodes(2, redisUrl(), prefix, 300);
    const name = `name=${prefix.replace(/[^A-Za-z0-9:_-]/g, '_')}config-feed`;
    let feedClients: string[] = [];
    for (let i = 0; i < 40 && feedClients.length < 2; i++) {
      const list = String(await admin.client('LIST'));
      // both subscribers connected and subscribed
      feedClients = list
        .split('\n')
        .filter((l) => l.includes(name) && / sub=1 /.test(l))
        .map((l) => /id=(\d+)/.exec(l)![1]!);
      if (feedClients.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(feedClients.length).toBe(2);
    for (const id of feedClients) await admin.client('KILL', 'ID', id);
    // published while b is not subscribed: lost on Redis, found by the poll
    const v1 = await a!.feed.announce();
    await until(() => b!.feed.current() >= v1, 1000);
    // resubscribed: a message arrives again before the next poll could
    await until(() => String(admin.status) === 'ready', 1000);
    await new Promise((r) => setTimeout(r, 700));
    const before = b!.refreshes.length;
    const v2 = await a!.feed.announce();
    await until(() => b!.feed.current() >= v2, 1000);
    expect(b!.refreshes.slice(before).map((r) => r.via)).toContain('message');
  });

  it('refreshes once for a change it learns of twice', async () => {
    const [a, b] = await nodes(2, redisUrl(), freshRedisPrefix(), 50);
    const v = await a!.feed.announce();
    await until(() => b!.feed.current() >= v, 1000);
    await new Promise((r) => setTimeout(r, 300)); // several polls see the same version
    expect(b!.refreshes).toHaveLength(1);
  });
});
