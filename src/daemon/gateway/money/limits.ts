/**
 * Per-key rate limits: requests per minute, tokens per minute and concurrent requests. Windows
 * are sliding over 60 one-second buckets, kept in memory per key id (bounded by the number of keys).
 * A refusal carries what the client needs: Retry-After and the x-ratelimit-* numbers.
 */
import { BcError } from '../../../shared/errors.js';

const WINDOW_S = 60;

class MinuteWindow {
  private readonly buckets = new Float64Array(WINDOW_S);
  private readonly stamps = new Float64Array(WINDOW_S);

  sum(nowS: number): number {
    let total = 0;
    for (let i = 0; i < WINDOW_S; i++) if (nowS - this.stamps[i]! < WINDOW_S) total += this.buckets[i]!;
    return total;
  }

  add(nowS: number, amount: number): void {
    const i = nowS % WINDOW_S;
    if (this.stamps[i] !== nowS) {
      this.stamps[i] = nowS;
      this.buckets[i] = 0;
    }
    this.buckets[i] = this.buckets[i]! + amount;
  }

  /** seconds until the oldest counted bucket leaves the window */
  resetS(nowS: number): number {
    let oldest = nowS;
    for (let i = 0; i < WINDOW_S; i++) {
      const s = this.stamps[i]!;
      if (nowS - s < WINDOW_S && this.buckets[i]! > 0 && s < oldest) oldest = s;
    }
    return Math.max(1, oldest + WINDOW_S - nowS);
  }
}

interface KeyLimits {
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
}

interface KeyCounters {
  requests: MinuteWindow;
  tokens: MinuteWindow;
  inFlight: number;
}

export interface RateHeaders {
  [name: string]: string;
}

export class RateLimiter {
  private readonly counters = new Map<number, KeyCounters>();

  /** `subject` names whose limit it is in refusals: "this key", or the user's name given to admit */
  constructor(
    private readonly nowMs: () => number = Date.now,
    private readonly subject: 'key' | 'user' = 'key',
  ) {}

  /**
   * Admits one request of `estTokens` for the key or throws RATE_LIMITED. On success the
   * request holds a concurrency slot until `release`.
   */
  admit(keyId: number, limits: KeyLimits, estTokens: number, name?: string): void {
    const c = this.countersFor(keyId);
    const whose = this.subject === 'key' ? 'this key' : `user ${name ?? String(keyId)}`;
    const nowS = Math.floor(this.nowMs() / 1000);
    if (limits.concurrency !== null && c.inFlight >= limits.concurrency) {
      throw limited(`concurrency limit of ${limits.concurrency} requests reached for ${whose}`, 1, {
        'x-ratelimit-limit-concurrency': String(limits.concurrency),
      });
    }
    if (limits.rpm !== null) {
      const used = c.requests.sum(nowS);
      if (used + 1 > limits.rpm) {
        const reset = c.requests.resetS(nowS);
        throw limited(`rate limit of ${limits.rpm} requests per minute reached for ${whose}`, reset, {
          'x-ratelimit-limit-requests': String(limits.rpm),
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${reset}s`,
        });
      }
    }
    if (limits.tpm !== null) {
      const used = c.tokens.sum(nowS);
      if (used >= limits.tpm || (used > 0 && used + estTokens > limits.tpm)) {
        const reset = c.tokens.resetS(nowS);
        throw limited(`rate limit of ${limits.tpm} tokens per minute reached for ${whose}`, reset, {
          'x-ratelimit-limit-tokens': String(limits.tpm),
          'x-ratelimit-remaining-tokens': String(Math.max(0, limits.tpm - used)),
          'x-ratelimit-reset-tokens': `${reset}s`,
        });
      }
    }
    c.requests.add(nowS, 1);
    c.inFlight += 1;
  }

  /** The request is over: free its slot and count the tokens it really used. */
  release(keyId: number, tokens: number): void {
    const c = this.counters.get(keyId);
    if (!c) return;
    c.inFlight = Math.max(0, c.inFlight - 1);
    if (tokens > 0) c.tokens.add(Math.floor(this.nowMs() / 1000), tokens);
  }

  inFlight(keyId: number): number {
    return this.counters.get(keyId)?.inFlight ?? 0;
  }

  private countersFor(keyId: number): KeyCounters {
    let c = this.counters.get(keyId);
    if (!c)
      this.counters.set(
        keyId,
        (c = { requests: new MinuteWindow(), tokens: new MinuteWindow(), inFlight: 0 }),
      );
    return c;
  }
}

function limited(message: string, retryAfterS: number, headers: RateHeaders): BcError {
  return new BcError('RATE_LIMITED', message, { retryAfterS, headers });
}
