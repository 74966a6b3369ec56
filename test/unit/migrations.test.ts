// Opening SQLite files: migrations on a fresh file, re-opening keeps data without re-running them,
// and files that are not ours (foreign, corrupt, newer, unreachable) are refused in one line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { openSqliteDatabase } from '../../src/daemon/store/sqlite/database.js';
import {
  APPLICATION_ID,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
} from '../../src/daemon/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  file = path.join(dir, 'bc.db');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function refusal(open: () => unknown): string {
  try {
    const opened = open();
    if (opened instanceof Database) opened.close();
  } catch (e) {
    if (!(e instanceof BcError)) throw e;
    expect(e.code).toBe('STARTUP_FAILED');
    expect(e.message).not.toContain('\n');
    return e.message;
  }
  return 'opened';
}

function peek<T>(sql: string): T {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as T;
  } finally {
    db.close();
  }
}

describe('migrations', () => {
  it('have distinct positive versions, the latest being the highest', () => {
    // not necessarily contiguous or in order: two migrations written at once may land either way
    const versions = MIGRATIONS.map((m) => m.version);
    expect(new Set(versions).size).toBe(versions.length);
    for (const v of versions) expect(Number.isInteger(v) && v > 0).toBe(true);
    expect(LATEST_VERSION).toBe(Math.max(...versions));
  });

  it('build the schema on an empty file and stamp version and application id', () => {
    fs.writeFileSync(file, '');
    openSqliteDatabase(file).close();
    expect(peek<number>('PRAGMA user_version')).toBe(LATEST_VERSION);
    expect(peek<number>('PRAGMA application_id')).toBe(APPLICATION_ID);
    const tables = new Database(file, { readonly: true });
    const names = tables.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    tables.close();
    expect(names).toEqual(expect.arrayContaining(['channels', 'keys', 'users', 'prices', 'groups', 'logs']));
  });

  it('re-opening keeps the data and runs nothing again', async () => {
    const first = openSqliteStore(file);
    await first.setGroup({ name: 'vip', ratio: 2 });
    await first.setPrice({
      model: 'm',
      input: 1,
      output: 2,
      cacheRead: null,
      cacheWrite: null,
      perRequest: null,
      maxOutputTokens: 10,
      source: 'override',
    });
    await first.close();
    const second = openSqliteStore(file);
    try {
      expect(await second.listGroups()).toEqual([
        { name: 'default', ratio: 1 },
        { name: 'vip', ratio: 2 },
      ]);
      expect((await second.getPrice('m'))?.maxOutputTokens).toBe(10);
    } finally {
      await second.close();
    }
  });

  it('apply only the pending ones, in order, when a new migration ships', () => {
    const v2: Migration = { version: 2, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' };
    const v3: Migration = { version: 3, name: 'note text', sql: 'ALTER TABLE notes ADD COLUMN text TEXT' };
    const base = MIGRATIONS.slice(0, 1);
    openSqliteDatabase(file, base).close();
    const db = openSqliteDatabase(file, [v3, ...base, v2]);
    db.prepare("INSERT INTO notes (text) VALUES ('kept')").run();
    db.close();
    expect(peek<number>('PRAGMA user_version')).toBe(3);
    // a second open with the same list would fail on CREATE TABLE notes if anything re-ran
    openSqliteDatabase(file, [...base, v2, v3]).close();
    expect(peek<string>('SELECT text FROM notes')).toBe('kept');
  });

  it('apply a migration numbered below one already applied once the build carries it', () => {
    const v2: Migration = { version: 2, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' };
    const v3: Migration = { version: 3, name: 'tags', sql: 'CREATE TABLE tags (id INTEGER PRIMARY KEY)' };
    const v4: Migration = { version: 4, name: 'note text', sql: 'ALTER TABLE notes ADD COLUMN text TEXT' };
    const base = MIGRATIONS.slice(0, 1);
    // a build with 4 but not yet 3 (written at the same time by someone else)
    openSqliteDatabase(file, [...base, v2, v4]).close();
    expect(peek<number>('PRAGMA user_version')).toBe(4);
    expect(peek<number>("SELECT count(*) FROM sqlite_schema WHERE name = 'tags'")).toBe(0);
    // the next build has both: 3 runs, nothing else runs again
    openSqliteDatabase(file, [...base, v2, v3, v4]).close();
    expect(peek<number>("SELECT count(*) FROM sqlite_schema WHERE name = 'tags'")).toBe(1);
    expect(peek<number>('PRAGMA user_version')).toBe(4);
    openSqliteDatabase(file, [...base, v2, v3, v4]).close();
  });

  it('roll back entirely when one migration fails', () => {
    const bad: Migration = { version: 2, name: 'bad', sql: 'CREATE TABLE ok (x); THIS IS NOT SQL' };
    openSqliteDatabase(file, MIGRATIONS.slice(0, 1)).close();
    expect(refusal(() => openSqliteDatabase(file, [...MIGRATIONS.slice(0, 1), bad]))).toMatch(
      /cannot open database/,
    );
    expect(peek<number>('PRAGMA user_version')).toBe(1);
    expect(peek<number>("SELECT count(*) FROM sqlite_schema WHERE name = 'ok'")).toBe(0);
  });
});

describe('refusals', () => {
  it('a foreign SQLite database', () => {
    const other = new Database(file);
    other.exec('CREATE TABLE accounts (id INTEGER)');
    other.close();
    expect(refusal(() => openSqliteDatabase(file))).toBe(
      `${file} is not a BurnCloud database (application_id 0x0, expected 0x42434c44): point BC_DB at another file`,
    );
    const tagged = new Database(file);
    tagged.pragma('application_id = 1234');
    tagged.close();
    expect(refusal(() => openSqliteDatabase(file))).toMatch(
      /is not a BurnCloud database \(application_id 0x4d2/,
    );
    // and it was not touched
    expect(peek<number>('PRAGMA user_version')).toBe(0);
  });

  it('a file that is not SQLite, or is corrupt', () => {
    fs.writeFileSync(file, 'this is a text file, not a database '.repeat(200));
    expect(refusal(() => openSqliteDatabase(file))).toMatch(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a database file / is corrupt`),
    );
    const healthy = path.join(dir, 'healthy.db');
    openSqliteDatabase(healthy).close();
    const bytes = fs.readFileSync(healthy);
    bytes.fill(0xff, 100, bytes.length); // keep the header, wreck every page
    fs.writeFileSync(file, bytes);
    expect(refusal(() => openSqliteStore(file))).toMatch(
      /is not a database file \/ is corrupt \(database disk image is malformed\)$/,
    );
  });

  it('a database written by a newer BurnCloud', () => {
    openSqliteDatabase(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(refusal(() => openSqliteDatabase(file))).toBe(
      `${file} was written by a newer BurnCloud (schema version ${LATEST_VERSION + 1}, this build knows up to ${LATEST_VERSION}): upgrade BurnCloud`,
    );
  });

  it('a folder that cannot be created or written', () => {
    const blocker = path.join(dir, 'plain-file');
    fs.writeFileSync(blocker, 'x');
    expect(refusal(() => openSqliteDatabase(path.join(blocker, 'sub', 'bc.db')))).toMatch(
      new RegExp(`^database folder .*plain-file/sub is not writable: `),
    );
  });

  it('a path that is a directory', () => {
    fs.mkdirSync(file);
    expect(refusal(() => openSqliteDatabase(file))).toMatch(/^cannot open database .*bc\.db: /);
  });
});
