// `bc key ...` through the real binary against a real daemon: the secret printed once (and
// working at the gateway), never in listings or the database, rotation retiring the old secret,
// edits in USD and durations, the daemon's refusals (exit 1) and bad input (exit 2, nothing changed).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyCreated, KeyView } from '../../src/shared/control-api.js';
import { startTestDaemon } from '../support/daemon.js';
import type { TestDaemon } from '../support/daemon.js';
import { eachStore, storeBytes } from '../support/store-matrix.js';

const KEY_FIELDS = [
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
  'created_at',
  'last_used_at',
];
const SECRET = /sk-bc-[A-Za-z0-9]{32,}/;

let d: TestDaemon;

eachStore((store) => {
  // the secrets each store's daemon printed
  const secrets: string[] = [];

  beforeAll(async () => {
    d = await startTestDaemon({ store });
  });

  afterAll(async () => {
    await d?.cleanup();
  });

  async function keys(): Promise<KeyView[]> {
    const r = await d.bc(['key', 'list', '--json']);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as KeyView[];
  }

  async function gatewayStatus(secret: string): Promise<number> {
    const res = await fetch(`${d.gatewayUrl}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    await res.arrayBuffer();
    return res.status;
  }

  describe('key create', () => {
    it('prints the secret once, saying it will not be shown again', async () => {
      const r = await d.bc([
        'key',
        'create',
        '--name',
        'app',
        '--budget',
        '10',
        '--expires',
        '30d',
        '--allow-ip',
        '127.0.0.1',
        '--allow-ip',
        '::1/128',
        '--rpm',
        '60',
        '--models',
        'gpt-4o,gpt-4o-mini',
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^created key \d+ \(app\)/);
      expect(r.stdout).toContain('it will not be shown again');
      const secret = SECRET.exec(r.stdout)?.[0] ?? '';
      expect(secret).not.toBe('');
      secrets.push(secret);
      expect(await gatewayStatus(secret)).toBe(200);
    });

    it('--json answers the KeyCreated object with the secret under `key`', async () => {
      const r = await d.bc(['key', 'create', '--name', 'svc', '--group', 'default', '--json']);
      expect(r.code).toBe(0);
      const k = JSON.parse(r.stdout) as KeyCreated;
      for (const f of [...KEY_FIELDS, 'key']) expect(k).toHaveProperty(f);
      expect(k.key).toMatch(new RegExp(`^${SECRET.source}$`));
      expect(k.key.startsWith(k.prefix)).toBe(true);
      expect(k).toMatchObject({ name: 'svc', budget: null, spent: 0, status: 'enabled', models: [] });
      secrets.push(k.key);
    });
  });

  describe('key list, show, edit, enable, disable', () => {
    it('list: human columns, SPEC field names, money in micro-USD, no secret', async () => {
      const human = await d.bc(['key', 'list']);
      expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+GROUP\s+BUDGET\s+SPENT\s+EXPIRES/);
      expect(human.stdout).toMatch(/app\s+sk-bc-\S+\s+default\s+\$10\.00\s+\$0\.00/);
      const list = await keys();
      expect(list.map((k) => k.name)).toEqual(['app', 'svc']);
      for (const k of list) {
        for (const f of KEY_FIELDS) expect(k).toHaveProperty(f);
        expect(k).not.toHaveProperty('key');
      }
      expect(list[0]).toMatchObject({
        budget: 10_000_000,
        rpm: 60,
        allow_ips: ['127.0.0.1', '::1/128'],
        models: ['gpt-4o', 'gpt-4o-mini'],
      });
      const expires = Date.parse(list[0]?.expires_at ?? '');
      expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(120_000);
    });

    it('show by name and by id agree', async () => {
      const [a, b] = await Promise.all([
        d.bc(['key', 'show', 'app', '--json']),
        d.bc(['key', 'show', String((await keys())[0]?.id), '--json']),
      ]);
      expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
      const human = await d.bc(['key', 'show', 'app']);
      expect(human.stdout).toMatch(/budget\s+\$10\.00/);
      expect(human.stdout).toMatch(/allowed IPs\s+127\.0\.0\.1, ::1\/128/);
    });

    it('edit: a date expiry is that day 00:00 UTC; none clears limits', async () => {
      const year = new Date().getUTCFullYear() + 2;
      const r = await d.bc([
        'key',
        'edit',
        'app',
        '--budget',
        '12.5',
        '--expires',
        `${year}-01-31`,
        '--rpm',
        'none',
        '--tpm',
        '1000',
        '--concurrency',
        '4',
        '--json',
      ]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        budget: 12_500_000,
        expires_at: `${year}-01-31T00:00:00.000Z`,
        rpm: null,
        tpm: 1000,
        concurrency: 4,
      });
      const cleared = JSON.parse(
        (await d.bc(['key', 'edit', 'app', '--budget', 'none', '--expires', 'never', '--json'])).stdout,
      ) as KeyView;
      expect(cleared).toMatchObject({ budget: null, expires_at: null });
    });

    it('disable and enable take effect at the gateway', async () => {
      const secret = secrets[0] ?? '';
      expect((await d.bc(['key', 'disable', 'app'])).stdout).toMatch(/^disabled key \d+ \(app\)\n$/);
      expect(await gatewayStatus(secret)).toBe(403);
      const j = JSON.parse((await d.bc(['key', 'enable', 'app', '--json'])).stdout) as KeyView;
      expect(j.status).toBe('enabled');
      expect(await gatewayStatus(secret)).toBe(200);
    });
  });

  describe('key rotate and revoke', () => {
    it('rotate prints a new secret once; the old one stops working', async () => {
      const old = secrets[1] ?? '';
      const r = await d.bc(['key', 'rotate', 'svc']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^rotated key \d+ \(svc\)/);
      expect(r.stdout).toContain('it will not be shown again');
      const fresh = SECRET.exec(r.stdout)?.[0] ?? '';
      expect(fresh).not.toBe(old);
      secrets.push(fresh);
      expect(await gatewayStatus(old)).toBe(401);
      expect(await gatewayStatus(fresh)).toBe(200);
      const j = JSON.parse((await d.bc(['key', 'rotate', 'svc', '--json'])).stdout) as KeyCreated;
      expect(j.key).toMatch(SECRET);
      secrets.push(j.key);
    });

    it('revoke', async () => {
      const r = await d.bc(['key', 'revoke', 'svc', '--json']);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: 'svc', status: 'revoked' });
      expect(await gatewayStatus(secrets.at(-1) ?? '')).not.toBe(200);
    });
  });

  describe('refusals and bad input', () => {
    it("duplicate name and unknown id: exit 1 with the daemon's message", async () => {
      const [dup, unknown] = await Promise.all([
        d.bc(['key', 'create', '--name', 'app']),
        d.bc(['key', 'show', 'ghost']),
      ]);
      expect(dup.code).toBe(1);
      expect(dup.stderr).toMatch(/^error: .*"app".*exists/);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^error: no key/);
    });

    it('invalid CIDR, date, duration, amount, limit: exit 2 and no key created', async () => {
      const before = await keys();
      const cases: [string[], string][] = [
        [['--allow-ip', '10.0.0.0/40'], 'not an IP address or CIDR block'],
        [['--allow-ip', 'localhost'], 'not an IP address or CIDR block'],
        [['--expires', '2027-02-30'], 'not a calendar date'],
        [['--expires', '3 days'], 'neither a duration'],
        [['--budget', '1,000'], 'not a USD amount'],
        [['--rpm', '-5'], 'not a positive integer'],
        [['--frobnicate'], 'unknown option'],
      ];
      const results = await Promise.all(
        cases.map(([flags]) => d.bc(['key', 'create', '--name', 'new', ...flags])),
      );
      results.forEach((r, i) => {
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(cases[i]?.[1]);
        expect(r.stderr).toContain('hint: see `bc key create --help`');
      });
      expect(await keys()).toEqual(before);
    });
  });

  describe('secrets stay secret', () => {
    it('no listing or log prints a client secret, and the database holds none', async () => {
      const outs = await Promise.all([
        d.bc(['key', 'list']),
        d.bc(['key', 'list', '--json']),
        d.bc(['key', 'show', 'app', '--json']),
      ]);
      const text =
        outs.map((o) => o.stdout).join('\n') +
        fs.readFileSync(path.join(d.home, 'logs', 'daemon.log'), 'utf8');
      expect(secrets.length).toBeGreaterThanOrEqual(4);
      const stored = await storeBytes(d.home, d.db);
      for (const s of secrets) {
        expect(text).not.toContain(s);
        expect(stored.includes(Buffer.from(s))).toBe(false);
      }
    });
  });
});
