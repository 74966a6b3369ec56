/**
 * The budget ledger on Redis (SCALEOUT.md 2(a)): BudgetLedger's reserveJoint / settle / credit,
 * each one Lua script (scripts.ts), so that any number of daemons share one set of budgets and
 * balances without ever overdrawing them. Reservations are recorded per request id with a lease:
 * a node that dies holding some loses them when the lease runs out. Seeding from the durable store
 * is SET-max for a key's spent and SET-if-absent for a user's balance, never an increment; the
 * ready flag tells an empty Redis (after a restart) from a seeded one, and an empty one refuses
 * (NOT_READY) until seeded again. A settlement moves the books to the spend the store reported
 * after its commit (the highest wins, scripts.ts SETTLE), so one that races a re-seed is counted
 * exactly once. The node also remembers the reservations it holds for requests
 * in flight and puts them back whenever its connection is ready again (restoreHolds): a Redis
 * restarted empty has lost them, and a re-seed counts only committed spend, so without them the
 * budget those requests were about to spend would be handed out a second time (8 streams in
 * flight across a restart overspent a nearly used key budget by 8 requests).
 */
import { BcError } from '../../shared/errors.js';
import type { JointResult } from '../gateway/money/budget-ledger.js';
import type { CostTerms, OutputAsk } from '../gateway/money/meter.js';
import type { SpendAfter } from '../store/types.js';
import { LEASE_MS, type SharedBudget, type SharedPayer } from './coordinator.js';
import { CoordKeys } from './keys.js';
import { NOT_READY, NOT_SEEDED, unavailable, type CoordClient } from './redis-client.js';
import { CREDIT, RENEW, RESERVE, RESTORE_HOLD, SEED_KEY, SEED_USER, SETTLE } from './scripts.js';

/** How long a settled request id is remembered (a repeated settle in that time changes nothing). */
const DONE_TTL_MS = 120_000;

export interface RedisLedgerOptions {
  leaseMs?: number;
}

/** A reservation this node took for a request in flight, until it settles or its lease lapses. */
interface Hold {
  keyId: number;
  userId: number | null;
  hasKey: boolean;
  amount: number;
  /** when its lease lapses unless renewed (this node's clock: only used to forget it) */
  until: number;
}

export class RedisLedger implements SharedBudget {
  readonly keys: CoordKeys;
  private readonly leaseMs: number;
  private readonly holds = new Map<string, Hold>();

  constructor(
    private readonly client: CoordClient,
    opts: RedisLedgerOptions = {},
  ) {
    this.keys = new CoordKeys(client.prefix);
    this.leaseMs = opts.leaseMs ?? LEASE_MS;
    // a reconnect may find Redis restarted empty: put back what is in flight before the re-seed
    // sets the ready flag (a failure here is retried by the re-seed check, reseed.ts)
    client.redis.on('ready', () => void this.restoreHolds().catch(() => undefined));
  }

  async reserve(
    requestId: string,
    payer: SharedPayer,
    terms: CostTerms,
    ask: OutputAsk,
  ): Promise<JointResult> {
    const hasKey = payer.budget !== null;
    const hasUser = payer.userId !== null;
    const clamp = ask.clamp;
    const reply = await this.client.run(
      RESERVE,
      [this.keys.ready, ...this.keys.keyBudget(payer.keyId), ...this.keys.userWallet(payer.userId ?? 0)],
      [
        requestId,
        hasKey ? 1 : 0,
        payer.budget ?? 0,
        payer.spentHint ?? -1,
        hasUser ? 1 : 0,
        terms.inputPart,
        terms.outputPrice,
        terms.ratio,
        terms.perRequest,
        ask.limit,
        ask.choices,
        ask.extra,
        clamp ? 1 : 0,
        clamp?.min ?? 0,
        clamp?.max ?? 0,
        this.leaseMs,
      ],
    );
    const r = reply as (string | number)[];
    switch (r[0]) {
      case 'OK':
        this.holds.set(requestId, {
          keyId: payer.keyId,
          userId: payer.userId,
          hasKey,
          amount: Number(r[1]),
          until: Date.now() + this.leaseMs,
        });
        return { ok: true, amount: Number(r[1]), outputTokens: Number(r[2]), clamped: Number(r[3]) === 1 };
      case 'REFUSED':
        return { ok: false, left: Number(r[1]), short: r[2] === 'user' ? 'user' : 'key' };
      case 'NOT_READY':
        throw notReady();
      case 'NOT_SEEDED':
        throw unavailable(
          `coordination store has no ${r[1] === 'user' ? `balance for user ${payer.userId}` : `spend for key ${payer.keyId}`} yet: seed it from the store`,
          NOT_SEEDED,
        );
      case 'DUPLICATE':
        throw new BcError('INTERNAL', `request ${requestId} already holds a reservation`);
      default:
        throw new BcError('INTERNAL', `unexpected reply from the reserve script: ${JSON.stringify(r)}`);
    }
  }

  async settle(
    requestId: string,
    keyId: number,
    userId: number | null,
    cost: number,
    after: SpendAfter = {},
  ): Promise<void> {
    // committed: from now on the store counts it, whether or not Redis hears of it
    this.holds.delete(requestId);
    await this.client.run(
      SETTLE,
      [
        this.keys.ready,
        ...this.keys.keyBudget(keyId),
        ...this.keys.userWallet(userId ?? 0),
        this.keys.settled(requestId),
      ],
      // a key-only settle names user 0's keys: no user has id 0, so nothing is there to touch
      [requestId, cost, after.key ?? -1, userId === null ? -1 : (after.user ?? -1), DONE_TTL_MS],
    );
  }

  async credit(userId: number, amount: number): Promise<void> {
    await this.client.run(CREDIT, [this.keys.userWallet(userId)[0]], [amount]);
  }

  async renew(requestId: string, keyId: number, userId: number | null): Promise<void> {
    const hold = this.holds.get(requestId);
    if (hold) hold.until = Date.now() + this.leaseMs;
    const leases = [this.keys.keyBudget(keyId)[2]];
    if (userId !== null) leases.push(this.keys.userWallet(userId)[2]);
    await this.client.run(RENEW, leases, [requestId, this.leaseMs]);
  }

  /**
   * Puts back on Redis the reservations of this node's requests in flight that Redis lost (a
   * restart); those Redis still has, or already settled, are left as they are. Holds whose lease
   * lapsed are forgotten. Returns how many were put back.
   */
  async restoreHolds(): Promise<number> {
    const now = Date.now();
    const work: (() => Promise<unknown>)[] = [];
    for (const [rid, h] of this.holds) {
      if (h.until <= now) {
        this.holds.delete(rid);
        continue;
      }
      const keys = [
        ...this.keys.keyBudget(h.keyId),
        ...this.keys.userWallet(h.userId ?? 0),
        this.keys.settled(rid),
      ];
      const args = [rid, h.amount, h.hasKey ? 1 : 0, h.userId === null ? 0 : 1, this.leaseMs];
      work.push(() => this.client.run(RESTORE_HOLD, keys, args));
    }
    let n = 0;
    for (let i = 0; i < work.length; i += 100)
      for (const r of await Promise.all(work.slice(i, i + 100).map((f) => f()))) n += Number(r);
    return n;
  }

  /** Seeds a key's settled spend (SET-max); returns what Redis holds after. */
  async seedKey(keyId: number, spent: number): Promise<number> {
    return Number(await this.client.run(SEED_KEY, [this.keys.keyBudget(keyId)[0]], [spent]));
  }

  /**
   * Seeds a metered user's balance (SET if absent, or always with force); returns what Redis holds.
   * `spent`: the user's spent in the same read, so that settlements reporting their spend after
   * (SETTLE) are taken exactly once.
   */
  async seedUser(userId: number, balance: number, force = false, spent?: number): Promise<number> {
    const r = await this.client.run(
      SEED_USER,
      [this.keys.userWallet(userId)[0]],
      [balance, force ? 1 : 0, spent ?? -1],
    );
    return Number(r);
  }

  /** The user became unmetered (or was deleted): drop the wallet and its holds. */
  async forgetUser(userId: number): Promise<void> {
    const keys = this.keys.userWallet(userId);
    await this.client.call('forgetUser', (r) => r.del(...keys));
  }

  async forgetKey(keyId: number): Promise<void> {
    const keys = this.keys.keyBudget(keyId);
    await this.client.call('forgetKey', (r) => r.del(...keys));
  }

  /** Marks Redis seeded: scripts stop answering NOT_READY. */
  async markReady(): Promise<void> {
    await this.client.call('markReady', (r) => r.set(this.keys.ready, String(Date.now())));
  }

  async isReady(): Promise<boolean> {
    return (await this.client.call('isReady', (r) => r.exists(this.keys.ready))) === 1;
  }

  /** One node re-seeds an empty Redis: the first to claim this lock (SET NX PX). */
  async claimReseed(owner: string, ttlMs = 5_000): Promise<boolean> {
    const r = await this.client.call('claimReseed', (c) =>
      c.set(this.keys.reseedLock, owner, 'PX', ttlMs, 'NX'),
    );
    return r === 'OK';
  }

  /** A key's spent and reserved as Redis holds them (null: not seeded). */
  async account(keyId: number): Promise<{ spent: number; reserved: number } | null> {
    const [spent, reserved] = await this.client.call('account', (r) =>
      r.hmget(this.keys.keyBudget(keyId)[0], 'spent', 'reserved'),
    );
    return spent === null || spent === undefined
      ? null
      : { spent: Number(spent), reserved: Number(reserved ?? 0) };
  }

  /** A user's balance and reserved as Redis holds them (null: not seeded). */
  async wallet(userId: number): Promise<{ balance: number; reserved: number } | null> {
    const [balance, reserved] = await this.client.call('wallet', (r) =>
      r.hmget(this.keys.userWallet(userId)[0], 'balance', 'reserved'),
    );
    return balance === null || balance === undefined
      ? null
      : { balance: Number(balance), reserved: Number(reserved ?? 0) };
  }
}

export function notReady(): BcError {
  return unavailable('coordination store was restarted and is being re-seeded: retry shortly', NOT_READY);
}
