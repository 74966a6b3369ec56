// The stores' catalog: channels, keys, prices and groups on both stores (SQLite, and PostgreSQL on
// the test run's server: the same records, errors and messages), SQLite's secrets at rest, and the
// URL dispatch of openStore.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { resolvePaths } from '../../src/shared/paths.js';
import { hashKeySecret, maskSecret, SecretBox } from '../../src/daemon/secrets.js';
import { openStore } from '../../src/daemon/store/open.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import { freshPgDatabase } from '../support/stores.js';
import type { NewChannel, NewKey, PriceRecord, Store } from '../../src/daemon/store/types.js';

function channel(name: string, over: Partial<NewChannel> = {}): NewChannel {
  return {
    name,
    type: 'openai',
    baseUrl: null,
    models: ['gpt-4o'],
    map: {},
    groups: ['default'],
    priority: 0,
    weight: 1,
    status: 'enabled',
    statusReason: null,
    secrets: [],
    timeoutMs: 60_000,
    region: null,
    apiVersion: null,
    settings: {},
    ...over,
  };
}

function key(name: string, over: Partial<NewKey> = {}): NewKey {
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
    ...over,
  };
}

function price(model: string, input: number, output: number): PriceRecord {
  const p = {
    model,
    input,
    output,
    cacheRead: null,
    cacheWrite: null,
    perRequest: null,
    maxOutputTokens: null,
  };
  return { ...p, source: 'override' };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BcError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'resolved';
}

let dir: string;
let store: Store;
let opened: Store | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
});

afterEach(async () => {
  await opened?.close();
  opened = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Each store kind, opened empty: a SQLite file in the test's folder, a fresh PostgreSQL database. */
const STORES: [string, () => Promise<Store>][] = [
  ['sqlite', async () => openSqliteStore(path.join(dir, 'bc.db'))],
  ['postgres', async () => openPostgresStore(await freshPgDatabase(), { max: 2 })],
];

describe.each(STORES)('%s store', (_kind, open) => {
  beforeEach(async () => {
    store = opened = await open();
  });

  describe('channels', () => {
    it('creates, reads back every field, lists, updates and deletes', async () => {
      const created = await store.createChannel(
        channel('main', {
          type: 'anthropic',
          baseUrl: 'http://127.0.0.1:9/v1',
          models: ['claude-sonnet-4', 'claude-3-5-haiku'],
          map: { sonnet: 'claude-sonnet-4' },
          groups: ['default', 'vip'],
          priority: 5,
          weight: 3,
          secrets: [{ enc: 'v1:a:b:c', masked: 'sk-...a1b2', disabledReason: null }],
          region: 'us-east-1',
          apiVersion: '2023-06-01',
          settings: { beta: ['x'], n: 1 },
        }),
      );
      expect(created.id).toBeGreaterThan(0);
      expect(created.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
      const read = await store.getChannel(created.id);
      expect(read).toEqual(created);
      expect(read?.map).toEqual({ sonnet: 'claude-sonnet-4' });
      expect(read?.secrets).toEqual([{ enc: 'v1:a:b:c', masked: 'sk-...a1b2', disabledReason: null }]);
      expect(read?.settings).toEqual({ beta: ['x'], n: 1 });

      await store.createChannel(channel('backup'));
      expect((await store.listChannels()).map((c) => c.name)).toEqual(['main', 'backup']);

      const updated = await store.updateChannel(created.id, {
        status: 'auto_disabled',
        statusReason: 'invalid key',
        priority: undefined,
        region: null,
      });
      expect(updated.status).toBe('auto_disabled');
      expect(updated.statusReason).toBe('invalid key');
      expect(updated.priority).toBe(5); // an undefined patch field keeps the stored value
      expect(updated.region).toBeNull(); // null is a value and is written
      expect(updated.name).toBe('main');

      expect(await store.deleteChannel(created.id)).toBe(true);
      expect(await store.deleteChannel(created.id)).toBe(false);
      expect(await store.getChannel(created.id)).toBeUndefined();
    });

    it('looks up by id, by name, and by an all-digit string that is not a name', async () => {
      const a = await store.createChannel(channel('alpha'));
      const numeric = await store.createChannel(channel(String(a.id + 100)));
      expect((await store.getChannel(a.id))?.name).toBe('alpha');
      expect((await store.getChannel('alpha'))?.id).toBe(a.id);
      expect((await store.getChannel(String(a.id)))?.name).toBe('alpha');
      // a name made of digits wins over the id it looks like
      expect((await store.getChannel(numeric.name))?.id).toBe(numeric.id);
      expect(await store.getChannel('nope')).toBeUndefined();
      expect(await store.getChannel(9999)).toBeUndefined();
    });

    it('refuses duplicate names with CONFLICT, on create and on rename', async () => {
      await store.createChannel(channel('x'));
      const other = await store.createChannel(channel('y'));
      expect(await codeOf(store.createChannel(channel('x')))).toBe(
        'CONFLICT: a channel named "x" already exists',
      );
      expect(await codeOf(store.updateChannel(other.id, { name: 'x' }))).toBe(
        'CONFLICT: a channel named "x" already exists',
      );
      expect((await store.getChannel(other.id))?.name).toBe('y');
    });

    it('updating a missing channel is NOT_FOUND', async () => {
      expect(await codeOf(store.updateChannel(42, { weight: 2 }))).toMatch(/^NOT_FOUND: /);
    });
  });

  describe('keys', () => {
    it('creates with spent 0 and no user, reads by id, name and hash, lists and updates', async () => {
      const k = await store.createKey(
        key('ci', {
          budget: 5_000_000,
          models: ['gpt-4o'],
          allowIps: ['10.0.0.0/8'],
          rpm: 60,
          expiresAt: null,
        }),
      );
      expect(k.spent).toBe(0);
      expect(k.userId).toBeNull();
      expect(k.lastUsedAt).toBeNull();
      expect(await store.getKey(k.id)).toEqual(k);
      expect(await store.getKey('ci')).toEqual(k);
      expect(await store.getKey(String(k.id))).toEqual(k);
      expect(await store.getKeyByHash(hashKeySecret('secret-of-ci'))).toEqual(k);
      expect(await store.getKeyByHash(hashKeySecret('other'))).toBeUndefined();

      const rotated = await store.updateKey(k.id, {
        hash: hashKeySecret('new'),
        prefix: 'sk-bc-Zzzz',
        status: 'disabled',
        budget: null,
      });
      expect(rotated.prefix).toBe('sk-bc-Zzzz');
      expect(rotated.status).toBe('disabled');
      expect(rotated.budget).toBeNull();
      expect(rotated.models).toEqual(['gpt-4o']);
      expect(await store.getKeyByHash(hashKeySecret('secret-of-ci'))).toBeUndefined();
      expect((await store.getKeyByHash(hashKeySecret('new')))?.id).toBe(k.id);
      expect((await store.listKeys()).map((x) => x.name)).toEqual(['ci']);
    });

    it('never lets a patch overwrite spent', async () => {
      const k = await store.createKey(key('a'));
      const patch = { name: 'b', spent: 999 } as unknown as Parameters<Store['updateKey']>[1];
      const after = await store.updateKey(k.id, patch);
      expect(after.name).toBe('b');
      expect(after.spent).toBe(0);
    });

    it('refuses duplicate names and secrets with CONFLICT; missing ids and users with NOT_FOUND', async () => {
      const a = await store.createKey(key('a'));
      expect(await codeOf(store.createKey(key('a', { hash: 'h2' })))).toBe(
        'CONFLICT: a key named "a" already exists',
      );
      expect(await codeOf(store.createKey(key('b', { hash: a.hash })))).toBe(
        'CONFLICT: a key with this secret already exists',
      );
      const b = await store.createKey(key('b'));
      expect(await codeOf(store.updateKey(b.id, { name: 'a' }))).toBe(
        'CONFLICT: a key named "a" already exists',
      );
      expect(await codeOf(store.updateKey(777, { status: 'revoked' }))).toMatch(/^NOT_FOUND: /);
      expect(await codeOf(store.createKey(key('c', { userId: 55 })))).toMatch(/^NOT_FOUND: user 55/);
    });
  });

  describe('prices and groups', () => {
    it('sets (as an override), gets, lists sorted, deletes', async () => {
      const set = await store.setPrice({ ...price('m-b', 1_000_000, 2_000_000), cacheRead: 100_000 });
      expect(set.source).toBe('override');
      await store.setPrice(price('m-a', 5, 6));
      expect(await store.getPrice('m-b')).toEqual(set);
      expect((await store.listPrices()).map((p) => p.model)).toEqual(['m-a', 'm-b']);
      expect(await store.deletePrice('m-b')).toBe(true);
      expect(await store.deletePrice('m-b')).toBe(false);
      expect(await store.getPrice('m-b')).toBeUndefined();
    });

    it('refuses fractional or negative money', async () => {
      expect(await codeOf(store.setPrice(price('m', 1.5, 2)))).toMatch(/^INVALID_REQUEST: /);
      expect(await codeOf(store.setPrice(price('m', 1, -2)))).toMatch(/^INVALID_REQUEST: /);
      expect(await store.getPrice('m')).toBeUndefined();
    });

    it('keeps an override flat: catalog tiers are never stored with it', async () => {
      const tier = { above: 200_000, input: 9, output: 9, cacheRead: null, cacheWrite: null };
      const set = await store.setPrice({ ...price('m', 1, 2), tiers: [tier] });
      expect(set.tiers).toBeUndefined();
      expect(await store.getPrice('m')).toEqual(set);
    });

    it('has the default group with ratio 1 and upserts groups', async () => {
      expect(await store.listGroups()).toEqual([{ name: 'default', ratio: 1 }]);
      await store.setGroup({ name: 'vip', ratio: 0.8 });
      await store.setGroup({ name: 'default', ratio: 1.5 });
      expect(await store.listGroups()).toEqual([
        { name: 'default', ratio: 1.5 },
        { name: 'vip', ratio: 0.8 },
      ]);
      expect(await codeOf(store.setGroup({ name: 'bad', ratio: Number.NaN }))).toMatch(/^INVALID_REQUEST: /);
    });
  });

  describe('meta', () => {
    it('bumps a counter atomically: 20 concurrent bumps get 1..20 once each, and the value reads back', async () => {
      expect(await store.getMeta('config.version')).toBeNull();
      const got = await Promise.all(Array.from({ length: 20 }, () => store.bumpMeta('config.version')));
      expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.getMeta('config.version')).toBe('20');
      await store.setMeta('config.version', '41');
      expect(await store.bumpMeta('config.version')).toBe(42);
    });
  });
});

describe('secrets at rest', () => {
  beforeEach(() => {
    store = opened = openSqliteStore(path.join(dir, 'bc.db'));
  });

  it('keeps no plaintext upstream secret in the database file or its WAL', async () => {
    const box = SecretBox.load({ file: path.join(dir, 'master.key'), create: true });
    const plain = 'sk-proj-VeryUniqueUpstreamSecret-9f8e7d6c5b4a';
    await store.createChannel(
      channel('secret', {
        secrets: [{ enc: box.encrypt(plain), masked: maskSecret(plain), disabledReason: null }],
      }),
    );
    const stored = await store.getChannel('secret');
    expect(box.decrypt(stored?.secrets[0]?.enc ?? '')).toBe(plain);
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('bc.db'));
    expect(files).toContain('bc.db-wal');
    const needle = Buffer.from(plain.slice(8, 30));
    for (const f of files) expect(fs.readFileSync(path.join(dir, f)).includes(needle)).toBe(false);
    // the check can fail: the same bytes stored plainly are found
    await store.createChannel(channel('plain', { settings: { leak: plain } }));
    const all = Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, f))));
    expect(all.includes(needle)).toBe(true);
  });
});

describe('openStore', () => {
  it('opens sqlite URLs (creating the folder) and describes itself', async () => {
    const home = path.join(dir, 'nested', 'home');
    const s = await openStore(resolvePaths({ home }, {}));
    try {
      expect(s.description).toBe(`sqlite:${path.join(home, 'burncloud.db')}`);
      expect(fs.existsSync(path.join(home, 'burncloud.db'))).toBe(true);
      expect(await s.countRequests()).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('opens PostgreSQL for one daemon at a time, and says so to a second', async () => {
    const url = await freshPgDatabase();
    const first = await openStore(resolvePaths({ home: dir, db: url }, {}));
    try {
      expect(first.description).toBe(url);
      expect(await codeOf(openStore(resolvePaths({ home: dir, db: url }, {})))).toMatch(
        /^STARTUP_FAILED: another BurnCloud daemon is using .*one daemon per database/,
      );
    } finally {
      await first.close();
    }
    // the lock went with the first daemon's connection
    const second = await openStore(resolvePaths({ home: dir, db: url }, {}));
    await second.close();
  });

  it('refuses an unreachable PostgreSQL and unknown URLs with the accepted forms, hiding passwords', async () => {
    const down = await codeOf(
      openStore(resolvePaths({ home: dir, db: 'postgres://u:pw@127.0.0.1:1/db' }, {})),
    );
    expect(down).toMatch(/^STARTUP_FAILED: cannot open postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
    expect(down).not.toContain(':pw@');
    const bad = await codeOf(openStore(resolvePaths({ home: dir, db: 'mysql://root:hunter2@h/db' }, {})));
    expect(bad).toMatch(/^STARTUP_FAILED: .*mysql:\/\/root:\*\*\*@h\/db.*sqlite:.*postgres:\/\//);
    expect(bad).not.toContain('hunter2');
  });
});
