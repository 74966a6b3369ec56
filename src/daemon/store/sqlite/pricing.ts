/**
 * Prices and group ratios in SQLite. The default price table is seeded with INSERT OR IGNORE so a
 * user's edit always wins, and a user's deletion leaves a tombstone so the next start-up does not
 * quietly bring the default price back.
 */
import { BcError } from '../../../shared/errors.js';
import type { GroupRecord, PriceRecord } from '../types.js';
import type { Db } from './database.js';
import { insertSql, PRICE_COLUMNS, priceFromRow, priceParams, type Params, type PriceRow } from './rows.js';

const MONEY_FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'perRequest', 'maxOutputTokens'] as const;

/** Catches a caller's float or negative amount before it becomes a REAL in an integer column. */
function checkPrice(p: PriceRecord): void {
  if (p.model.length === 0)
    throw new BcError('INVALID_REQUEST', 'a price needs a model name', { param: 'model' });
  for (const f of MONEY_FIELDS) {
    const v = p[f];
    if (v === null && f !== 'input' && f !== 'output') continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new BcError('INVALID_REQUEST', `price of "${p.model}": ${f} must be a non-negative integer`, {
        param: f,
      });
    }
  }
}

export class PriceTable {
  private readonly all;
  private readonly one;
  private readonly upsert;
  private readonly seedOne;
  private readonly remove;
  private readonly bury;
  private readonly unbury;
  private readonly groups;
  private readonly upsertGroup;

  constructor(private readonly db: Db) {
    this.all = db.prepare<[], PriceRow>('SELECT * FROM prices ORDER BY model');
    this.one = db.prepare<[string], PriceRow>('SELECT * FROM prices WHERE model = ?');
    this.upsert = db.prepare<[Params]>(
      `${insertSql('prices', PRICE_COLUMNS)} ON CONFLICT(model) DO UPDATE SET ` +
        PRICE_COLUMNS.filter((c) => c !== 'model')
          .map((c) => `${c} = excluded.${c}`)
          .join(', '),
    );
    this.seedOne = db.prepare<[Params]>(
      `INSERT OR IGNORE INTO prices (${PRICE_COLUMNS.join(', ')}) ` +
        `SELECT ${PRICE_COLUMNS.map((c) => `@${c}`).join(', ')} ` +
        'WHERE NOT EXISTS (SELECT 1 FROM price_tombstones WHERE model = @model)',
    );
    this.remove = db.prepare<[string]>('DELETE FROM prices WHERE model = ?');
    this.bury = db.prepare<[string]>('INSERT OR IGNORE INTO price_tombstones (model) VALUES (?)');
    this.unbury = db.prepare<[string]>('DELETE FROM price_tombstones WHERE model = ?');
    this.groups = db.prepare<[], GroupRecord>('SELECT name, ratio FROM groups ORDER BY name');
    this.upsertGroup = db.prepare<[string, number]>(
      'INSERT INTO groups (name, ratio) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET ratio = excluded.ratio',
    );
  }

  list(): PriceRecord[] {
    return this.all.all().map(priceFromRow);
  }

  get(model: string): PriceRecord | undefined {
    const row = this.one.get(model);
    return row === undefined ? undefined : priceFromRow(row);
  }

  set(p: PriceRecord): PriceRecord {
    const record: PriceRecord = { ...p, source: 'user' };
    checkPrice(record);
    this.db.transaction(() => {
      this.upsert.run(priceParams(record));
      this.unbury.run(record.model);
    })();
    return record;
  }

  delete(model: string): boolean {
    return this.db.transaction(() => {
      const removed = this.remove.run(model).changes > 0;
      if (removed) this.bury.run(model);
      return removed;
    })();
  }

  seed(rows: PriceRecord[]): number {
    for (const r of rows) checkPrice(r);
    return this.db.transaction(() => {
      let inserted = 0;
      for (const r of rows) inserted += this.seedOne.run(priceParams({ ...r, source: 'default' })).changes;
      return inserted;
    })();
  }

  listGroups(): GroupRecord[] {
    return this.groups.all();
  }

  setGroup(g: GroupRecord): GroupRecord {
    if (g.name.length === 0) throw new BcError('INVALID_REQUEST', 'a group needs a name', { param: 'name' });
    if (!Number.isFinite(g.ratio) || g.ratio < 0) {
      throw new BcError('INVALID_REQUEST', `group "${g.name}": ratio must be a non-negative number`, {
        param: 'ratio',
      });
    }
    this.upsertGroup.run(g.name, g.ratio);
    return { name: g.name, ratio: g.ratio };
  }
}
