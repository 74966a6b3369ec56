/**
 * The Redis connection the coordinator runs its scripts on (SCALEOUT.md 2(g)). It fails fast:
 * no offline queue (a command sent while disconnected is refused at once instead of waiting for a
 * reconnect), a 200 ms command timeout, no per-command retries, reconnects with a capped backoff,
 * and a small breaker in front, so that a Redis that is down or paused costs a request at most a
 * quarter of a second and the gateway answers 503 + Retry-After instead of hanging (the failure
 * LiteLLM PR #35273 describes). The quarter second is the client's own deadline, which a busy
 * event loop cannot turn into a false outage: a timer that fires late (the loop was stalled by a
 * burst of requests) first lets the loop read the replies already waiting on the socket, and only
 * a command still unanswered after that has timed out (ioredis's own command timeout, which would
 * fire before those replies are read, is only a backstop at four times the deadline; before, a
 * burst of 100 requests on one node of a loaded machine timed out against a healthy Redis, opened
 * the breaker and refused budgeted requests with 503 for a second). Every failure comes out as one
 * BcError, COORDINATION_UNAVAILABLE;
 * a script that finds Redis empty after a restart (no ready flag) comes out the same way, with
 * cause NOT_READY, so the caller can tell "re-seed me" from "unreachable".
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { BcError } from '../../shared/errors.js';

/** Milliseconds a single command may take before it is given up. */
export const COMMAND_TIMEOUT_MS = 200;
/** ioredis's own timeout, for commands sent without the breaker, as a multiple of the deadline. */
const BACKSTOP_FACTOR = 4;
/** The deadline each client made by connectRedis was given (CoordClient applies it). */
const deadlines = new WeakMap<Redis, number>();
/** Consecutive failures that open the breaker, and how long it then refuses without trying. */
const BREAKER_THRESHOLD = 3;
const BREAKER_OPEN_MS = 1_000;

/** What a refused caller is told to wait, in seconds (the client's Retry-After). */
export const RETRY_AFTER_S = 1;

export const NOT_READY = 'NOT_READY';
/** the cause of a refusal for an account Redis was never given: seed it from the store, then retry */
export const NOT_SEEDED = 'NOT_SEEDED';

export interface CoordRedisOptions {
  /** connection name shown by CLIENT LIST */
  name?: string;
  /** overrides for tests (never the fail-fast settings' intent) */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** An ioredis client with the fail-fast settings. It connects in the background. */
export function connectRedis(url: string, opts: CoordRedisOptions = {}): Redis {
  const deadline = opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  const options: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: deadline * BACKSTOP_FACTOR,
    maxRetriesPerRequest: 0,
    connectTimeout: opts.connectTimeoutMs ?? 1_000,
    // 50 ms, 100 ms, ... capped at 2 s: forever, a node must come back when Redis does
    retryStrategy: (times: number) => Math.min(2_000, 50 * 2 ** Math.min(times, 6)),
    // a failover or restart is expected: reconnect on READONLY as well
    reconnectOnError: (err: Error) => err.message.startsWith('READONLY'),
    lazyConnect: false,
    ...(opts.name ? { connectionName: opts.name } : {}),
  };
  const redis = new Redis(url, options);
  deadlines.set(redis, deadline);
  // without a listener ioredis prints every connection error; the breaker reports them instead
  redis.on('error', () => undefined);
  return redis;
}

/** One Lua script, sent by its SHA1 and loaded on NOSCRIPT (after a Redis restart, for one). */
export interface Script {
  name: string;
  lua: string;
  sha: string;
}

export function script(name: string, lua: string): Script {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export function unavailable(message: string, cause?: unknown): BcError {
  return new BcError('COORDINATION_UNAVAILABLE', message, { retryAfterS: RETRY_AFTER_S, cause });
}

/** Is this the refusal of an empty (not yet re-seeded) Redis? */
export function isNotReady(err: unknown): boolean {
  return err instanceof BcError && err.code === 'COORDINATION_UNAVAILABLE' && err.cause === NOT_READY;
}

/** Is this the refusal of an account Redis does not hold yet (seed it, then retry)? */
export function isNotSeeded(err: unknown): boolean {
  return err instanceof BcError && err.code === 'COORDINATION_UNAVAILABLE' && err.cause === NOT_SEEDED;
}

/**
 * Runs scripts and plain commands through the breaker. After BREAKER_THRESHOLD failures in a row
 * it refuses every call for BREAKER_OPEN_MS without touching the network, then lets calls through
 * again (the first success closes it; another failure opens it again at once).
 */
export class CoordClient {
  private failures = 0;
  private openUntil = 0;

  constructor(
    readonly redis: Redis,
    /** every key this client touches starts with it (a deployment's or a test's namespace) */
    readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs a script: EVALSHA, then EVAL when Redis does not have it cached. */
  async run(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.guard(s.name, async () => {
      try {
        return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args.map(String));
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('NOSCRIPT'))
          return await this.redis.eval(s.lua, keys.length, ...keys, ...args.map(String));
        throw err;
      }
    });
  }

  /** A plain command through the same breaker. */
  async call<T>(what: string, fn: (r: Redis) => Promise<T>): Promise<T> {
    return this.guard(what, () => fn(this.redis));
  }

  /** Is the breaker refusing calls right now? */
  get open(): boolean {
    return this.now() < this.openUntil;
  }

  async quit(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.open) throw unavailable(`coordination store unavailable (${what}): retrying shortly`);
    if (this.redis.status !== 'ready')
      return this.failed(what, new Error(`connection is ${this.redis.status}`));
    let out: T;
    try {
      out = await withDeadline(fn(), deadlines.get(this.redis) ?? COMMAND_TIMEOUT_MS);
    } catch (err) {
      // a script's own error (a bug, a wrong type) is not an outage, but it is not served either
      return this.failed(what, err);
    }
    this.failures = 0;
    return out;
  }

  private failed(what: string, err: unknown): never {
    this.failures += 1;
    if (this.failures >= BREAKER_THRESHOLD) this.openUntil = this.now() + BREAKER_OPEN_MS;
    const why = err instanceof Error ? err.message : String(err);
    throw unavailable(`coordination store unavailable (${what}): ${why}`, err);
  }
}

/**
 * `p`, or a timeout once `ms` have passed and the replies already on the socket have been read:
 * the timer's callback defers the verdict with setImmediate, which runs after the event loop's
 * I/O phase, so a reply that arrived while the loop was busy settles `p` first.
 */
async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(new Error(`no answer within ${ms} ms`))), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
