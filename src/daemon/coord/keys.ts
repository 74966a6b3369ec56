/**
 * Redis key names of the coordinator, all under one prefix (a deployment's namespace, or a test's).
 * Per client key `k:ID:*`, per user `u:ID:*`; budget accounts are HASHes {spent, reserved} for a
 * key and {balance, spent, reserved} for a user (spent: the user's durable spent the balance
 * reflects, scripts.ts SETTLE), holds a HASH requestId -> micro-USD, leases a ZSET requestId ->
 * deadline (ms, Redis clock).
 * Rate windows are HASHes epochSecond -> count, concurrency a ZSET of leases.
 */
export class CoordKeys {
  constructor(readonly prefix: string) {}

  /** present once the durable state has been seeded; absent in an empty (restarted) Redis */
  get ready(): string {
    return `${this.prefix}ready`;
  }

  get reseedLock(): string {
    return `${this.prefix}lock:reseed`;
  }

  /** [acct, res, lease] of a key's budget */
  keyBudget(keyId: number): [string, string, string] {
    const b = `${this.prefix}k:${keyId}:`;
    return [`${b}acct`, `${b}res`, `${b}lease`];
  }

  /** [acct, res, lease] of a user's wallet */
  userWallet(userId: number): [string, string, string] {
    const b = `${this.prefix}u:${userId}:`;
    return [`${b}acct`, `${b}res`, `${b}lease`];
  }

  /** [rpm, tpm, conc] of a key ('k') or user ('u') */
  rates(kind: 'k' | 'u', id: number): [string, string, string] {
    const b = `${this.prefix}r${kind}:${id}:`;
    return [`${b}rpm`, `${b}tpm`, `${b}conc`];
  }

  settled(requestId: string): string {
    return `${this.prefix}done:${requestId}`;
  }

  released(requestId: string): string {
    return `${this.prefix}rel:${requestId}`;
  }

  cooldown(channelId: number, index: number): string {
    return `${this.prefix}cd:${channelId}:${index}`;
  }

  /** ZSET "channelId:index" -> when the cooldown record lapses: the keys with failures on record */
  get cooldownIndex(): string {
    return `${this.prefix}cds`;
  }

  probe(channelId: number, index: number): string {
    return `${this.prefix}probe:${channelId}:${index}`;
  }

  /** ZSET failure id -> when (ms, Redis clock): a redemption subject's failures (redeem-window.ts) */
  redeemFailures(subject: string): string {
    return `${this.prefix}rf:${subject}`;
  }
}
