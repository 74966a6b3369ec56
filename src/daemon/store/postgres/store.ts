/**
 * The Store on PostgreSQL (SPEC section 9), part 1: the catalog (channels, keys, prices, groups,
 * bc_meta) and the request log with its settlement. Built like SqliteStore: one table object per
 * concern, all on the one shared connection pool this class is given, so the tenant tables
 * (users, ledger, codes, invites; postgres/tenants*.ts) are composed in beside them later. Every
 * read goes to the database: there is no journal in front of it, a settlement is durable when
 * settle() resolves, and any daemon's reads see every daemon's commits.
 */
import type { LogQuery, LogRow, UsageDimension } from '../../../shared/control-api.js';
import type {
  ChannelPatch,
  ChannelRecord,
  GroupRecord,
  KeyPatch,
  KeyRecord,
  NewChannel,
  NewKey,
  NewLogRow,
  PriceRecord,
  Store,
  UsageAggregate,
} from '../types.js';
import type { UserUsageQuery } from '../sqlite/tenant-queries.js';
import { connectPostgres, describePostgresUrl, type PostgresOptions, type Sql } from './connection.js';
import { idOrNameParams, PgChannelTable, PgKeyTable, PgMetaTable, PgPriceTable } from './catalog.js';
import { PgLogTable } from './logs.js';
import { migratePostgres } from './migrate.js';

/** The part of the Store interface this class implements so far (the tenant part comes later). */
export type CatalogLogStore = Pick<
  Store,
  | 'description'
  | 'listChannels'
  | 'getChannel'
  | 'createChannel'
  | 'updateChannel'
  | 'deleteChannel'
  | 'listKeys'
  | 'getKey'
  | 'getKeyByHash'
  | 'createKey'
  | 'updateKey'
  | 'listPrices'
  | 'getPrice'
  | 'setPrice'
  | 'deletePrice'
  | 'listGroups'
  | 'setGroup'
  | 'getMeta'
  | 'setMeta'
  | 'settle'
  | 'queryLogs'
  | 'usage'
  | 'userUsage'
  | 'countRequests'
  | 'close'
>;

export class PostgresStore implements CatalogLogStore {
  readonly description: string;
  private readonly channels: PgChannelTable;
  private readonly keys: PgKeyTable;
  private readonly prices: PgPriceTable;
  private readonly meta: PgMetaTable;
  private readonly logs: PgLogTable;

  /** `sql` is migrated already (openPostgresStore); the store ends it on close(). */
  constructor(
    readonly sql: Sql,
    url: string,
  ) {
    this.description = describePostgresUrl(url);
    this.channels = new PgChannelTable(sql);
    this.keys = new PgKeyTable(sql);
    this.prices = new PgPriceTable(sql);
    this.meta = new PgMetaTable(sql);
    this.logs = new PgLogTable(
      sql,
      async (ref) => (await this.keys.get(ref))?.id,
      async (ref) => (await this.channels.get(ref))?.id,
      (ref) => this.userIdOf(ref),
    );
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
  async createKey(k: NewKey): Promise<KeyRecord> {
    return this.keys.create(k);
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

  /** Resolves once the row and its spend are committed (one transaction; a replay charges nothing). */
  async settle(row: NewLogRow): Promise<number> {
    return this.logs.settle(row);
  }
  async queryLogs(q: LogQuery): Promise<LogRow[]> {
    return this.logs.query(q);
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

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  /**
   * A user reference (name or id) for the log filter `--user`, with the same id-or-name rule as
   * the SQLite user table; the tenant part's user table takes this over when it is composed in.
   */
  private async userIdOf(ref: string): Promise<number | undefined> {
    const { name, id } = idOrNameParams(ref);
    const safeId = id !== null && Number.isSafeInteger(id) ? id : null;
    const [row] = await this.sql<{ id: number; status: string }[]>`
      SELECT id, status FROM users WHERE name = ${name} OR id = ${safeId}
      ORDER BY name = ${name} IS TRUE DESC LIMIT 1`;
    // a deleted user is gone for lookups, as in the SQLite user table's get()
    return row === undefined || row.status === 'deleted' ? undefined : row.id;
  }
}

/** Connects, applies pending migrations (safe with other daemons starting at once) and opens the store. */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
  const sql = connectPostgres(url, opts);
  try {
    await migratePostgres(sql, describePostgresUrl(url));
  } catch (e) {
    await sql.end({ timeout: 5 });
    throw e;
  }
  return new PostgresStore(sql, url);
}
