// max_keys in the store (Store.createKey with a limit): on both stores, 20 creates for one user at
// once through two store instances (two daemons' pools on PostgreSQL, two connections on one
// SQLite file) leave exactly the cap; revoked keys do not count; and on SQLite, four processes
// creating on one file at once (as `bc daemon --workers N` does) leave exactly the cap too. The
// process case runs the compiled store (dist/, `npm run build`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { hashKeySecret } from '../../src/daemon/secrets.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import { freshPgDatabase } from '../support/stores.js';
import type { NewKey, Store } from '../../src/daemon/store/types.js';

const MAX = 3;
const TRIES = 20;

let dir: string;
let opened: Store[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-keylimit-'));
});

afterEach(async () => {
  for (const s of opened) await s.close();
  opened = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

function key(name: string, userId: number): NewKey {
  return {
    name,
    hash: hashKeySecret(`secret-of-${name}`),
    prefix: 'sk-bc-Abcd',
    group: 'default',
    budget: null,
    expiresAt: null,
    models: [],
    allowIps: [],
    rpm: null,
    tpm: null,
    concurrency: null,
    status: 'enabled',
    userId,
    scope: 'relay',
    createdBy: 'self',
  };
}

/** Two store instances on one database: a SQLite file, or a fresh PostgreSQL database. */
const PAIRS: [string, () => Promise<[Store, Store]>][] = [
  [
    'sqlite',
    async () => {
      const file = path.join(dir, 'bc.db');
      const a = openSqliteStore(file);
      return [a, openSqliteStore(file)];
    },
  ],
  [
    'postgres',
    async () => {
      const url = await freshPgDatabase();
      const a = await openPostgresStore(url, { max: 5 });
      return [a, await openPostgresStore(url, { max: 5 })];
    },
  ],
];

describe.each(PAIRS)('%s store: createKey within max_keys', (_kind, open) => {
  let a: Store;
  let b: Store;
  beforeEach(async () => {
    [a, b] = await open();
    opened.push(a, b);
  });

  it(`20 creates at once over two instances leave exactly ${MAX} keys, the rest KEY_LIMIT`, async () => {
    const { user } = await a.createUser({ name: 'alice', balance: null });
    // every pooled connection open first, so the creates race instead of queueing for a connect
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).listKeys()));
    const results = await Promise.allSettled(
      Array.from({ length: TRIES }, (_, i) =>
        (i % 2 === 0 ? a : b).createKey(key(`alice/k${i}`, user.id), { maxHeld: MAX }),
      ),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(created).toHaveLength(MAX);
    expect(refused).toHaveLength(TRIES - MAX);
    for (const e of refused) {
      expect(e).toBeInstanceOf(BcError);
      expect((e as BcError).code).toBe('KEY_LIMIT');
      expect((e as BcError).message).toBe(
        `you hold ${MAX} keys, the most you may: revoke one (POST /bc/v1/me/keys/ID/revoke) first`,
      );
    }
    const held = (await b.listKeys()).filter((k) => k.userId === user.id);
    expect(held).toHaveLength(MAX);
  });

  it('counts only the user’s keys not revoked; no limit creates as before', async () => {
    const { user } = await a.createUser({ name: 'bob', balance: null });
    const { user: other } = await a.createUser({ name: 'carol', balance: null });
    // another user's keys and an operator's key never count
    await a.createKey(key('carol/x', other.id), { maxHeld: 1 });
    await a.createKey({ ...key('ops', other.id), userId: null });
    const first = await a.createKey(key('bob/a', user.id), { maxHeld: 1 });
    await expect(b.createKey(key('bob/b', user.id), { maxHeld: 1 })).rejects.toMatchObject({
      code: 'KEY_LIMIT',
    });
    await a.updateKey(first.id, { status: 'revoked' });
    const again = await b.createKey(key('bob/b', user.id), { maxHeld: 1 });
    expect(again.userId).toBe(user.id);
    // a disabled key still counts
    await a.updateKey(again.id, { status: 'disabled' });
    await expect(a.createKey(key('bob/c', user.id), { maxHeld: 1 })).rejects.toMatchObject({
      code: 'KEY_LIMIT',
    });
    // the operator's path has no limit
    await expect(a.createKey(key('bob/d', user.id))).resolves.toMatchObject({ name: 'bob/d' });
  });
});

/** A child process that opens the compiled SQLite store on `file` and, on "go", creates `n` keys. */
const CHILD = `
import { openSqliteStore } from ${JSON.stringify(path.resolve('dist/daemon/store/sqlite/store.js'))};
import { hashKeySecret } from ${JSON.stringify(path.resolve('dist/daemon/secrets.js'))};
import { createInterface } from 'node:readline';
const [file, userId, tag, n, max] = process.argv.slice(1);
const store = openSqliteStore(file);
console.log('ready');
createInterface({ input: process.stdin }).once('line', async () => {
  const out = [];
  for (let i = 0; i < Number(n); i++) {
    const name = 'dave/' + tag + '-' + i;
    const k = { name, hash: hashKeySecret(name), prefix: 'sk-bc-Abcd', group: 'default', budget: null,
      expiresAt: null, models: [], allowIps: [], rpm: null, tpm: null, concurrency: null,
      status: 'enabled', userId: Number(userId), scope: 'relay', createdBy: 'self' };
    try { await store.createKey(k, { maxHeld: Number(max) }); out.push('created'); }
    catch (e) { out.push(e.code ?? String(e.message)); }
  }
  await store.close();
  console.log(JSON.stringify(out));
});
`;

describe('sqlite store: processes on one file (--workers)', () => {
  it(`four processes creating 20 keys at once leave exactly ${MAX}`, async () => {
    const file = path.join(dir, 'bc.db');
    const setup = openSqliteStore(file);
    opened.push(setup);
    const { user } = await setup.createUser({ name: 'dave', balance: null });
    const children = Array.from({ length: 4 }, (_, i) => {
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', CHILD, file, String(user.id), `p${i}`, String(TRIES / 4), String(MAX)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const lines = createInterface({ input: child.stdout });
      const ready = new Promise<void>((resolve) => lines.once('line', () => resolve()));
      const result = ready.then(
        () =>
          new Promise<string[]>((resolve) => lines.once('line', (l) => resolve(JSON.parse(l) as string[]))),
      );
      return { child, ready, result };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.write('go\n');
    const outcomes = (await Promise.all(children.map((c) => c.result))).flat();
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(MAX);
    expect(outcomes.filter((o) => o === 'KEY_LIMIT')).toHaveLength(TRIES - MAX);
    expect((await setup.listKeys()).filter((k) => k.userId === user.id)).toHaveLength(MAX);
  });
});
