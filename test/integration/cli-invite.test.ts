// `bc invite ...` and `bc tenant settings` through the real binary against a real daemon: the
// invite code printed once with the save warning (or written to a new 0600 file, never over one),
// found again by id, prefix or code but never shown, a user signed up with it and the invitation
// listed with what it paid; settings shown in USD, sent and printed in micro-USD with --json, the
// farming warning on stderr; the daemon's refusals exit 1, bad input exits 2 with nothing changed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  InvitationView,
  InviteCreated,
  InviteView,
  SignupAnswer,
  TenantSettings,
} from '../../src/shared/tenant-api.js';
import { startTestDaemon } from '../support/daemon.js';
import type { TestDaemon } from '../support/daemon.js';

const USD = 1_000_000;
const CODE = /BCI-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}/;
const INVITE_FIELDS = [
  'id',
  'prefix',
  'name',
  'inviter',
  'group',
  'invitee_amount',
  'inviter_amount',
  'max_uses',
  'uses',
  'status',
  'expires_at',
  'created_at',
];

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
  expect((await d.bc(['tenant', 'settings', '--signup', 'invite'])).code).toBe(0);
  expect((await d.bc(['user', 'create', '--name', 'sponsor'])).code).toBe(0);
});

afterAll(async () => {
  await d?.cleanup();
});

async function json<T>(args: string[]): Promise<T> {
  const r = await d.bc([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

describe('bc invite', () => {
  it('prints the code once, signs a user up with it, and pays the sponsor at signup', async () => {
    const r = await d.bc([
      'invite',
      'create',
      '--name',
      'team-a',
      '--usd',
      '5',
      '--inviter',
      'sponsor',
      '--inviter-usd',
      '2',
      '--group',
      'vip',
      '--uses',
      '2',
      '--expires',
      '7d',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const code = CODE.exec(r.stdout)?.[0];
    expect(code).toBeDefined();
    expect(r.stdout).toContain('Save these now: they are stored hashed and cannot be shown again.');

    const list = await json<InviteView[]>(['invite', 'list']);
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0]!)).toEqual(INVITE_FIELDS);
    expect(list[0]).toMatchObject({
      name: 'team-a',
      inviter: 'sponsor',
      group: 'vip',
      invitee_amount: 5 * USD,
      inviter_amount: 2 * USD,
      max_uses: 2,
      uses: 0,
      status: 'active',
    });
    expect(JSON.stringify(list)).not.toContain(code);
    const human = await d.bc(['invite', 'list']);
    expect(human.stdout).toMatch(/PREFIX .*STATUS/);
    expect(human.stdout).toContain('$5.00');
    expect(human.stdout).not.toContain(code);

    const signed = await json<SignupAnswer>(['user', 'create', '--name', 'newbie', '--invite', code!]);
    expect(signed.user).toMatchObject({
      name: 'newbie',
      group: 'vip',
      balance: 5 * USD,
      invited_by: 'sponsor',
    });
    expect(signed.key).toMatchObject({ name: 'newbie/default', scope: 'account' });

    const shown = await json<InviteView>(['invite', 'show', list[0]!.prefix.toLowerCase()]);
    expect(shown).toMatchObject({ id: list[0]!.id, uses: 1 });
    expect((await json<InviteView>(['invite', 'show', code!])).id).toBe(list[0]!.id);

    const rows = await json<InvitationView[]>(['invite', 'invitations']);
    expect(rows).toEqual([
      expect.objectContaining({
        invitee: 'newbie',
        inviter: 'sponsor',
        invite: list[0]!.id,
        status: 'rewarded',
        invitee_bonus: 5 * USD,
        inviter_reward: 2 * USD,
        rebate_paid: 0,
      }),
    ]);
    const table = await d.bc(['invite', 'invitations']);
    expect(table.stdout).toMatch(/INVITEE\s+INVITER\s+VIA\s+STATUS/);
    expect(table.stdout).toMatch(/newbie\s+sponsor\s+invite \d+\s+rewarded\s+\$5\.00\s+\$2\.00/);
    const sponsor = await json<{ balance: number }>(['user', 'show', 'sponsor']);
    expect(sponsor.balance).toBe(2 * USD);
  });

  it('gives the code in --json, and refuses a revoked invite with exit 1', async () => {
    const created = await json<InviteCreated>(['invite', 'create']);
    expect(created.code).toMatch(CODE);
    expect(Object.keys(created)).toEqual([...INVITE_FIELDS, 'code']);
    const revoked = await json<InviteView>(['invite', 'revoke', String(created.id)]);
    expect(revoked.status).toBe('revoked');
    const r = await d.bc(['user', 'create', '--name', 'too-late', '--invite', created.code]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('this invitation code cannot be used');
    expect((await d.bc(['invite', 'show', '999'])).code).toBe(1);
  });

  it('writes the code to a new 0600 file with --out and never over an existing one', async () => {
    const file = path.join(d.home, 'invite.txt');
    const r = await d.bc(['invite', 'create', '--usd', '1', '--out', file]);
    expect(r.code, r.stderr).toBe(0);
    const saved = fs.readFileSync(file, 'utf8');
    expect(saved).toMatch(new RegExp(`^${CODE.source}\n$`));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout).not.toContain(saved.trim());
    expect(r.stdout).toContain(file);

    const before = (await json<InviteView[]>(['invite', 'list'])).length;
    const again = await d.bc(['invite', 'create', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(fs.readFileSync(file, 'utf8')).toBe(saved);
    expect(await json<InviteView[]>(['invite', 'list'])).toHaveLength(before);
  });

  it('refuses bad input with exit 2 and nothing created', async () => {
    const before = (await json<InviteView[]>(['invite', 'list'])).length;
    for (const args of [
      ['--inviter-usd', '2'],
      ['--usd', 'lots'],
      ['--uses', '0'],
      ['--expires', '2001-01-01'],
    ]) {
      const r = await d.bc(['invite', 'create', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const unknown = await d.bc(['invite', 'create', '--inviter', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(await json<InviteView[]>(['invite', 'list'])).toHaveLength(before);
  });
});

describe('bc tenant settings', () => {
  it('shows the settings in USD, changes only what is given, and warns about farmable rewards', async () => {
    const shown = await d.bc(['tenant', 'settings']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/signup\s+invite/);
    expect(shown.stdout).toMatch(/referral: min credit\s+\$5\.00/);

    const r = await d.bc([
      'tenant',
      'settings',
      '--self-service',
      'on',
      '--signup',
      'invite+referral',
      '--invitee-usd',
      '3',
      '--inviter-usd',
      '2.5',
      '--reward-on',
      'first-credit',
      '--min-credit-usd',
      '5',
      '--inviter-max',
      '3',
      '--inviter-daily-max',
      '2',
      '--rebate-percent',
      '10',
      '--rebate-cap-usd',
      '20',
      '--signups-per-ip',
      '4',
      '--signups-per-day',
      '100',
      '--default-max-keys',
      '7',
      '--redeem-failures-per-10m',
      '6',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as TenantSettings;
    expect(s).toEqual({
      self_service: true,
      signup: 'invite+referral',
      default_max_keys: 7,
      referral: {
        invitee_amount: 3 * USD,
        inviter_amount: 2_500_000,
        reward_on: 'first_credit',
        min_credit: 5 * USD,
        inviter_max: 3,
        inviter_daily_max: 2,
        rebate_percent: 10,
        rebate_cap: 20 * USD,
      },
      signups_per_ip_per_day: 4,
      signups_per_day: 100,
      redeem_failures_per_10m: 6,
    });
    expect(r.stderr).toContain(
      'warning: the referral bonus and reward ($5.50) reach the minimum credit ($5.00)',
    );

    const fixed = await json<TenantSettings>(['tenant', 'settings', '--inviter-usd', '1']);
    expect(fixed.referral).toMatchObject({
      inviter_amount: 1 * USD,
      invitee_amount: 3 * USD,
      inviter_max: 3,
    });
    const quiet = await d.bc(['tenant', 'settings']);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/referral: rebate\s+10% up to \$20\.00 per invitee/);
  });

  it('refuses bad values with exit 2 and leaves the settings alone', async () => {
    const before = await json<TenantSettings>(['tenant', 'settings']);
    for (const args of [
      ['--signup', 'open'],
      ['--reward-on', 'payday'],
      ['--rebate-percent', '101'],
      ['--inviter-max', '-1'],
      ['--self-service', 'maybe'],
    ]) {
      const r = await d.bc(['tenant', 'settings', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(await json<TenantSettings>(['tenant', 'settings'])).toEqual(before);
  });
});
