/**
 * Price overrides and group ratios in SQLite. The table holds only `bc price set` rows: catalog
 * prices come from the catalog package in memory (src/daemon/pricing), so upgrading the package
 * updates them and removing an override lets the catalog's price apply again.
 */
import { BcError } from '../../../shared/errors.js';
import type { GroupRecord, PriceRecord } from '../types.js';
import type { Db } from './database.js';
import { insertSql, PRICE_COLUMNS, priceFromRow, priceParams, type Params, type PriceRow } from './rows.js';

const MONEY_FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'perRequest', 'maxOutputTokens'] as const;

/** Catches a caller's float or negative amount before it becomes a REAL in an integer column. */
export function checkPrice(p: PriceRecord): void {
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
  private readonly remove;
  private readonly groups;
  private readonly upsertGroup;

  constructor(db: Db) {
    this.all = db.prepare<[], PriceRow>('SELECT * FROM prices ORDER BY model');
    this.one = db.prepare<[string], PriceRow>('SELECT * FROM prices WHERE model = ?');
    this.upsert = db.prepare<[Params]>(
      `${insertSql('prices', PRICE_COLUMNS)} ON CONFLICT(model) DO UPDATE SET ` +
        PRICE_COLUMNS.filter((c) => c !== 'model')
          .map((c) => `${c} = excluded.${c}`)
          .join(', '),
    );
    this.remove = db.prepare<[string]>('DELETE FROM prices WHERE model = ?');
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

  /** Tiers are the catalog's; an override is one flat price, so they are not stored. */
  set(p: PriceRecord): PriceRecord {
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
    this.upsert.run(priceParams(record));
    return record;
  }

  delete(model: string): boolean {
    return this.remove.run(model).changes > 0;
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
