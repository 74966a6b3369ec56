/**
 * Channels and client keys in SQLite. Names are unique per entity and lookups accept an id or a
 * name; updates read, merge and rewrite the whole row inside one transaction so every statement
 * can be prepared once instead of built per patch.
 */
import Database from 'better-sqlite3';
import { BcError } from '../../../shared/errors.js';
import type { ChannelPatch, ChannelRecord, KeyPatch, KeyRecord, NewChannel, NewKey } from '../types.js';
import type { Db } from './database.js';
import { keyLimitReached, type KeyLimit } from '../key-limit.js';
import {
  CHANNEL_COLUMNS,
  channelFromRow,
  channelParams,
  insertSql,
  KEY_COLUMNS,
  keyFromRow,
  keyParams,
  updateSql,
  type ChannelRow,
  type KeyRow,
  type Params,
} from './rows.js';

/** A string that is all digits may be an id when no record has it as a name. */
export function resolveIdOrName<T>(
  idOrName: number | string,
  byId: (id: number) => T | undefined,
  byName: (name: string) => T | undefined,
): T | undefined {
  if (typeof idOrName === 'number') return byId(idOrName);
  const named = byName(idOrName);
  if (named !== undefined || !/^\d+$/.test(idOrName)) return named;
  return byId(Number(idOrName));
}

/** Strips keys whose value is undefined so `{...current, ...patch}` keeps current values. */
function defined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function isConstraint(e: unknown, kind: 'UNIQUE' | 'FOREIGNKEY'): boolean {
  return e instanceof Database.SqliteError && e.code === `SQLITE_CONSTRAINT_${kind}`;
}

export class ChannelTable {
  private readonly all;
  private readonly byIdStmt;
  private readonly byNameStmt;
  private readonly insert;
  private readonly update;
  private readonly remove;

  constructor(private readonly db: Db) {
    this.all = db.prepare<[], ChannelRow>('SELECT * FROM channels ORDER BY id');
    this.byIdStmt = db.prepare<[number], ChannelRow>('SELECT * FROM channels WHERE id = ?');
    this.byNameStmt = db.prepare<[string], ChannelRow>('SELECT * FROM channels WHERE name = ?');
    this.insert = db.prepare<[Params]>(insertSql('channels', CHANNEL_COLUMNS));
    this.update = db.prepare<[Params]>(updateSql('channels', CHANNEL_COLUMNS, 'id = @id'));
    this.remove = db.prepare<[number]>('DELETE FROM channels WHERE id = ?');
  }

  list(): ChannelRecord[] {
    return this.all.all().map(channelFromRow);
  }

  byId(id: number): ChannelRecord | undefined {
    const row = this.byIdStmt.get(id);
    return row === undefined ? undefined : channelFromRow(row);
  }

  byName(name: string): ChannelRecord | undefined {
    const row = this.byNameStmt.get(name);
    return row === undefined ? undefined : channelFromRow(row);
  }

  get(idOrName: number | string): ChannelRecord | undefined {
    return resolveIdOrName(
      idOrName,
      (id) => this.byId(id),
      (n) => this.byName(n),
    );
  }

  create(c: NewChannel): ChannelRecord {
    const now = new Date().toISOString();
    const id = this.write(c.name, () =>
      this.insert.run(channelParams({ ...c, createdAt: now, updatedAt: now })),
    );
    return this.mustGet(Number(id));
  }

  patch(id: number, patch: ChannelPatch): ChannelRecord {
    return this.db.transaction(() => {
      const current = this.mustGet(id);
      const next: ChannelRecord = { ...current, ...defined(patch), id, updatedAt: new Date().toISOString() };
      this.write(next.name, () => this.update.run(channelParams(next)));
      return this.mustGet(id);
    })();
  }

  delete(id: number): boolean {
    return this.remove.run(id).changes > 0;
  }

  private mustGet(id: number): ChannelRecord {
    const c = this.byId(id);
    if (c === undefined) throw new BcError('NOT_FOUND', `channel ${id} not found`);
    return c;
  }

  private write(name: string, run: () => Database.RunResult): number | bigint {
    try {
      return run().lastInsertRowid;
    } catch (e) {
      if (isConstraint(e, 'UNIQUE')) {
        throw new BcError('CONFLICT', `a channel named "${name}" already exists`, { cause: e });
      }
      throw e;
    }
  }
}

export class KeyTable {
  private readonly all;
  private readonly byIdStmt;
  private readonly byNameStmt;
  private readonly byHashStmt;
  private readonly insert;
  private readonly update;
  private readonly heldStmt;

  constructor(private readonly db: Db) {
    this.all = db.prepare<[], KeyRow>('SELECT * FROM keys ORDER BY id');
    this.heldStmt = db
      .prepare<[number], number>("SELECT COUNT(*) FROM keys WHERE user_id = ? AND status <> 'revoked'")
      .pluck();
    this.byIdStmt = db.prepare<[number], KeyRow>('SELECT * FROM keys WHERE id = ?');
    this.byNameStmt = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE name = ?');
    this.byHashStmt = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE hash = ?');
    this.insert = db.prepare<[Params]>(insertSql('keys', KEY_COLUMNS));
    this.update = db.prepare<[Params]>(updateSql('keys', KEY_COLUMNS, 'id = @id'));
  }

  list(): KeyRecord[] {
    return this.all.all().map(keyFromRow);
  }

  byId(id: number): KeyRecord | undefined {
    const row = this.byIdStmt.get(id);
    return row === undefined ? undefined : keyFromRow(row);
  }

  byName(name: string): KeyRecord | undefined {
    const row = this.byNameStmt.get(name);
    return row === undefined ? undefined : keyFromRow(row);
  }

  byHash(hash: string): KeyRecord | undefined {
    const row = this.byHashStmt.get(hash);
    return row === undefined ? undefined : keyFromRow(row);
  }

  get(idOrName: number | string): KeyRecord | undefined {
    return resolveIdOrName(
      idOrName,
      (id) => this.byId(id),
      (n) => this.byName(n),
    );
  }

  /**
   * With `limit`, BEGIN IMMEDIATE takes the database's write lock before the count, so no other
   * connection (another process on the file) can insert between the count and the insert.
   */
  create(k: NewKey, limit?: KeyLimit): KeyRecord {
    if (limit === undefined) return this.insertKey(k);
    return this.db
      .transaction(() => {
        const user = k.userId ?? null;
        const held = user === null ? 0 : (this.heldStmt.get(user) ?? 0);
        if (held >= limit.maxHeld) throw keyLimitReached(held);
        return this.insertKey(k);
      })
      .immediate();
  }

  private insertKey(k: NewKey): KeyRecord {
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
    const id = this.write(record, () => this.insert.run(keyParams(record)));
    return this.mustGet(Number(id));
  }

  patch(id: number, patch: KeyPatch): KeyRecord {
    return this.db.transaction(() => {
      const current = this.mustGet(id);
      // spent is owned by settle(), the owner never changes: a patch never overwrites them, even
      // if a caller sneaks them in
      const next: KeyRecord = {
        ...current,
        ...defined(patch),
        id,
        spent: current.spent,
        userId: current.userId,
        scope: current.scope,
        createdBy: current.createdBy,
      };
      this.write(next, () => this.update.run(keyParams(next)));
      return this.mustGet(id);
    })();
  }

  private mustGet(id: number): KeyRecord {
    const k = this.byId(id);
    if (k === undefined) throw new BcError('NOT_FOUND', `key ${id} not found`);
    return k;
  }

  private write(
    k: Pick<KeyRecord, 'name' | 'userId'> & { id?: number },
    run: () => Database.RunResult,
  ): number | bigint {
    try {
      return run().lastInsertRowid;
    } catch (e) {
      if (isConstraint(e, 'UNIQUE')) {
        const holder = this.byName(k.name);
        const nameTaken = holder !== undefined && holder.id !== k.id;
        const message = nameTaken
          ? `a key named "${k.name}" already exists`
          : 'a key with this secret already exists';
        throw new BcError('CONFLICT', message, { cause: e });
      }
      if (isConstraint(e, 'FOREIGNKEY')) {
        throw new BcError('NOT_FOUND', `user ${String(k.userId)} not found`, { cause: e });
      }
      throw e;
    }
  }
}
