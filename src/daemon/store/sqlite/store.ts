/**
 * The Store on one SQLite file. better-sqlite3 is synchronous and fast enough that the daemon
 * calls it on the event loop; the async signatures exist so a PostgreSQL store can implement the
 * same interface. Each concern lives in its own table class; this class only wires them together,
 * and keeps the write health: a settlement the journal could not write, or rows the database could
 * not take, mark the store failing (write-health.ts) until a probe write passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogQuery, LogRow, LogStats, UsageDimension } from '../../../shared/control-api.js';
import type {
  ExportWindow,
  BalanceChange,
  CreditRequest,
  CreditResult,
  LedgerRecord,
  NewUser,
  UserPatch,
  UserRecord,
  NewRedeemCodes,
  RedeemCodeQuery,
  RedeemCodeRecord,
  RedeemRequest,
  RedeemResult,
  RedemptionRecord,
  ChannelPatch,
  ChannelRecord,
  GroupRecord,
  KeyPatch,
  KeyRecord,
  NewChannel,
  NewKey,
  NewLogRow,
  PriceRecord,
  PrunePreview,
  Store,
  UsageAggregate,
} from '../types.js';
import type { KeyLimit } from '../key-limit.js';
import { ChannelTable, KeyTable } from './catalog.js';
import { openSqliteDatabase, type Db } from './database.js';
import { LogTable } from './logs.js';
import { LogExportPages } from './log-export.js';
import type { LogCursor } from '../../../shared/log-export.js';
import { SqliteLogRetention } from './log-retention.js';
import { applyImport } from './import-apply.js';
import type { ImportApplied, PreparedImport } from '../import-types.js';
import { TenantQueries, type UserUsageQuery } from './tenant-queries.js';
import { UserTable } from './users.js';
import { RedeemCodeTable } from './redeem-codes.js';
import type { Migration } from './migrations.js';
import { PriceTable } from './pricing.js';
import { SettleJournal, type ApplyBatch, type JournalEntry } from './journal.js';
import { isWorkerFileOf, workerFile, type WorkerIdentity } from '../../workers/identity.js';
import { probeDatabaseWrite } from './database.js';
import {
  WriteHealth,
  describeWriteError,
  storeUnavailable,
  type FaultListener,
  type StoreFault,
} from '../write-health.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import type { InvitationRecord, InviteRecord, NewInvite, SignupRequest, SignupResult } from '../types.js';
import { InviteTable } from './invites.js';
import { parseTenantSettings, TENANT_SETTINGS_KEY } from '../../tenants/settings.js';

export class SqliteStore implements Store {
  readonly description: string;
  private readonly channels: ChannelTable;
  private readonly keys: KeyTable;
  private readonly prices: PriceTable;
  private readonly logs: LogTable;
  private readonly exportPages: LogExportPages;
  private readonly retention: SqliteLogRetention;
  private readonly tenantQueries: TenantQueries;
  /** users and their ledger; the tenant tables (codes, invites, import) build on it */
  readonly users: UserTable;
  /** redemption codes (stored hashed) and their redemptions */
  readonly redeemCodes: RedeemCodeTable;
  private readonly metaGet;
  private readonly metaSet;
  private readonly metaBump;
  /** null for an in-memory database: settle then commits directly */
  private readonly journal: SettleJournal | null;
  private checkpointer: Checkpointer | undefined;
  private readonly writes = new WriteHealth(() => this.probeWrites());
  /** admin invites, referral codes, signup, and the invitation payout it hooks on users' paid credits */
  readonly invites: InviteTable;

  constructor(
    private readonly db: Db,
    file: string,
    worker: WorkerIdentity | null = null,
  ) {
    this.description = `sqlite:${file}`;
    this.channels = new ChannelTable(db);
    this.keys = new KeyTable(db);
    this.prices = new PriceTable(db);
    this.users = new UserTable(db);
    this.redeemCodes = new RedeemCodeTable(db, this.users);
    this.logs = new LogTable(
      db,
      (ref) => this.keys.get(ref)?.id,
      (ref) => this.channels.get(ref)?.id,
      (ref) => this.users.get(ref)?.id,
    );
    this.exportPages = new LogExportPages(db, this.logs);
    this.tenantQueries = new TenantQueries(db, this.logs.rollups);
    this.retention = new SqliteLogRetention(db);
    this.metaGet = db.prepare<[string], string>('SELECT value FROM bc_meta WHERE key = ?').pluck();
    this.metaSet = db.prepare<[string, string]>('INSERT OR REPLACE INTO bc_meta (key, value) VALUES (?, ?)');
    // one statement: atomic under SQLite's write lock, also between processes (--workers)
    this.metaBump = db
      .prepare<[string], string>(
        `INSERT INTO bc_meta (key, value) VALUES (?, '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) RETURNING value`,
      )
      .pluck();
    this.invites = new InviteTable(db, this.users, {
      createKey: (k) => this.keys.create(k),
      // read inside the paid credit's transaction: a settings change applies to the next credit
      settings: () => parseTenantSettings(this.metaGet.get(TENANT_SETTINGS_KEY) ?? null),
    });
    if (file === ':memory:') {
      this.journal = null;
    } else {
      const apply = (e: JournalEntry[]): JournalEntry[] => {
        this.startCheckpoints(file);
        const left = this.logs.applyEntries(e);
        if (left.length > 0) this.databaseFailed();
        // a worker's next ids go above what the other workers wrote meanwhile
        if (worker !== null) this.journal?.raiseTo(this.logs.lastId());
        return left;
      };
      const journalFile = `${file}-settle.jsonl`;
      // the one daemon on the file (or the supervisor before it starts workers) takes over what
      // workers of an earlier run left unapplied, so fewer workers now loses none of their rows
      if (worker === null) replayWorkerJournals(journalFile, apply, () => this.logs.lastId());
      this.journal = SettleJournal.open(
        workerFile(journalFile, worker),
        apply,
        this.logs.lastId(),
        worker === null ? undefined : { stride: worker.count, residue: worker.index },
      );
    }
  }

  /**
   * Once requests are being settled, WAL checkpoints move to a worker thread so none runs inside
   * a commit on the request path. The worker (its own V8 isolate, about 16 MB) starts with the
   * first settlement: a daemon that only ever saw control-plane writes keeps SQLite's automatic
   * checkpoint and does not pay for it.
   */
  private startCheckpoints(file: string): void {
    if (this.checkpointer) return;
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpointer = startCheckpointer(file);
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
    this.settled();
    return this.keys.list();
  }
  async getKey(idOrName: number | string): Promise<KeyRecord | undefined> {
    this.settled();
    return this.keys.get(idOrName);
  }
  async getKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    this.settled();
    return this.keys.byHash(hash);
  }
  async createKey(k: NewKey, limit?: KeyLimit): Promise<KeyRecord> {
    return this.keys.create(k, limit);
  }
  async updateKey(id: number, patch: KeyPatch): Promise<KeyRecord> {
    return this.keys.patch(id, patch);
  }

  async listUsers(): Promise<UserRecord[]> {
    this.settled();
    return this.users.list();
  }
  async getUser(idOrName: number | string): Promise<UserRecord | undefined> {
    this.settled();
    return this.users.get(idOrName);
  }
  async createUser(u: NewUser): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    return this.users.create(u);
  }
  async updateUser(id: number, patch: UserPatch): Promise<UserRecord> {
    this.settled();
    return this.users.patch(id, patch);
  }
  async creditUser(c: CreditRequest): Promise<CreditResult> {
    // the balance the ledger row records includes every settled request
    this.settled();
    return this.users.credit({ ...c, paid: c.kind === 'topup' });
  }
  async userLedger(userId: number, limit: number): Promise<LedgerRecord[]> {
    return this.users.ledger(userId, limit);
  }
  async removeUser(id: number, actor: string): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    this.settled();
    return this.users.remove(id, actor);
  }
  async getMeta(key: string): Promise<string | null> {
    return this.metaGet.get(key) ?? null;
  }
  async setMeta(key: string, value: string): Promise<void> {
    this.metaSet.run(key, value);
  }
  async bumpMeta(key: string): Promise<number> {
    return Number(this.metaBump.get(key));
  }

  async createRedeemCodes(c: NewRedeemCodes): Promise<{ record: RedeemCodeRecord; code: string }[]> {
    return this.redeemCodes.create(c);
  }
  async listRedeemCodes(q: RedeemCodeQuery): Promise<RedeemCodeRecord[]> {
    return this.redeemCodes.list(q);
  }
  async getRedeemCode(ref: number | string): Promise<RedeemCodeRecord | undefined> {
    return this.redeemCodes.get(ref);
  }
  async redemptions(codeId: number): Promise<RedemptionRecord[]> {
    return this.redeemCodes.redemptions(codeId);
  }
  async revokeRedeemCode(id: number): Promise<RedeemCodeRecord> {
    return this.redeemCodes.revoke(id);
  }
  async revokeRedeemBatch(batch: string): Promise<number> {
    return this.redeemCodes.revokeBatch(batch);
  }
  async redeem(r: RedeemRequest): Promise<RedeemResult> {
    // the balance the ledger row records includes every settled request
    this.settled();
    return this.redeemCodes.redeem(r);
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
    this.settled();
    return this.invites.signup(s);
  }

  /**
   * Resolves once the row is durable: written to the settlement journal (one write, no database
   * commit on the request path). It reaches the logs table within milliseconds, and before any
   * read below that could miss it.
   */
  async settle(row: NewLogRow): Promise<number> {
    if (this.writes.current) throw storeUnavailable();
    try {
      return await (this.journal ? this.journal.settle(row) : this.logs.settle(row));
    } catch (err) {
      const where = this.journal ? 'settlement journal' : 'database';
      this.writes.failed(`${where}: ${describeWriteError(err)}`);
      throw storeUnavailable(err);
    }
  }

  writeFault(): StoreFault | null {
    return this.writes.current;
  }
  onWriteFault(listener: FaultListener): void {
    this.writes.onChange(listener);
  }

  /**
   * Rows the database would not take: a failing disk if a probe write fails too (then the store
   * is failing); otherwise something about those rows, which stay in the journal for later.
   */
  private databaseFailed(): void {
    const reason = probeDatabaseWrite(this.db);
    if (reason !== null) this.writes.failed(`database: ${reason}`);
  }

  /** While failing: can the journal and the database take a write again? */
  private probeWrites(): string | null {
    const journal = this.journal?.probe() ?? null;
    if (journal !== null) return `settlement journal: ${journal}`;
    const database = probeDatabaseWrite(this.db);
    if (database !== null) return `database: ${database}`;
    // rows journaled while only the database failed go in now
    this.journal?.flush();
    return null;
  }

  /** Applies journaled settlements before a read that must see them (logs, usage, spend). */
  private settled(): void {
    this.journal?.flush();
  }
  async queryLogs(q: LogQuery): Promise<LogRow[]> {
    this.settled();
    return this.logs.query(q);
  }
  async exportLogs(q: ExportWindow, after: LogCursor | null, limit: number): Promise<LogRow[]> {
    this.settled();
    return this.exportPages.page(q, after, limit);
  }
  async usage(by: UsageDimension, sinceIso: string): Promise<UsageAggregate[]> {
    this.settled();
    return this.logs.usage(by, sinceIso);
  }
  async userUsage(q: UserUsageQuery): Promise<UsageAggregate[]> {
    this.settled();
    return this.tenantQueries.userUsage(q);
  }
  async countRequests(): Promise<number> {
    this.settled();
    return this.logs.countRequests();
  }
  async rollUpUsage(nowMs: number): Promise<number> {
    this.settled();
    return this.logs.rollups.rollUp(nowMs);
  }

  async pruneLogs(beforeIso: string, limit: number): Promise<number> {
    // rows journaled before the prune reach the table first, so none arrives after it
    this.settled();
    return this.retention.prune(beforeIso, limit);
  }
  async previewPrune(beforeIso: string): Promise<PrunePreview> {
    this.settled();
    return this.retention.previewPrune(beforeIso);
  }
  async reclaimLogSpace(): Promise<void> {
    // one short transaction per step, the event loop free in between
    while (this.db.open && this.retention.vacuumStep()) await new Promise((r) => setImmediate(r));
    if (this.db.open) this.retention.checkpoint();
  }
  async logStats(): Promise<LogStats> {
    this.settled();
    return this.retention.stats();
  }

  async applyImport(p: PreparedImport): Promise<ImportApplied> {
    this.settled();
    return applyImport(this.db, p);
  }

  async close(): Promise<void> {
    this.writes.stop();
    if (this.db.open) this.journal?.close();
    await this.checkpointer?.stop();
    this.checkpointer = undefined;
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens (creating and migrating as needed) the SQLite store at an absolute file path; `worker`:
 * this process is one of `--workers N` sharing the file (the supervisor migrated it already).
 */
export function openSqliteStore(
  file: string,
  migrations?: readonly Migration[],
  worker: WorkerIdentity | null = null,
): SqliteStore {
  return new SqliteStore(openSqliteDatabase(file, migrations), file, worker);
}

/** Applies and removes the journals of workers of an earlier run (`<file>-settle-w<i>.jsonl`). */
function replayWorkerJournals(journalFile: string, apply: ApplyBatch, lastId: () => number): void {
  const dir = path.dirname(journalFile);
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (!isWorkerFileOf(journalFile, file)) continue;
    const journal = SettleJournal.open(file, apply, lastId());
    const left = journal.backlog;
    journal.close();
    // rows the database would not take stay in the file for the next start
    if (left === 0) fs.rmSync(file, { force: true });
  }
}
