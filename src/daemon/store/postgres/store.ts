/**
 * The Store on PostgreSQL (SPEC section 9): the catalog (channels, keys, prices, groups, bc_meta),
 * the request log with its settlement, and the tenants (users and ledger, codes, invitations,
 * import). Built like SqliteStore: one table object per concern, all on the one shared connection
 * pool this class is given. Every read goes to the database, and any daemon's reads see every
 * daemon's commits. A settlement is durable when settle() resolves: committed to PostgreSQL, or,
 * while PostgreSQL cannot take it, written to the node's spill file (spill.ts) and applied once it
 * returns; while rows wait there the store reports a write fault, so /readyz answers 503 and the
 * gateway takes no new work until they are in.
 */
import type { LogQuery, LogRow, LogStats, UsageDimension } from '../../../shared/control-api.js';
import type {
  ExportWindow,
  ChannelPatch,
  ChannelRecord,
  GroupRecord,
  KeyPatch,
  KeyRecord,
  NewChannel,
  NewKey,
  NewLogRow,
  SpendAfter,
  PriceRecord,
  PrunePreview,
  Store,
  UsageAggregate,
  BalanceChange,
  CreditRequest,
  CreditResult,
  InvitationRecord,
  InviteRecord,
  LedgerRecord,
  NewInvite,
  NewRedeemCodes,
  NewUser,
  RedeemCodeQuery,
  RedeemCodeRecord,
  RedeemRequest,
  RedeemResult,
  RedemptionRecord,
  SignupRequest,
  SignupResult,
  UserPatch,
  UserRecord,
} from '../types.js';
import type { KeyLimit } from '../key-limit.js';
import type { UserUsageQuery } from '../sqlite/tenant-queries.js';
import {
  connectPostgres,
  describePostgresUrl,
  type PostgresOptions,
  type ReservedSql,
  type Sql,
} from './connection.js';
import { PgChannelTable, PgKeyTable, PgMetaTable, PgPriceTable } from './catalog.js';
import { PgLogTable } from './logs.js';
import { pgExportPage } from './log-export.js';
import type { LogCursor } from '../../../shared/log-export.js';
import { PgLogRetention } from './log-retention.js';
import { LogBatcher } from './log-batch.js';
import { PgUserTable } from './tenants-users.js';
import { PgRedeemCodeTable } from './tenants-codes.js';
import { PgInviteTable } from './tenants-invites.js';
import { applyImportPostgres } from './import-apply.js';
import { SettleSpill } from './spill.js';
import type { StoreFault } from '../write-health.js';
import type { ImportApplied, PreparedImport } from '../import-types.js';
import { MIGRATION_LOCK, migratePostgres } from './migrate.js';
import { BcError } from '../../../shared/errors.js';

export class PostgresStore implements Store {
  readonly description: string;
  private readonly channels: PgChannelTable;
  private readonly keys: PgKeyTable;
  private readonly prices: PgPriceTable;
  private readonly meta: PgMetaTable;
  private readonly logs: PgLogTable;
  private readonly retention: PgLogRetention;
  private readonly batch: LogBatcher;
  private readonly users: PgUserTable;
  private readonly codes: PgRedeemCodeTable;
  private readonly invites: PgInviteTable;
  private readonly spill: SettleSpill | null;
  private fault: StoreFault | null = null;
  private readonly faultListeners: ((fault: StoreFault | null) => void)[] = [];

  /**
   * `sql` is migrated already (openPostgresStore); the store ends it on close(). `spillFile`: where
   * settled rows wait while PostgreSQL is away (none: settle() rejects instead). `lock`: the
   * connection holding the daemon lock, released on close() (sql.end() waits for a reserved
   * connection until its timeout).
   */
  constructor(
    readonly sql: Sql,
    url: string,
    spillFile?: string,
    private readonly lock: ReservedSql | null = null,
  ) {
    this.description = describePostgresUrl(url);
    this.channels = new PgChannelTable(sql);
    this.keys = new PgKeyTable(sql);
    this.prices = new PgPriceTable(sql);
    this.meta = new PgMetaTable(sql);
    this.users = new PgUserTable(sql);
    this.codes = new PgRedeemCodeTable(sql, this.users);
    this.invites = new PgInviteTable(sql, this.users, { createKey: (tx, k) => this.keys.create(k, tx) });
    this.logs = new PgLogTable(
      sql,
      async (ref) => (await this.keys.get(ref))?.id,
      async (ref) => (await this.channels.get(ref))?.id,
      async (ref) => (await this.users.get(ref))?.id,
    );
    this.batch = new LogBatcher(sql);
    this.retention = new PgLogRetention(sql);
    this.spill =
      spillFile === undefined
        ? null
        : SettleSpill.open(spillFile, (row, after) => this.batch.settle(row, after), {
            onBacklog: (rows) => this.setFault(rows),
          });
    if (this.spill && this.spill.backlog > 0) this.setFault(this.spill.backlog);
  }

  private setFault(rows: number): void {
    const next =
      rows === 0
        ? null
        : (this.fault ?? {
            reason: `postgres: settled rows are waiting in the spill file until PostgreSQL takes them`,
            since: new Date().toISOString(),
          });
    if (next === this.fault) return;
    this.fault = next;
    for (const l of this.faultListeners) l(next);
  }

  async listChannels(): Promise<ChannelRecord[]> {
    return this.channels.list();
  }
  async getChannel(idOrName: number | string): Promise<ChannelRecord | undefined> {
    return this.channels.get(idOrName);
  }
  async createChannel(c: NewChannel): Promise<ChannelRecord> {
    return this.channels.create(c);
  }
  async updateChannel(id: number, patch: ChannelPatch): Promise<ChannelRecord> {
    return this.channels.patch(id, patch);
  }
  async deleteChannel(id: number): Promise<boolean> {
    return this.channels.delete(id);
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.keys.list();
  }
  async getKey(idOrName: number | string): Promise<KeyRecord | undefined> {
    return this.keys.get(idOrName);
  }
  async getKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    return this.keys.byHash(hash);
  }
  async createKey(k: NewKey, limit?: KeyLimit): Promise<KeyRecord> {
    return limit === undefined ? this.keys.create(k) : this.keys.createWithin(k, limit);
  }
  async updateKey(id: number, patch: KeyPatch): Promise<KeyRecord> {
    return this.keys.patch(id, patch);
  }

  async listPrices(): Promise<PriceRecord[]> {
    return this.prices.list();
  }
  async getPrice(model: string): Promise<PriceRecord | undefined> {
    return this.prices.get(model);
  }
  async setPrice(p: PriceRecord): Promise<PriceRecord> {
    return this.prices.set(p);
  }
  async deletePrice(model: string): Promise<boolean> {
    return this.prices.delete(model);
  }
  async listGroups(): Promise<GroupRecord[]> {
    return this.prices.listGroups();
  }
  async setGroup(g: GroupRecord): Promise<GroupRecord> {
    return this.prices.setGroup(g);
  }

  async getMeta(key: string): Promise<string | null> {
    return this.meta.get(key);
  }
  async setMeta(key: string, value: string): Promise<void> {
    return this.meta.set(key, value);
  }
  async bumpMeta(key: string): Promise<number> {
    return this.meta.bump(key);
  }

  /**
   * Resolves once the row is durable: its row and spend committed in one transaction, shared
   * with the settlements beside it (log-batch.ts; a replay charges nothing), or, while
   * PostgreSQL cannot take it, written to the spill file (then 0: its id is assigned when it is
   * applied). `after`: the key's and user's spend after the commit (none when spilled).
   */
  async settle(row: NewLogRow, after?: SpendAfter): Promise<number> {
    return this.spill === null ? this.batch.settle(row, after) : this.spill.settle(row, after);
  }

  writeFault(): StoreFault | null {
    return this.fault;
  }
  onWriteFault(listener: (fault: StoreFault | null) => void): void {
    this.faultListeners.push(listener);
  }

  // users (SPEC section 11)
  async listUsers(): Promise<UserRecord[]> {
    return this.users.list();
  }
  async getUser(idOrName: number | string): Promise<UserRecord | undefined> {
    return this.users.get(idOrName);
  }
  async createUser(u: NewUser): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    return this.users.create(u);
  }
  async updateUser(id: number, patch: UserPatch): Promise<UserRecord> {
    return this.users.patch(id, patch);
  }
  async creditUser(c: CreditRequest): Promise<CreditResult> {
    return this.users.credit({ ...c, paid: c.kind === 'topup' });
  }
  async userLedger(userId: number, limit: number): Promise<LedgerRecord[]> {
    return this.users.ledger(userId, limit);
  }
  async removeUser(id: number, actor: string): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    return this.users.remove(id, actor);
  }

  // redemption codes
  async createRedeemCodes(c: NewRedeemCodes): Promise<{ record: RedeemCodeRecord; code: string }[]> {
    return this.codes.create(c);
  }
  async listRedeemCodes(q: RedeemCodeQuery): Promise<RedeemCodeRecord[]> {
    return this.codes.list(q);
  }
  async getRedeemCode(ref: number | string): Promise<RedeemCodeRecord | undefined> {
    return this.codes.get(ref);
  }
  async redemptions(codeId: number): Promise<RedemptionRecord[]> {
    return this.codes.redemptions(codeId);
  }
  async revokeRedeemCode(id: number): Promise<RedeemCodeRecord> {
    return this.codes.revoke(id);
  }
  async revokeRedeemBatch(batch: string): Promise<number> {
    return this.codes.revokeBatch(batch);
  }
  async redeem(r: RedeemRequest): Promise<RedeemResult> {
    return this.codes.redeem(r);
  }

  // invitations
  async createInvite(i: NewInvite): Promise<{ invite: InviteRecord; code: string }> {
    return this.invites.create(i);
  }
  async listInvites(): Promise<InviteRecord[]> {
    return this.invites.list();
  }
  async getInvite(ref: number | string): Promise<InviteRecord | undefined> {
    return this.invites.get(ref);
  }
  async revokeInvite(id: number): Promise<InviteRecord> {
    return this.invites.revoke(id);
  }
  async listInvitations(): Promise<InvitationRecord[]> {
    return this.invites.listInvitations();
  }
  async referralCode(userId: number): Promise<string> {
    return this.invites.referralCode(userId);
  }
  async signup(s: SignupRequest): Promise<SignupResult> {
    return this.invites.signup(s);
  }

  async applyImport(p: PreparedImport): Promise<ImportApplied> {
    return applyImportPostgres(this.sql, p);
  }
  async queryLogs(q: LogQuery): Promise<LogRow[]> {
    return this.logs.query(q);
  }
  async exportLogs(q: ExportWindow, after: LogCursor | null, limit: number): Promise<LogRow[]> {
    return pgExportPage(this.sql, this.logs, q, after, limit);
  }
  async usage(by: UsageDimension, sinceIso: string): Promise<UsageAggregate[]> {
    return this.logs.usage(by, sinceIso);
  }
  async userUsage(q: UserUsageQuery): Promise<UsageAggregate[]> {
    return this.logs.userUsage(q);
  }
  async countRequests(): Promise<number> {
    return this.logs.countRequests();
  }
  async rollUpUsage(nowMs: number): Promise<number> {
    return this.logs.rollups.rollUp(nowMs);
  }
  async pruneLogs(beforeIso: string, limit: number): Promise<number> {
    return this.retention.prune(beforeIso, limit);
  }
  async previewPrune(beforeIso: string): Promise<PrunePreview> {
    return this.retention.previewPrune(beforeIso);
  }
  async reclaimLogSpace(): Promise<void> {
    // the space goes back to PostgreSQL (autovacuum), not to the file system
  }
  async logStats(): Promise<LogStats> {
    return this.retention.stats();
  }

  async close(): Promise<void> {
    await this.spill?.close();
    this.lock?.release();
    await this.sql.end({ timeout: 5 });
  }
}

/** Connects, applies pending migrations (safe with other daemons starting at once) and opens the store. */
export async function openPostgresStore(
  url: string,
  opts: PostgresOptions & { spillFile?: string; exclusive?: boolean; clustered?: boolean } = {},
): Promise<PostgresStore> {
  const sql = connectPostgres(url, opts);
  let lock: ReservedSql | null = null;
  try {
    await migratePostgres(sql, describePostgresUrl(url));
    if (opts.exclusive === true) lock = await holdDaemonLock(sql, describePostgresUrl(url), 'alone');
    else if (opts.clustered === true) lock = await holdDaemonLock(sql, describePostgresUrl(url), 'clustered');
  } catch (e) {
    await sql.end({ timeout: 5 });
    throw e;
  }
  return new PostgresStore(sql, url, opts.spillFile, lock);
}

/** The session lock one daemon holds on its database: "BCLD" + 1 (the migrations take "BCLD"). */
export const DAEMON_LOCK = MIGRATION_LOCK + 1;

/**
 * A daemon without BC_REDIS keeps budgets, balances and rate limits in its own memory, so two of
 * them on one database would each allow the whole budget; daemons started with BC_REDIS share
 * them through Redis and may be any number. Each holds the session advisory lock DAEMON_LOCK for
 * as long as it runs: one alone takes it exclusively, clustered ones take it shared, so a second
 * daemon alone, or a daemon alone beside clustered ones (or the other way round), is refused with
 * the reason. The lock goes with the connection: a killed daemon's lock is released by PostgreSQL
 * when its connection drops.
 */
async function holdDaemonLock(sql: Sql, where: string, mode: 'alone' | 'clustered'): Promise<ReservedSql> {
  const conn = await sql.reserve();
  const [row] =
    mode === 'alone'
      ? await conn<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${DAEMON_LOCK}) AS ok`
      : await conn<{ ok: boolean }[]>`SELECT pg_try_advisory_lock_shared(${DAEMON_LOCK}) AS ok`;
  if (row?.ok !== true) {
    conn.release();
    throw new BcError(
      'STARTUP_FAILED',
      mode === 'alone'
        ? `another BurnCloud daemon is using ${where}: without BC_REDIS a daemon keeps budgets and limits in its own memory, so one daemon per database (start every daemon with BC_REDIS=redis://... to run several)`
        : `a BurnCloud daemon without BC_REDIS is using ${where}: it keeps budgets and limits in its own memory, so no other daemon may join it (restart it with BC_REDIS=redis://... as well)`,
    );
  }
  // held until close() releases the connection and sql.end() closes it
  return conn;
}
