// The key field table (shared/key-fields.ts) against the contract it stands for: one row per
// KeyInput field, record names as KeyRecord holds them, columns of the keys table, defaults, flags
// as commander names them; and the walkers (row mappers, view, validation) driven by it. The
// channel table shares the generic walks (shared/field-table.ts): its columns and defaults are
// pinned here too, so the generalisation cannot drift.
import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { validateKeyCreate } from '../../src/daemon/control/validate.js';
import { keyView } from '../../src/daemon/control/views.js';
import {
  CHANNEL_COLUMNS,
  KEY_COLUMNS,
  keyFromRow,
  keyParams,
  type KeyRow,
} from '../../src/daemon/store/sqlite/rows.js';
import type { KeyRecord } from '../../src/daemon/store/types.js';
import { STORED_CHANNEL_COLUMNS, channelDefaults } from '../../src/shared/channel-fields.js';
import type { KeyInput } from '../../src/shared/control-api.js';
import {
  KEY_FIELDS,
  KEY_FIELD_COLUMNS,
  KEY_WIRES,
  keyDefaults,
  keyFields,
  keyFlagAttribute,
} from '../../src/shared/key-fields.js';

/** Every KeyInput field given (Required: a field added to KeyInput must be added here). */
const INPUT: Required<KeyInput> = {
  name: 'ci',
  group: 'g1',
  budget: 5_000_000,
  expires_at: '2030-01-31T00:00:00.000Z',
  models: ['gpt-4o', 'm2'],
  allow_ips: ['10.0.0.0/8', '::1'],
  rpm: 60,
  tpm: 1000,
  concurrency: 3,
  strict_budget: true,
};

/** A stored key whose every field differs from its default. */
const RECORD: KeyRecord = {
  id: 7,
  name: 'ci',
  hash: 'ab'.repeat(32),
  prefix: 'sk-bc-AbC1',
  group: 'g1',
  budget: 5_000_000,
  spent: 1234,
  expiresAt: '2030-01-31T00:00:00.000Z',
  models: ['gpt-4o', 'm2'],
  allowIps: ['10.0.0.0/8', '::1'],
  rpm: 60,
  tpm: 1000,
  concurrency: 3,
  status: 'enabled',
  strictBudget: true,
  userId: null,
  scope: 'relay',
  createdBy: 'admin',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastUsedAt: '2026-01-02T00:00:00.000Z',
};

const camel = (w: string) => w.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe('the key field table', () => {
  it('has one row per KeyInput field, in the order the daemon lists them', () => {
    expect(KEY_WIRES).toEqual(Object.keys(INPUT));
    expect(() => validateKeyCreate({ name: 'a', secret: 'x' })).toThrow(
      'secret is not a known field (known: name, group, budget, expires_at, models, allow_ips, rpm, tpm, concurrency, strict_budget)',
    );
  });

  it('names each field in KeyRecord by its wire name in camelCase', () => {
    for (const w of KEY_WIRES) {
      expect(KEY_FIELDS[w].record).toBe(camel(w));
      expect(Object.keys(RECORD)).toContain(KEY_FIELDS[w].record);
    }
  });

  it('keeps each field in a column of the keys table; the other columns are the store’s own', () => {
    const columns = KEY_FIELD_COLUMNS.map((c) => c.column);
    expect(columns).toEqual(KEY_WIRES);
    const own = KEY_COLUMNS.filter((c) => !(columns as string[]).includes(c));
    expect(own).toEqual([
      'hash',
      'prefix',
      'spent',
      'status',
      'user_id',
      'created_at',
      'last_used_at',
      'scope',
      'created_by',
    ]);
    expect(own.length + columns.length).toBe(KEY_COLUMNS.length);
    const codecs = Object.fromEntries(KEY_FIELD_COLUMNS.map((c) => [c.column, c.as]));
    expect(codecs).toMatchObject({
      models: 'json',
      allow_ips: 'json',
      strict_budget: 'bool',
      budget: 'value',
    });
  });

  it('gives the defaults on create as fresh copies', () => {
    const d = keyDefaults();
    expect(d).toEqual({
      group: 'default',
      budget: null,
      expiresAt: null,
      models: [],
      allowIps: [],
      rpm: null,
      tpm: null,
      concurrency: null,
      strictBudget: false,
    });
    d.models.push('x');
    expect(keyDefaults().models).toEqual([]);
  });

  it('names each flag as commander names its value', () => {
    for (const w of KEY_WIRES) {
      expect(keyFlagAttribute(w)).toBe(new Option(`${KEY_FIELDS[w].flag} <v>`).attributeName());
    }
    expect(KEY_WIRES.map((w) => KEY_FIELDS[w].flag)).toEqual([
      '--name',
      '--group',
      '--budget',
      '--expires',
      '--models',
      '--allow-ip',
      '--rpm',
      '--tpm',
      '--concurrency',
      '--strict-budget',
    ]);
  });

  it('picks only its own fields, leaving absent ones absent', () => {
    const stray = { ...RECORD, hash: 'h', spent: 9 };
    const picked = keyFields(stray);
    expect(Object.keys(picked)).toEqual(KEY_WIRES.map(camel));
    expect(keyFields({ rpm: null, strictBudget: false })).toEqual({ rpm: null, strictBudget: false });
  });
});

describe('the walkers', () => {
  it('the row mappers write every field to its column and read it back', () => {
    const params = keyParams(RECORD);
    expect(params).toMatchObject({
      name: 'ci',
      group: 'g1',
      budget: 5_000_000,
      expires_at: '2030-01-31T00:00:00.000Z',
      models: '["gpt-4o","m2"]',
      allow_ips: '["10.0.0.0/8","::1"]',
      rpm: 60,
      tpm: 1000,
      concurrency: 3,
      strict_budget: 1,
      hash: RECORD.hash,
      spent: 1234,
    });
    expect(Object.keys(params).sort()).toEqual(['id', ...KEY_COLUMNS].sort());
    expect(keyParams({ ...RECORD, strictBudget: false }).strict_budget).toBe(0);
    expect(keyFromRow(params as unknown as KeyRow)).toEqual(RECORD);
    expect(keyFromRow({ ...params, strict_budget: 0 } as unknown as KeyRow).strictBudget).toBe(false);
  });

  it('the view shows every field under its wire name, in the order it always had', () => {
    const v = keyView(RECORD);
    expect(v).toMatchObject(INPUT);
    expect(Object.keys(v)).toEqual([
      'id',
      'name',
      'prefix',
      'group',
      'budget',
      'spent',
      'expires_at',
      'models',
      'allow_ips',
      'rpm',
      'tpm',
      'concurrency',
      'status',
      'strict_budget',
      'user',
      'scope',
      'created_by',
      'created_at',
      'last_used_at',
    ]);
    expect(v).not.toHaveProperty('hash');
  });

  it('validation reads every field of the table into its record name', () => {
    expect(validateKeyCreate(INPUT)).toEqual(keyFields(RECORD));
  });
});

describe('the channel table through the same walks', () => {
  it('keeps its columns, codecs and defaults', () => {
    expect(STORED_CHANNEL_COLUMNS.map((c) => `${c.record}:${c.column}:${c.as}`)).toEqual([
      'name:name:value',
      'type:type:value',
      'models:models:json',
      'baseUrl:base_url:value',
      'map:map:json',
      'groups:groups:json',
      'priority:priority:value',
      'weight:weight:value',
      'timeoutMs:timeout_ms:value',
      'region:region:value',
      'apiVersion:api_version:value',
    ]);
    for (const c of STORED_CHANNEL_COLUMNS) expect(CHANNEL_COLUMNS).toContain(c.column);
    expect(channelDefaults()).toEqual({
      keys: [],
      models: [],
      baseUrl: null,
      map: {},
      groups: ['default'],
      priority: 0,
      weight: 1,
      timeoutMs: 300_000,
      region: null,
      apiVersion: null,
      disabled: false,
    });
  });
});
