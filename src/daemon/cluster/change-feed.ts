/**
 * How an edit made through one node's socket reaches every node within a second (SPEC section 9,
 * SCALEOUT.md 2(d)). After a node commits a control-plane change and refreshed itself, it
 * `announce()`s: one statement raises the configuration version in the shared database (`bc_meta`
 * `config.version`) and the new version is published on Redis (`<prefix>config`). Every node
 * refreshes when it hears of a version above the one it has, from either of two paths:
 *
 * - the Redis message, which arrives in milliseconds while the node is subscribed;
 * - a poll of the version row every `pollMs`, which needs nothing but the database, so a node
 *   that lost Redis, or missed messages while it was reconnecting (pub/sub keeps nothing for
 *   absent subscribers), still catches up in under a second. The default is 250 ms: a refresh on
 *   a loaded node takes a few hundred milliseconds, and with 500 ms an edit seen only through the
 *   poll took 1.05 to 1.15 s on a busy two-core machine; one row read four times a second costs
 *   nothing.
 *
 * The subscription is checked at every poll too: ioredis subscribes again after a reconnect, but
 * a subscribe that fails then (refused by an ACL, say) is never tried again, so the message path
 * would stay dead until the next disconnect. A poll that finds the connection up without the
 * subscription makes it again.
 *
 * The version only goes up, and a node refreshes at most once per version it learns of, so a
 * message and a poll that report the same change cost one refresh. A refresh that fails (the
 * database is away) is retried by the next poll.
 */
import { Redis } from 'ioredis';
import type { Store } from '../store/types.js';

export const CONFIG_VERSION_KEY = 'config.version';

export interface ChangeFeedOptions {
  /** where the version row lives: the shared database (PostgreSQL, or the SQLite file of --workers) */
  store: Pick<Store, 'getMeta' | 'bumpMeta'>;
  /** Redis URL; without it, the poll alone carries changes (still under a second) */
  redisUrl?: string;
  /** key prefix on Redis, shared by every node of one gateway */
  prefix?: string;
  pollMs?: number;
  /** rebuilds this node's snapshot from the store (Services.refresh) */
  refresh: () => Promise<void>;
  /** told when a path fails or comes back, for logs and metrics */
  onEvent?: (event: ChangeFeedEvent) => void;
}

export type ChangeFeedEvent =
  | { kind: 'refreshed'; version: number; via: 'message' | 'poll' }
  | { kind: 'refresh_failed'; error: unknown }
  | { kind: 'poll_failed'; error: unknown };

export class ChangeFeed {
  /** the highest version this node has refreshed to */
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;
  private publisher: Redis | undefined;
  private refreshing: Promise<void> | null = null;
  /** the subscriber connection is subscribed to the channel (false again when it closes) */
  private listening = false;
  private subscribing = false;
  private wanted = 0;
  private stopped = false;
  private readonly channel: string;

  constructor(private readonly opts: ChangeFeedOptions) {
    this.channel = `${opts.prefix ?? 'bc:'}config`;
  }

  /** Reads the current version (this node's snapshot is taken as up to date with it) and listens. */
  async start(): Promise<void> {
    this.version = await this.readVersion();
    this.wanted = this.version;
    if (this.opts.redisUrl) {
      // a subscriber connection of its own; ioredis resubscribes after a reconnect
      this.subscriber = new Redis(this.opts.redisUrl, {
        maxRetriesPerRequest: null,
        autoResubscribe: true,
        connectionName: `${this.channel.replace(/[^A-Za-z0-9:_-]/g, '_')}-feed`,
        // back within ~0.5 s of Redis returning; the poll covers the gap
        retryStrategy: (times: number) => Math.min(times * 100, 500),
      });
      this.publisher = new Redis(this.opts.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 200,
      });
      // connection errors are expected while Redis is away: the poll covers them
      this.subscriber.on('error', () => undefined);
      this.publisher.on('error', () => undefined);
      this.subscriber.on('message', (_channel: string, text: string) => {
        const v = Number(text);
        if (Number.isSafeInteger(v)) this.learn(v, 'message');
      });
      this.subscriber.on('close', () => {
        this.listening = false;
      });
      // not awaited: while Redis is away this waits for a connection (the intent is kept and
      // replayed on connect), and start() must not wait with it
      this.subscribe();
    }
    this.schedulePoll();
  }

  /**
   * After this node committed a change (and refreshed itself): raise the version and tell the
   * others. The database step is what counts; a Redis message that cannot be sent only means the
   * others learn of it from their next poll.
   */
  async announce(): Promise<number> {
    const v = await this.opts.store.bumpMeta(CONFIG_VERSION_KEY);
    // this node is up to date with its own change
    if (v > this.version) this.version = v;
    if (v > this.wanted) this.wanted = v;
    try {
      await this.publisher?.publish(this.channel, String(v));
    } catch {
      // Redis away: the others' polls carry it
    }
    return v;
  }

  /** The version this node has refreshed to. */
  current(): number {
    return this.version;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.subscriber?.disconnect();
    this.publisher?.disconnect();
    await this.refreshing;
  }

  private async readVersion(): Promise<number> {
    const value = await this.opts.store.getMeta(CONFIG_VERSION_KEY);
    return value === null ? 0 : Number(value);
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.opts.pollMs ?? 250);
    this.timer.unref();
  }

  private subscribe(): void {
    if (!this.subscriber || this.subscribing) return;
    this.subscribing = true;
    this.subscriber
      .subscribe(this.channel)
      .then(() => {
        this.listening = true;
      })
      .catch(() => undefined)
      .finally(() => {
        this.subscribing = false;
      });
  }

  private async poll(): Promise<void> {
    // connected but not subscribed (a resubscribe that failed): subscribe again
    if (this.subscriber?.status === 'ready' && !this.listening) this.subscribe();
    try {
      this.learn(await this.readVersion(), 'poll');
      // a refresh that failed earlier is tried again, even without a newer version
      if (this.wanted > this.version) this.kick('poll');
    } catch (error) {
      this.opts.onEvent?.({ kind: 'poll_failed', error });
    } finally {
      this.schedulePoll();
    }
  }

  private learn(v: number, via: 'message' | 'poll'): void {
    if (v <= this.wanted) return;
    this.wanted = v;
    this.kick(via);
  }

  /** One refresh at a time; one that ends behind the wanted version starts another. */
  private kick(via: 'message' | 'poll'): void {
    if (this.refreshing || this.stopped) return;
    const target = this.wanted;
    this.refreshing = (async () => {
      try {
        await this.opts.refresh();
        this.version = Math.max(this.version, target);
        this.opts.onEvent?.({ kind: 'refreshed', version: target, via });
      } catch (error) {
        this.opts.onEvent?.({ kind: 'refresh_failed', error });
      } finally {
        this.refreshing = null;
      }
      if (this.wanted > this.version && !this.stopped) this.kick(via);
    })();
  }
}
