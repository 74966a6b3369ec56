/**
 * Rate limits on Redis (SCALEOUT.md 2(b)): RateLimiter's rpm, tpm and concurrency, shared by every
 * daemon. rpm and tpm are the same 60 one-second buckets as limits.ts's MinuteWindow, timed by
 * Redis's clock; concurrency is a set of leases (request id -> deadline) so that a slot held by a
 * node that died frees itself at the deadline. The key's limits and its user's are checked and
 * taken in one script, all or nothing, and refusals carry the same messages, Retry-After and
 * x-ratelimit-* headers as RateLimiter's. The node remembers the concurrency slots its requests in
 * flight hold and puts them back whenever its connection is ready again (restoreSlots), so a Redis
 * restarted empty does not let a key run more requests at once than its limit while those finish;
 * rpm and tpm windows start again empty after such a restart.
 */
import { BcError } from '../../shared/errors.js';
import type { RateHeaders } from '../gateway/money/limits.js';
import { LEASE_MS, type RateLimits, type RateSubject, type SharedRates } from './coordinator.js';
import { CoordKeys } from './keys.js';
import type { CoordClient } from './redis-client.js';
import { notReady } from './redis-ledger.js';
import { RATE_ADMIT, RATE_RELEASE, RESTORE_SLOT } from './rate-scripts.js';
import { RENEW } from './scripts.js';

/** How long a release is remembered (a repeated release in that time counts nothing twice). */
const RELEASED_TTL_MS = 120_000;

export interface RedisRatesOptions {
  leaseMs?: number;
}

/** A concurrency slot this node's request holds, until its lease would lapse unless renewed. */
interface Slot {
  keyId: number;
  userId: number | null;
  until: number;
}

export class RedisRates implements SharedRates {
  readonly keys: CoordKeys;
  private readonly leaseMs: number;
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly client: CoordClient,
    opts: RedisRatesOptions = {},
  ) {
    this.keys = new CoordKeys(client.prefix);
    this.leaseMs = opts.leaseMs ?? LEASE_MS;
    // a reconnect may find Redis restarted empty: put back the slots of requests in flight
    client.redis.on('ready', () => void this.restoreSlots().catch(() => undefined));
  }

  async admit(
    requestId: string,
    key: RateSubject,
    user: RateSubject | null,
    estTokens: number,
  ): Promise<void> {
    const subjects: { kind: 'k' | 'u'; s: RateSubject }[] = [{ kind: 'k', s: key }];
    if (user) subjects.push({ kind: 'u', s: user });
    const keys = [this.keys.ready];
    const args: (string | number)[] = [requestId, estTokens, this.leaseMs];
    for (const { kind, s } of subjects) {
      keys.push(...this.keys.rates(kind, s.id));
      args.push(lim(s.limits.rpm), lim(s.limits.tpm), lim(s.limits.concurrency));
    }
    const r = (await this.client.run(RATE_ADMIT, keys, args)) as (string | number)[];
    if (r[0] === 'OK') {
      this.slots.set(requestId, {
        keyId: key.id,
        userId: user?.id ?? null,
        until: Date.now() + this.leaseMs,
      });
      return;
    }
    if (r[0] === 'NOT_READY') throw notReady();
    const subject = subjects[Number(r[1]) - 1];
    if (!subject)
      throw new BcError('INTERNAL', `unexpected reply from the rate script: ${JSON.stringify(r)}`);
    const whose = subject.kind === 'k' ? 'this key' : `user ${subject.s.name ?? String(subject.s.id)}`;
    const limit = Number(r[2]);
    if (r[0] === 'CONC')
      throw limited(`concurrency limit of ${limit} requests reached for ${whose}`, 1, {
        'x-ratelimit-limit-concurrency': String(limit),
      });
    if (r[0] === 'RPM') {
      const reset = Number(r[3]);
      throw limited(`rate limit of ${limit} requests per minute reached for ${whose}`, reset, {
        'x-ratelimit-limit-requests': String(limit),
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${reset}s`,
      });
    }
    if (r[0] === 'TPM') {
      const used = Number(r[3]);
      const reset = Number(r[4]);
      throw limited(`rate limit of ${limit} tokens per minute reached for ${whose}`, reset, {
        'x-ratelimit-limit-tokens': String(limit),
        'x-ratelimit-remaining-tokens': String(Math.max(0, limit - used)),
        'x-ratelimit-reset-tokens': `${reset}s`,
      });
    }
    throw new BcError('INTERNAL', `unexpected reply from the rate script: ${JSON.stringify(r)}`);
  }

  async release(requestId: string, keyId: number, userId: number | null, tokens: number): Promise<void> {
    this.slots.delete(requestId);
    const [, kTpm, kConc] = this.keys.rates('k', keyId);
    const keys = [this.keys.released(requestId), kTpm, kConc];
    if (userId !== null) {
      const [, uTpm, uConc] = this.keys.rates('u', userId);
      keys.push(uTpm, uConc);
    }
    await this.client.run(RATE_RELEASE, keys, [requestId, Math.max(0, Math.round(tokens)), RELEASED_TTL_MS]);
  }

  async renew(requestId: string, keyId: number, userId: number | null): Promise<void> {
    const leases = [this.keys.rates('k', keyId)[2]];
    if (userId !== null) leases.push(this.keys.rates('u', userId)[2]);
    await this.client.run(RENEW, leases, [requestId, this.leaseMs]);
    const slot = this.slots.get(requestId);
    if (slot) slot.until = Date.now() + this.leaseMs;
  }

  /**
   * Puts back on Redis the concurrency slots of this node's requests in flight that Redis lost;
   * those it still has, or released meanwhile, are left. Slots whose lease lapsed are forgotten.
   * Returns how many leases were put back.
   */
  async restoreSlots(): Promise<number> {
    const now = Date.now();
    const work: (() => Promise<unknown>)[] = [];
    for (const [rid, slot] of this.slots) {
      if (slot.until <= now) {
        this.slots.delete(rid);
        continue;
      }
      const keys = [this.keys.released(rid), this.keys.rates('k', slot.keyId)[2]];
      if (slot.userId !== null) keys.push(this.keys.rates('u', slot.userId)[2]);
      work.push(() => this.client.run(RESTORE_SLOT, keys, [rid, this.leaseMs]));
    }
    let n = 0;
    for (let i = 0; i < work.length; i += 100)
      for (const r of await Promise.all(work.slice(i, i + 100).map((f) => f()))) n += Number(r);
    return n;
  }

  /** Concurrency leases a subject holds now (expired ones not counted). */
  async inFlight(kind: 'k' | 'u', id: number): Promise<number> {
    const conc = this.keys.rates(kind, id)[2];
    return this.client.call('inFlight', async (r) => {
      const [sec, usec] = await r.time();
      const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      return r.zcount(conc, `(${now}`, '+inf');
    });
  }
}

function lim(v: RateLimits[keyof RateLimits]): number {
  return v === null ? -1 : v;
}

function limited(message: string, retryAfterS: number, headers: RateHeaders): BcError {
  return new BcError('RATE_LIMITED', message, { retryAfterS, headers });
}
