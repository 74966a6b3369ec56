/**
 * `bc invite ...`: admin invitations (SPEC section 11, TENANTS.md 5.5). An invite code signs a new
 * user up (`bc user create --name N --invite CODE`, or the tenant's own `POST /bc/v1/signup`) with
 * the invite's group and starting balance, and rewards its sponsor (`--inviter`). Codes are stored
 * hashed, so `create` is the only time one is shown: on stdout, in `--json` (`code`), or in a new
 * file with `--out` (mode 0600, never written over; then stdout gets the invite without its code).
 * `invitations` lists every user an invite or a referral code brought, and what was paid for it.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatUsd } from '../../shared/money.js';
import type {
  InvitationView,
  InviteCreated,
  InviteInput,
  InviteStatus,
  InviteView,
} from '../../shared/tenant-api.js';
import type { CliContext } from '../context.js';
import { formatTime, orDash, renderFields, renderTable, type Column, type Style } from '../format.js';
import { arg, clearable, orNull, type Cleared } from '../options.js';
import { UsageError, parseExpires, parseName, parsePositiveInt, parseUsdAmount } from '../parse.js';

const SAVE_WARNING = 'Save these now: they are stored hashed and cannot be shown again.';

interface CreateFlags {
  name?: string;
  usd?: number;
  inviter?: string;
  inviterUsd?: number;
  group?: string;
  uses?: number;
  expires?: string | Cleared;
  out?: string;
}

function toInput(f: CreateFlags): InviteInput {
  if (f.inviterUsd !== undefined && f.inviter === undefined) {
    throw new UsageError('--inviter-usd rewards a sponsor: name them with --inviter U');
  }
  const input: InviteInput = {};
  if (f.name !== undefined) input.name = f.name;
  if (f.usd !== undefined) input.invitee_amount = f.usd;
  if (f.inviter !== undefined) input.inviter = f.inviter;
  if (f.inviterUsd !== undefined) input.inviter_amount = f.inviterUsd;
  if (f.group !== undefined) input.group = f.group;
  if (f.uses !== undefined) input.uses = f.uses;
  if (f.expires !== undefined) input.expires_at = orNull(f.expires);
  return input;
}

/** FILE for the code, made before the code exists: exclusively (never over a file), owner-only. */
function openOutFile(file: string): number {
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    fs.fchmodSync(fd, 0o600);
    return fd;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(
        `${file} already exists: a code is never written over a file; choose a new --out path`,
      );
    throw new UsageError(`cannot create ${file}: ${(e as Error).message}`);
  }
}

function statusColour(status: InviteStatus, style: Style): string {
  if (status === 'active') return style.green(status);
  if (status === 'revoked') return style.red(status);
  return style.yellow(status);
}

function inviteColumns(style: Style): Column<InviteView>[] {
  return [
    { header: 'ID', value: (i) => String(i.id), right: true },
    { header: 'PREFIX', value: (i) => i.prefix },
    { header: 'NAME', value: (i) => orDash(i.name) },
    { header: 'GROUP', value: (i) => i.group ?? 'default' },
    { header: 'INVITEE', value: (i) => formatUsd(i.invitee_amount), right: true },
    { header: 'INVITER', value: (i) => orDash(i.inviter) },
    { header: 'REWARD', value: (i) => (i.inviter === null ? '-' : formatUsd(i.inviter_amount)), right: true },
    { header: 'USES', value: (i) => `${i.uses}/${i.max_uses}`, right: true },
    { header: 'STATUS', value: (i) => statusColour(i.status, style) },
    { header: 'EXPIRES', value: (i) => formatTime(i.expires_at) },
  ];
}

export function renderInvites(invites: readonly InviteView[], style: Style): string {
  if (invites.length === 0) return 'no invites yet: create one with `bc invite create --usd 5`';
  return renderTable(inviteColumns(style), invites, style);
}

export function renderInvite(i: InviteView, style: Style): string {
  return renderFields(
    [
      ['id', String(i.id)],
      ['prefix', i.prefix],
      ['name', orDash(i.name)],
      ['group', i.group ?? 'default'],
      ['starting balance', formatUsd(i.invitee_amount)],
      ['inviter', orDash(i.inviter)],
      ['inviter reward', i.inviter === null ? '-' : formatUsd(i.inviter_amount)],
      ['uses', `${i.uses}/${i.max_uses}`],
      ['status', statusColour(i.status, style)],
      ['expires', formatTime(i.expires_at)],
      ['created', formatTime(i.created_at)],
    ],
    style,
  );
}

function invitationStatus(s: InvitationView['status'], style: Style): string {
  if (s === 'rewarded') return style.green(s);
  if (s === 'pending') return s;
  return style.yellow(s);
}

export function renderInvitations(rows: readonly InvitationView[], style: Style): string {
  if (rows.length === 0) return 'no invitations yet: nobody has signed up with an invite or a referral code';
  const columns: Column<InvitationView>[] = [
    { header: 'ID', value: (r) => String(r.id), right: true },
    { header: 'INVITEE', value: (r) => r.invitee },
    { header: 'INVITER', value: (r) => orDash(r.inviter) },
    { header: 'VIA', value: (r) => (r.invite === null ? 'referral' : `invite ${r.invite}`) },
    { header: 'STATUS', value: (r) => invitationStatus(r.status, style) },
    { header: 'BONUS', value: (r) => formatUsd(r.invitee_bonus), right: true },
    { header: 'REWARD', value: (r) => formatUsd(r.inviter_reward), right: true },
    { header: 'REBATE', value: (r) => formatUsd(r.rebate_paid), right: true },
    { header: 'CREATED', value: (r) => formatTime(r.created_at) },
    { header: 'REWARDED', value: (r) => formatTime(r.rewarded_at) },
  ];
  return renderTable(columns, rows, style);
}

export function registerInvite(program: Command, ctx: CliContext): void {
  const invite = program.command('invite').description('invitations: sign users up, reward who brought them');

  invite
    .command('create')
    .description('create an invite code (shown once)')
    .option('--name <name>', 'a label for the invite', arg(parseName))
    .option('--usd <usd>', "the new user's starting balance in USD (default 0)", arg(parseUsdAmount))
    .option('--inviter <user>', 'a sponsor rewarded for each user it brings (id or name)', arg(parseName))
    .option('--inviter-usd <usd>', "the sponsor's reward in USD per user", arg(parseUsdAmount))
    .option('--group <group>', 'the group of the users it creates (default: default)', arg(parseName))
    .option('--uses <n>', 'users it can sign up (default 1)', arg(parsePositiveInt))
    .option(
      '--expires <when>',
      'last moment to use it: a duration from now (7d) or a date (2027-01-31, 00:00 UTC)',
      clearable((v) => parseExpires(v)),
    )
    .option('--out <file>', 'write the code to a new file (mode 0600) instead of printing it')
    .action(async (flags: CreateFlags) => {
      const input = toInput(flags);
      // the file first: no code is made that could not be saved
      const fd = flags.out === undefined ? undefined : openOutFile(flags.out);
      let created: InviteCreated;
      try {
        created = await ctx.client().invites.create(input);
      } catch (e) {
        if (fd !== undefined && flags.out !== undefined) {
          fs.closeSync(fd);
          fs.rmSync(flags.out, { force: true });
        }
        throw e;
      }
      if (fd === undefined || flags.out === undefined) {
        ctx.out.result(created, (s) =>
          [
            `created invite ${created.id} (${created.prefix})`,
            '',
            `  ${s.bold(created.code)}`,
            '',
            s.yellow(SAVE_WARNING),
            `Sign a user up with it: bc user create --name NAME --invite CODE`,
          ].join('\n'),
        );
        return;
      }
      try {
        fs.writeSync(fd, `${created.code}\n`);
      } finally {
        fs.closeSync(fd);
      }
      const file = flags.out;
      const { code: _code, ...view } = created;
      ctx.out.result(
        { ...view, file },
        (s) =>
          `created invite ${created.id} (${created.prefix})\nwrote its code to ${file} (mode 0600): keep that file safe, the code cannot be shown again\n\n${renderInvite(view, s)}`,
      );
    });

  invite
    .command('list')
    .alias('ls')
    .description('list invites (codes are never shown again; prefixes are)')
    .action(async () => {
      const invites = await ctx.client().invites.list();
      ctx.out.result(invites, (s) => renderInvites(invites, s));
    });

  invite
    .command('show')
    .description('show one invite')
    .argument('<invite>', 'invite id, prefix (BCI-XXXXX) or the whole code')
    .action(async (id: string) => {
      const i = await ctx.client().invites.show(id);
      ctx.out.result(i, (s) => renderInvite(i, s));
    });

  invite
    .command('revoke')
    .description('revoke an invite: nobody can sign up with it any more')
    .argument('<invite>', 'invite id, prefix (BCI-XXXXX) or the whole code')
    .action(async (id: string) => {
      const i = await ctx.client().invites.revoke(id);
      ctx.out.result(i, (s) => `revoked invite ${i.id} (${i.prefix})\n\n${renderInvite(i, s)}`);
    });

  invite
    .command('invitations')
    .description('users who signed up with an invite or a referral code, and what was paid')
    .action(async () => {
      const rows = await ctx.client().invites.invitations();
      ctx.out.result(rows, (s) => renderInvitations(rows, s));
    });
}
