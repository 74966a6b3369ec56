/**
 * Channels, client keys, price overrides, groups and bc_meta in PostgreSQL: the same records,
 * errors and messages as the SQLite tables (sqlite/catalog.ts, sqlite/pricing.ts). PostgreSQL
 * returns the same column names (and BIGINTs as numbers, connection.ts), so rows go through the
 * SQLite side's mappers (sqlite/rows.ts) unchanged. An update reads, merges and rewrites the row in
 * one transaction holding the row's lock (SELECT ... FOR NO KEY UPDATE, the lock the UPDATE takes
 * anyway), so two daemons patching one row at once apply one after the other instead of losing a
 * field, and a key's settled spend is never written back stale. Lists sort names byte-wise
 * (COLLATE "C"), as SQLite's BINARY collation does, whatever the database's locale.
 */
import postgres from 'postgres';
import { BcError } from '../../../shared/errors.js';
import { keyLimitReached, type KeyLimit } from '../key-limit.js';
import type {
  ChannelPatch,
  ChannelRecord,
  GroupRecord,
  KeyPatch,
  KeyRecord,
  NewChannel,
  NewKey,
  PriceRecord,
} from '../types.js';
import {
  CHANNEL_COLUMNS,
  channelFromRow,
  channelParams,
  KEY_COLUMNS,
  keyFromRow,
  keyParams,
  PRICE_COLUMNS,
  priceFromRow,
  priceParams,
  type ChannelRow,
  type KeyRow,
  type Params,
  type PriceRow,
} from '../sqlite/rows.js';
import { checkPrice } from '../sqlite/pricing.js';
import type { Sql, TxSql } from './connection.js';

type Query = Sql | TxSql;

/**
 * resolveIdOrName (sqlite/catalog.ts) as one query's parameters: a number is an id; a string is a
 * name, or, when it is all digits and no record has it as a name, an id. The query orders a name
 * match first, so a digit name wins over the id it looks like.
 */
export function idOrNameParams(idOrName: number | string): { name: string | null; id: number | null } {
  if (typeof idOrName === 'number') return { name: null, id: idOrName };
  return { name: idOrName, id: /^\d+$/.test(idOrName) ? Number(idOrName) : null };
}

/** Strips keys whose value is undefined so `{...current, ...patch}` keeps current values. */
function defined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** SQLSTATE 23505 (unique_violation) / 23503 (foreign_key_violation). */
export function isPgConstraint(e: unknown, kind: 'UNIQUE' | 'FOREIGNKEY'): e is postgres.PostgresError {
  return e instanceof postgres.PostgresError && e.code === (kind === 'UNIQUE' ? '23505' : '23503');
}

/** An id too large for BIGINT can name no row; PostgreSQL would refuse the parameter instead. */
function plausibleId(id: number | null): number | null {
  return id !== null && Number.isSafeInteger(id) ? id : null;
}

export class PgChannelTable {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<ChannelRecord[]> {
    const rows = await this.sql<ChannelRow[]>`SELECT * FROM channels ORDER BY id`;
    return rows.map(channelFromRow);
  }

  async byId(id: number, q: Query = this.sql): Promise<ChannelRecord | undefined> {
    if (plausibleId(id) === null) return undefined;
    const [row] = await q<ChannelRow[]>`SELECT * FROM channels WHERE id = ${id}`;
    return row === undefined ? undefined : channelFromRow(row);
  }

  async get(idOrName: number | string): Promise<ChannelRecord | undefined> {
    const { name, id } = idOrNameParams(idOrName);
    const [row] = await this.sql<ChannelRow[]>`
      SELECT * FROM channels WHERE name = ${name} OR id = ${plausibleId(id)}
      ORDER BY name = ${name} IS TRUE DESC LIMIT 1`;
    return row === undefined ? undefined : channelFromRow(row);
  }

  async create(c: NewChannel): Promise<ChannelRecord> {
    const now = new Date().toISOString();
    const params = channelParams({ ...c, createdAt: now, updatedAt: now });
    const [row] = await this.write(
      c.name,
      this.sql<ChannelRow[]>`INSERT INTO channels ${this.sql(params, CHANNEL_COLUMNS)} RETURNING *`,
    );
    return channelFromRow(mustExist(row, 'channel', 0));
  }

  async patch(id: number, patch: ChannelPatch): Promise<ChannelRecord> {
    const name = { value: '' };
    return this.write(
      name,
      this.sql.begin(async (tx) => {
        const current = await this.locked(tx, id);
        const next: ChannelRecord = {
          ...current,
          ...defined(patch),
          id,
          updatedAt: new Date().toISOString(),
        };
        name.value = next.name;
        const params = channelParams(next);
        const [row] = await tx<ChannelRow[]>`
          UPDATE channels SET ${tx(params, CHANNEL_COLUMNS)} WHERE id = ${id} RETURNING *`;
        return channelFromRow(mustExist(row, 'channel', id));
      }),
    );
  }

  async delete(id: number): Promise<boolean> {
    if (plausibleId(id) === null) return false;
    const done = await this.sql`DELETE FROM channels WHERE id = ${id}`;
    return done.count > 0;
  }

  private async locked(tx: TxSql, id: number): Promise<ChannelRecord> {
    const [row] =
      plausibleId(id) === null
        ? []
        : await tx<ChannelRow[]>`SELECT * FROM channels WHERE id = ${id} FOR NO KEY UPDATE`;
    return channelFromRow(mustExist(row, 'channel', id));
  }

  /** A taken name is CONFLICT with SQLite's message (the name known before or during the write). */
  private async write<T>(name: string | { value: string }, run: Promise<T>): Promise<T> {
    try {
      return await run;
    } catch (e) {
      if (isPgConstraint(e, 'UNIQUE')) {
        const n = typeof name === 'string' ? name : name.value;
        throw new BcError('CONFLICT', `a channel named "${n}" already exists`, { cause: e });
      }
      throw e;
    }
  }
}

export class PgKeyTable {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<KeyRecord[]> {
    const rows = await this.sql<KeyRow[]>`SELECT * FROM keys ORDER BY id`;
    return rows.map(keyFromRow);
  }

  async byId(id: number): Promise<KeyRecord | undefined> {
    if (plausibleId(id) === null) return undefined;
    const [row] = await this.sql<KeyRow[]>`SELECT * FROM keys WHERE id = ${id}`;
    return row === undefined ? undefined : keyFromRow(row);
  }

  async byName(name: string): Promise<KeyRecord | undefined> {
    const [row] = await this.sql<KeyRow[]>`SELECT * FROM keys WHERE name = ${name}`;
    return row === undefined ? undefined : keyFromRow(row);
  }

  async byHash(hash: string): Promise<KeyRecord | undefined> {
    const [row] = await this.sql<KeyRow[]>`SELECT * FROM keys WHERE hash = ${hash}`;
    return row === undefined ? undefined : keyFromRow(row);
  }

  async get(idOrName: number | string): Promise<KeyRecord | undefined> {
    const { name, id } = idOrNameParams(idOrName);
    const [row] = await this.sql<KeyRow[]>`
      SELECT * FROM keys WHERE name = ${name} OR id = ${plausibleId(id)}
      ORDER BY name = ${name} IS TRUE DESC LIMIT 1`;
    return row === undefined ? undefined : keyFromRow(row);
  }

  /**
   * Creates the key only if its user holds fewer than `limit.maxHeld` keys not revoked: the user's
   * row is locked first (FOR UPDATE), so two daemons creating for one user count one after the
   * other, and the count and the insert commit together.
   */
  async createWithin(k: NewKey, limit: KeyLimit): Promise<KeyRecord> {
    return this.sql.begin(async (tx) => {
      const user = k.userId ?? null;
      if (user !== null) {
        await tx`SELECT id FROM users WHERE id = ${user} FOR UPDATE`;
        const [row] = await tx<{ held: number }[]>`
          SELECT COUNT(*)::int AS held FROM keys WHERE user_id = ${user} AND status <> 'revoked'`;
        const held = row?.held ?? 0;
        if (held >= limit.maxHeld) throw keyLimitReached(held);
      }
      return this.create(k, tx);
    });
  }

  /** `q`: a transaction to create the key in (a signup's first key), else a statement of its own. */
  async create(k: NewKey, q: Sql | TxSql = this.sql): Promise<KeyRecord> {
    const record = {
      ...k,
      userId: k.userId ?? null,
      strictBudget: k.strictBudget ?? false,
      scope: k.scope ?? 'relay',
      createdBy: k.createdBy ?? 'admin',
      spent: k.spent ?? 0,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
    };
    const params = keyParams(record);
    const [row] = await this.write(
      record,
      q<KeyRow[]>`INSERT INTO keys ${q(params, KEY_COLUMNS)} RETURNING *`,
    );
    return keyFromRow(mustExist(row, 'key', 0));
  }

  async patch(id: number, patch: KeyPatch): Promise<KeyRecord> {
    const next: { name: string; userId: number | null; id: number } = { name: '', userId: null, id };
    return this.write(
      next,
      this.sql.begin(async (tx) => {
        const [locked] =
          plausibleId(id) === null
            ? []
            : await tx<KeyRow[]>`SELECT * FROM keys WHERE id = ${id} FOR NO KEY UPDATE`;
        const current = keyFromRow(mustExist(locked, 'key', id));
        // spent is owned by settle(), the owner never changes: a patch never overwrites them, even
        // if a caller sneaks them in
        const merged: KeyRecord = {
          ...current,
          ...defined(patch),
          id,
          spent: current.spent,
          userId: current.userId,
          scope: current.scope,
          createdBy: current.createdBy,
        };
        next.name = merged.name;
        next.userId = merged.userId;
        // the row lock holds settlements back until this commits, so the spent written is current
        const [row] = await tx<KeyRow[]>`
          UPDATE keys SET ${tx(keyParams(merged), KEY_COLUMNS)} WHERE id = ${id} RETURNING *`;
        return keyFromRow(mustExist(row, 'key', id));
      }),
    );
  }

  private async write<T>(
    k: Pick<KeyRecord, 'name' | 'userId'> & { id?: number },
    run: Promise<T>,
  ): Promise<T> {
    try {
      return await run;
    } catch (e) {
      if (isPgConstraint(e, 'UNIQUE')) {
        // read after the failed statement's transaction is gone, as SQLite's message is chosen
        const holder = await this.byName(k.name);
        const nameTaken = holder !== undefined && holder.id !== k.id;
        const message = nameTaken
          ? `a key named "${k.name}" already exists`
          : 'a key with this secret already exists';
        throw new BcError('CONFLICT', message, { cause: e });
      }
      if (isPgConstraint(e, 'FOREIGNKEY')) {
        throw new BcError('NOT_FOUND', `user ${String(k.userId)} not found`, { cause: e });
      }
      throw e;
    }
  }
}

export class PgPriceTable {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<PriceRecord[]> {
    const rows = await this.sql<PriceRow[]>`SELECT * FROM prices ORDER BY model COLLATE "C"`;
    return rows.map(priceFromRow);
  }

  async get(model: string): Promise<PriceRecord | undefined> {
    const [row] = await this.sql<PriceRow[]>`SELECT * FROM prices WHERE model = ${model}`;
    return row === undefined ? undefined : priceFromRow(row);
  }

  /** Tiers are the catalog's; an override is one flat price, so they are not stored. */
  async set(p: PriceRecord): Promise<PriceRecord> {
    const record: PriceRecord = {
      model: p.model,
      input: p.input,
      output: p.output,
      cacheRead: p.cacheRead,
      cacheWrite: p.cacheWrite,
      perRequest: p.perRequest,
      maxOutputTokens: p.maxOutputTokens,
      source: 'override',
    };
    checkPrice(record);
    const params: Params = priceParams(record);
    const rest = PRICE_COLUMNS.filter((c) => c !== 'model');
    await this.sql`INSERT INTO prices ${this.sql(params, PRICE_COLUMNS)}
      ON CONFLICT (model) DO UPDATE SET ${this.sql(params, rest)}`;
    return record;
  }

  async delete(model: string): Promise<boolean> {
    const done = await this.sql`DELETE FROM prices WHERE model = ${model}`;
    return done.count > 0;
  }

  async listGroups(): Promise<GroupRecord[]> {
    const rows = await this.sql<GroupRecord[]>`SELECT name, ratio FROM groups ORDER BY name COLLATE "C"`;
    return rows.map((g) => ({ name: g.name, ratio: g.ratio }));
  }

  async setGroup(g: GroupRecord): Promise<GroupRecord> {
    if (g.name.length === 0) throw new BcError('INVALID_REQUEST', 'a group needs a name', { param: 'name' });
    if (!Number.isFinite(g.ratio) || g.ratio < 0) {
      throw new BcError('INVALID_REQUEST', `group "${g.name}": ratio must be a non-negative number`, {
        param: 'ratio',
      });
    }
    await this.sql`INSERT INTO groups (name, ratio) VALUES (${g.name}, ${g.ratio})
      ON CONFLICT (name) DO UPDATE SET ratio = excluded.ratio`;
    return { name: g.name, ratio: g.ratio };
  }
}

/** bc_meta: small settings (`tenant.settings`) as text, last writer wins; counters bumped atomically. */
export class PgMetaTable {
  constructor(private readonly sql: Sql) {}

  async get(key: string): Promise<string | null> {
    const [row] = await this.sql<{ value: string }[]>`SELECT value FROM bc_meta WHERE key = ${key}`;
    return row?.value ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    await this.sql`INSERT INTO bc_meta (key, value) VALUES (${key}, ${value})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
  }

  async bump(key: string): Promise<number> {
    const [row] = await this.sql<{ value: string }[]>`
      INSERT INTO bc_meta (key, value) VALUES (${key}, '1')
      ON CONFLICT (key) DO UPDATE SET value = (bc_meta.value::bigint + 1)::text
      RETURNING value`;
    return Number(row!.value);
  }
}

function mustExist<T>(row: T | undefined, what: 'channel' | 'key', id: number): T {
  if (row === undefined) throw new BcError('NOT_FOUND', `${what} ${id} not found`);
  return row;
}
