/**
 * Channel cooldowns shared by several daemons (BC_REDIS, SPEC section 9, SCALEOUT.md 2(c)): keeps
 * this node's HealthBook a mirror of the cluster's record on Redis (coord/redis-health.ts) while
 * every routing pick stays a synchronous look at local state, with no Redis round trip on a
 * request's path:
 *
 * - a failure here is recorded locally at once and published in the background (the Redis
 *   script keeps max(until), LiteLLM #40130); its answer, the cluster's count and end, is mirrored;
 * - a success on a key with failures on record clears it locally at once and on Redis in the
 *   background (retried until Redis takes it), so one success clears the key cluster-wide;
 * - every MIRROR_MS the node reads all the keys on record in one script call (an index keeps the
 *   cost proportional to the keys that failed, not to the channels) and mirrors them, dropping
 *   what is no longer on record: a bench on one node is seen by all within about half a second.
 *   No pub/sub accelerator: like LiteLLM PR #40025 we poll rather than subscribe, because a
 *   subscription costs every node a second connection and still needs this read as a backstop for
 *   messages lost while disconnected; a read this cheap can simply run twice a second;
 * - a cooldown that is over here may be probed only under the cluster's claim (SET NX PX on Redis):
 *   the first pick that finds it over asks for the claim in the background and skips the key;
 *   the node that gets it probes with its next pick, the others keep skipping until the probe's
 *   result reaches them. A claim no request used within CLAIM_IDLE_MS is given back.
 *
 * Redis away: nothing waits for it (the coordinator's client fails fast). A failure Redis did not
 * take stays a local cooldown that reads do not undo until it ends, a success is re-sent, and a
 * node that cannot reach Redis for a claim (disconnected, or its breaker open) probes on its own,
 * as a single daemon does; a claim call that merely failed once is asked again instead.
 *
 * Ordering: a read or claim answer may have left Redis before a local change reached it. Each
 * call to Redis takes a generation number, and an answer applies to a key only when it started
 * after the key's last local change was settled on Redis.
 */
import type { HealthBook, HealthSync } from '../gateway/routing/health.js';
import type { RedisCooldowns } from '../coord/redis-health.js';

/** how often the cluster's record is read (a bench reaches every node within this, plus a read) */
export const MIRROR_MS = 500;
/** how often this node asks Redis for one key's probe claim */
const ASK_EVERY_MS = 250;
/** a claim no request of this node used in this long is given back, for a busier node to take */
const CLAIM_IDLE_MS = 2_000;

type Cooldowns = Pick<
  RedisCooldowns,
  'failure' | 'success' | 'tryAcquire' | 'releaseProbe' | 'readAll' | 'reachable'
>;

export interface SharedHealthOptions {
  book: HealthBook;
  cooldowns: Cooldowns;
  mirrorMs?: number;
  /** the book's clock */
  now?: () => number;
}

/** Local changes not yet settled on Redis, per key. */
interface Hold {
  /** changes sent and not answered */
  inFlight: number;
  /** the first generation whose answers may apply */
  fromGen: number;
}

export class SharedHealth implements HealthSync {
  private readonly book: HealthBook;
  private readonly cooldowns: Cooldowns;
  private readonly now: () => number;
  /** Redis's clock minus this node's, as of the last read */
  private offset = 0;
  private gen = 0;
  private readonly holds = new Map<string, Hold>();
  /** failures Redis did not take: local cooldown end, until when reads leave the key alone */
  private readonly localOnly = new Map<string, number>();
  /** successes Redis did not take yet */
  private readonly unsent = new Set<string>();
  /** keys this node has a cooldown for (to drop those no longer on record) */
  private readonly known = new Set<string>();
  private readonly asked = new Map<string, number>();
  /** claims granted to this node, and when */
  private readonly claims = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: SharedHealthOptions) {
    this.book = opts.book;
    this.cooldowns = opts.cooldowns;
    this.now = opts.now ?? Date.now;
  }

  /** Attaches to the book and starts the periodic read (the first one at once). */
  start(): void {
    this.book.attach(this);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  failed(channelId: number, index: number, retryAfterMs: number | undefined, until: number): void {
    const s = slot(channelId, index);
    this.known.add(s);
    this.claims.delete(s);
    this.begin(s);
    this.cooldowns.failure(channelId, index, retryAfterMs).then(
      (r) => {
        // answers come back in the order Redis ran them: the last one has the latest end
        this.settle(s);
        this.book.mirror(channelId, index, r.failures, r.until - this.offset);
      },
      () => {
        this.settle(s);
        this.localOnly.set(s, until);
      },
    );
  }

  recovered(channelId: number, index: number): void {
    const s = slot(channelId, index);
    this.known.delete(s);
    this.claims.delete(s);
    this.localOnly.delete(s);
    this.begin(s);
    this.cooldowns.success(channelId, index).then(
      () => this.settle(s),
      () => {
        this.unsent.add(s);
        this.settle(s);
      },
    );
  }

  wantProbe(channelId: number, index: number): void {
    const s = slot(channelId, index);
    const t = this.now();
    if (t - (this.asked.get(s) ?? -Infinity) < ASK_EVERY_MS) return;
    this.asked.set(s, t);
    const g = ++this.gen;
    this.cooldowns.tryAcquire(channelId, index).then(
      (r) => {
        const current = this.applies(s, g);
        if (r.state === 'PROBE') {
          if (current && this.book.grantProbe(channelId, index)) this.claims.set(s, this.now());
          else this.giveBack(channelId, index);
        } else if (!current || r.state === 'PROBING') {
          // another node probes: keep skipping until its result is read
        } else if (r.state === 'COOLING') {
          this.book.mirror(channelId, index, undefined, r.until - this.offset);
        } else {
          this.known.delete(s);
          this.book.clear(channelId, index);
        }
      },
      () => {
        // Redis away: decide alone, as a single daemon does; one failed call is asked again
        if (!this.cooldowns.reachable()) this.book.grantProbe(channelId, index);
      },
    );
  }

  probeReleased(channelId: number, index: number): void {
    this.claims.delete(slot(channelId, index));
    this.giveBack(channelId, index);
  }

  /** One round: give back idle claims, re-send successes, read the record and mirror it. */
  async sync(): Promise<void> {
    const t = this.now();
    for (const [s, at] of this.claims) {
      if (t - at < CLAIM_IDLE_MS) continue;
      this.claims.delete(s);
      const [channelId, index] = unslot(s);
      if (this.book.dropIdleClaim(channelId, index)) this.giveBack(channelId, index);
    }
    for (const [s, until] of this.localOnly) if (t >= until) this.localOnly.delete(s);
    for (const s of this.unsent) {
      this.begin(s);
      try {
        await this.cooldowns.success(...unslot(s));
        this.unsent.delete(s);
      } catch {
        return this.settle(s);
      }
      this.settle(s);
    }
    const g = ++this.gen;
    const t0 = this.now();
    const read = await this.cooldowns.readAll();
    this.offset = read.now - (t0 + this.now()) / 2;
    this.apply(read.records, g);
  }

  private apply(records: { channelId: number; index: number; failures: number; until: number }[], g: number) {
    const seen = new Set<string>();
    for (const r of records) {
      const s = slot(r.channelId, r.index);
      seen.add(s);
      if (!this.applies(s, g)) continue;
      this.known.add(s);
      this.book.mirror(r.channelId, r.index, r.failures, r.until - this.offset);
    }
    for (const s of this.known) {
      if (seen.has(s) || !this.applies(s, g)) continue;
      this.known.delete(s);
      this.book.clear(...unslot(s));
    }
    for (const [s, h] of this.holds) if (h.inFlight === 0 && g >= h.fromGen) this.holds.delete(s);
  }

  /** May an answer to a call of generation g change this key? */
  private applies(s: string, g: number): boolean {
    if (this.unsent.has(s) || this.localOnly.has(s)) return false;
    const h = this.holds.get(s);
    return !h || (h.inFlight === 0 && g >= h.fromGen);
  }

  private begin(s: string): void {
    const h = this.holds.get(s) ?? { inFlight: 0, fromGen: 0 };
    h.inFlight += 1;
    this.holds.set(s, h);
  }

  /** A local change is answered: calls from the next generation on see it. */
  private settle(s: string): void {
    const h = this.holds.get(s);
    if (!h) return;
    h.inFlight -= 1;
    h.fromGen = this.gen + 1;
  }

  private giveBack(channelId: number, index: number): void {
    this.cooldowns.releaseProbe(channelId, index).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sync()
        .catch(() => undefined) // Redis away: local health stands, the next round tries again
        .finally(() => {
          this.running = null;
          this.schedule(this.opts.mirrorMs ?? MIRROR_MS);
        });
    }, ms);
    this.timer.unref();
  }
}

function slot(channelId: number, index: number): string {
  return `${channelId}:${index}`;
}

function unslot(s: string): [number, number] {
  const [channelId, index] = s.split(':').map(Number);
  return [channelId!, index!];
}
