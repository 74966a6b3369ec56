// The store side of bc import one-api (store/sqlite/import-apply.ts): one transaction, all or
// nothing (a row the database refuses at the end leaves no user, channel, key or map row behind);
// import_map makes a second apply of the same source change nothing; names taken here get their
// suffix; every metered user's ledger sums to balance + spent from the first commit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanCode, PlanUser } from '../../src/shared/import-plan.js';
import { openSqliteDatabase, type Db } from '../../src/daemon/store/sqlite/database.js';
import { applyImport } from '../../src/daemon/store/sqlite/import-apply.js';
import type { PreparedImport } from '../../src/daemon/store/import-types.js';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-import-'));
  db = openSqliteDatabase(path.join(dir, 'bc.db'));
});

afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function user(id: number, name: string, balance: number | null, spent = 0, aff = 0): PlanUser {
  return {
    source_id: id,
    name,
    group: 'default',
    status: 'enabled',
    balance,
    aff_balance: aff,
    spent,
    invited_by: null,
    referral_code: null,
    note: null,
    created_at: null,
  };
}

function code(id: number, amount: number): PlanCode {
  return {
    source_id: id,
    hash: id.toString(16).padStart(64, '0'),
    prefix: 'abcdef',
    batch: null,
    amount,
    status: 'active',
    used: false,
    used_by: null,
    used_at: null,
    expires_at: null,
    created_at: null,
  };
}

function prepared(over: Partial<PreparedImport> = {}): PreparedImport {
  return {
    source: 'one-api:0123456789ab',
    pricesMode: 'source',
    users: [user(1, 'ann', 3_000_000, 1_000_000, 500_000), user(2, 'root', null, 42)],
    channels: [
      {
        sourceIds: [5],
        record: {
          name: 'main',
          type: 'openai',
          baseUrl: null,
          models: ['m'],
          map: {},
          groups: ['default'],
          priority: 0,
          weight: 1,
          timeoutMs: 60_000,
          region: null,
          apiVersion: null,
          status: 'enabled',
          statusReason: null,
          secrets: [{ enc: 'v1:x:y:z', masked: 'sk-...abcd', disabledReason: null }],
          settings: {},
        },
      },
    ],
    keys: [
      {
        sourceId: 9,
        userSourceId: 1,
        tokenName: 'default',
        hash: 'f'.repeat(64),
        prefix: 'sk-abcd',
        budget: null,
        spent: 0,
        expiresAt: null,
        models: [],
        allowIps: [],
        status: 'enabled',
        createdAt: null,
      },
    ],
    codes: [code(1, 1_000_000)],
    prices: [],
    groups: [{ name: 'vip', ratio: 0.8 }],
    ...over,
  };
}

const count = (table: string) => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get();

describe('applyImport', () => {
  it('writes users with their money through the ledger, keys, channels, codes, groups and the map', () => {
    const r = applyImport(db, prepared());
    expect(r.counts.users).toEqual({ imported: 2, skipped: 0, already: 0 });
    const ann = db.prepare('SELECT balance, spent, credited FROM users WHERE name = ?').get('ann');
    expect(ann).toEqual({ balance: 3_500_000, spent: 1_000_000, credited: 4_500_000 });
    const ledger = db
      .prepare<[], number>("SELECT sum(amount) FROM user_ledger WHERE kind = 'import'")
      .pluck()
      .get();
    expect(ledger! - 1_000_000).toBe(3_500_000);
    expect(db.prepare('SELECT balance, spent FROM users WHERE name = ?').get('root')).toEqual({
      balance: null,
      spent: 42,
    });
    expect(db.prepare('SELECT name, created_by, scope FROM keys').get()).toEqual({
      name: 'ann/default',
      created_by: 'import',
      scope: 'relay',
    });
    expect(count('import_map')).toBe(2 + 1 + 1 + 1 + 1);
    expect(r.changes).toEqual([{ userId: expect.any(Number) as number, amount: 3_500_000 }]);
  });

  it('a second apply of the same source changes nothing', () => {
    applyImport(db, prepared());
    const before = ['users', 'user_ledger', 'keys', 'channels', 'redeem_codes', 'import_map'].map(count);
    const r = applyImport(db, prepared());
    expect(r.counts.users).toEqual({ imported: 0, skipped: 0, already: 2 });
    expect(r.counts.keys.already + r.counts.channels.already + r.counts.codes.already).toBe(3);
    expect(['users', 'user_ledger', 'keys', 'channels', 'redeem_codes', 'import_map'].map(count)).toEqual(
      before,
    );
  });

  it('all or nothing: a row refused at the end leaves nothing behind', () => {
    // amount 0 breaks redeem_codes' CHECK (amount > 0): codes are written after users, channels and keys
    expect(() => applyImport(db, prepared({ codes: [code(1, 1_000_000), code(2, 0)] }))).toThrow(/CHECK/);
    expect(['users', 'user_ledger', 'keys', 'channels', 'redeem_codes', 'import_map'].map(count)).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
  });

  it('another source whose names are taken here: users get -<id>, channels -2', () => {
    applyImport(db, prepared());
    const r = applyImport(
      db,
      prepared({ source: 'one-api:ba9876543210', keys: [], codes: [], users: [user(1, 'ann', 0)] }),
    );
    expect(r.counts.users.imported).toBe(1);
    const names = db.prepare<[], string>('SELECT name FROM users ORDER BY id').pluck().all();
    expect(names).toEqual(['ann', 'root', 'ann-1']);
    expect(db.prepare<[], string>('SELECT name FROM channels ORDER BY id').pluck().all()).toEqual([
      'main',
      'main-2',
    ]);
    expect(r.warnings).toContain('user "ann" (#1): the name is taken here: imported as "ann-1"');
  });
});
