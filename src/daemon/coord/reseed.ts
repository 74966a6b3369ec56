/**
 * Bringing an empty Redis back (SCALEOUT.md 2(g)): Redis runs without persistence, so after a
 * restart it is empty, which the missing ready flag shows, rather than stale, which nothing would
 * show. One node (the first to take the re-seed lock, SET NX PX) copies every key's settled spend
 * and every metered user's balance from the durable store into Redis, SET-max and SET-if-absent
 * (never an increment: N nodes seeding together, or a seed racing a settle, cannot multiply or
 * lower anything), waits a grace period in which the other nodes re-register what they hold in
 * flight (RedisLedger.restoreHolds, run by each node when its connection is ready again and by
 * every node that finds Redis not ready here), then sets the ready flag. Until then every budget
 * and rate script answers NOT_READY. The grace outlasts a node's reconnect backoff (at most 2 s,
 * redis-client.ts), so a node that reconnects last still puts its holds back before the flag.
 * A request that commits after the read settles with the spend the store reported after its
 * commit (SETTLE keeps the highest, before or after the seed is written, and SEED_USER takes a
 * user's reported spend off the balance it read), so its cost is counted once, not lost.
 */
import type { KeyRecord, UserRecord } from '../store/types.js';
import type { RedisLedger } from './redis-ledger.js';

/** What re-seeding reads from the durable store (Store has both). */
export interface SeedSource {
  listKeys(): Promise<KeyRecord[]>;
  listUsers(): Promise<UserRecord[]>;
}

export type ReseedOutcome = 'ready' | 'seeded' | 'other-node';

/** How long an empty Redis stays not ready after the seed, for every node to put its holds back. */
export const RESEED_GRACE_MS = 2_500;

/**
 * Re-seeds Redis when it is empty. 'ready': nothing to do; 'seeded': this node did it;
 * 'other-node': another node holds the lock (call again shortly).
 */
export async function reseedIfEmpty(
  ledger: RedisLedger,
  store: SeedSource,
  node: string,
  graceMs = RESEED_GRACE_MS,
): Promise<ReseedOutcome> {
  if (await ledger.isReady()) return 'ready';
  await ledger.restoreHolds();
  // the lock outlives a slow seed of many keys: it is only a guard against doing the work twice
  if (!(await ledger.claimReseed(node, 30_000 + graceMs))) return 'other-node';
  const [keys, users] = await Promise.all([store.listKeys(), store.listUsers()]);
  // a hundred at a time: one connection pipelines them, and a 200 ms command timeout still holds
  const seeds = [
    ...keys.map((k) => () => ledger.seedKey(k.id, k.spent)),
    ...users.flatMap((u) =>
      u.balance === null ? [] : [() => ledger.seedUser(u.id, u.balance!, false, u.spent)],
    ),
  ];
  for (let i = 0; i < seeds.length; i += 100) await Promise.all(seeds.slice(i, i + 100).map((f) => f()));
  if (graceMs > 0) await new Promise((r) => setTimeout(r, graceMs));
  await ledger.markReady();
  return 'seeded';
}
