/**
 * `bc user ...`: tenants who own keys and a balance (SPEC section 11). Amounts are given in USD
 * and sent as micro-USD; `topup` is a paid credit (it can trigger an invitation reward), `adjust`
 * a correction of either sign that may take the balance below zero only with `--allow-negative`.
 * Limits given as `none` clear them on `edit`.
 */
import type { Command } from 'commander';
import type { UserInput } from '../../shared/tenant-api.js';
import { formatUsd } from '../../shared/money.js';
import type { CliContext } from '../context.js';
import { arg, clearable, orNull, type Cleared } from '../options.js';
import { UsageError, parseLimit, parseName, parsePositiveInt, parseUsdAmount } from '../parse.js';
import { renderLedger, renderUser, renderUsers } from '../views-tenants.js';

interface UserFlags {
  name?: string;
  group?: string;
  balance?: number;
  unmetered?: boolean;
  metered?: boolean;
  rpm?: number | Cleared;
  tpm?: number | Cleared;
  concurrency?: number | Cleared;
  maxKeys?: number | Cleared;
  note?: string;
  invite?: string;
}

/** `-2.5` or `2.5` USD -> signed micro-USD. */
function parseSignedUsd(input: string): number {
  const s = input.trim();
  const negative = s.startsWith('-');
  const micro = parseUsdAmount(negative ? s.slice(1) : s);
  return negative ? -micro : micro;
}

function limitFlags(cmd: Command): Command {
  return cmd
    .option('--rpm <n>', 'requests per minute over all their keys, or none', clearable(parseLimit))
    .option('--tpm <n>', 'tokens per minute over all their keys, or none', clearable(parseLimit))
    .option(
      '--concurrency <n>',
      'requests in flight at once over all their keys, or none',
      clearable(parseLimit),
    )
    .option(
      '--max-keys <n>',
      'keys they may hold (default: the tenant setting), or none',
      clearable(parseLimit),
    )
    .option('--note <text>', 'a note for operators');
}

function toInput(f: UserFlags): UserInput {
  const input: UserInput = {};
  if (f.name !== undefined) input.name = f.name;
  if (f.group !== undefined) input.group = f.group;
  if (f.balance !== undefined) input.balance = f.balance;
  if (f.unmetered) input.unmetered = true;
  if (f.metered) input.unmetered = false;
  if (f.rpm !== undefined) input.rpm = orNull(f.rpm);
  if (f.tpm !== undefined) input.tpm = orNull(f.tpm);
  if (f.concurrency !== undefined) input.concurrency = orNull(f.concurrency);
  if (f.maxKeys !== undefined) input.max_keys = orNull(f.maxKeys);
  if (f.note !== undefined) input.note = f.note;
  if (f.invite !== undefined) input.invite = f.invite;
  return input;
}

export function registerUser(program: Command, ctx: CliContext): void {
  const user = program.command('user').description('users (tenants): keys, balances, ledger');

  user
    .command('list')
    .alias('ls')
    .description('list users')
    .option('--group <group>', 'only this group', arg(parseName))
    .option('--status <status>', 'only enabled or disabled users', arg(parseName))
    .action(async (flags: { group?: string; status?: string }) => {
      const users = (await ctx.client().users.list()).filter(
        (u) =>
          (flags.group === undefined || u.group === flags.group) &&
          (flags.status === undefined || u.status === flags.status),
      );
      ctx.out.result(users, (s) => renderUsers(users, s));
    });

  user
    .command('show')
    .description('show one user')
    .argument('<user>', 'user id or name')
    .action(async (id: string) => {
      const u = await ctx.client().users.show(id);
      ctx.out.result(u, (s) => renderUser(u, s));
    });

  limitFlags(
    user
      .command('create')
      .description('create a user with a starting balance (or unmetered)')
      .requiredOption('--name <name>', 'a unique name (letters, digits, . _ -)', arg(parseName))
      .option('--group <group>', 'the price group of all their keys (default: default)', arg(parseName))
      .option(
        '--balance <usd>',
        'starting balance in USD (a top-up in the ledger; default 0)',
        arg(parseUsdAmount),
      )
      .option('--unmetered', 'no balance: only key budgets limit them')
      .option('--invite <code>', 'sign them up with an invitation (its group and starting balance)'),
  ).action(async (flags: UserFlags) => {
    if (flags.unmetered && flags.balance !== undefined)
      throw new UsageError('--balance and --unmetered exclude each other: an unmetered user has no balance');
    const answer = await ctx.client().users.create(toInput(flags));
    if ('key' in answer && 'user' in answer) {
      ctx.out.result(answer, (s) =>
        [
          `created user ${answer.user.id} (${answer.user.name}) with an invitation`,
          '',
          renderUser(answer.user, s),
          '',
          `their first key (${answer.key.name}, scope account): ${answer.key.key}`,
          'Save it now: it is stored hashed and cannot be shown again.',
        ].join('\n'),
      );
      return;
    }
    ctx.out.result(answer, (s) => `created user ${answer.id} (${answer.name})\n\n${renderUser(answer, s)}`);
  });

  limitFlags(
    user
      .command('edit')
      .description("change a user's settings")
      .argument('<user>', 'user id or name')
      .option('--name <name>', 'a new unique name (their keys are renamed with it)', arg(parseName))
      .option('--group <group>', 'the price group of all their keys', arg(parseName))
      .option('--unmetered', 'no balance any more (the balance must be 0)')
      .option('--metered', 'metered again, from a balance of 0'),
  ).action(async (id: string, flags: UserFlags) => {
    if (flags.unmetered && flags.metered)
      throw new UsageError('--metered and --unmetered exclude each other');
    const input = toInput(flags);
    if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give at least one flag');
    const u = await ctx.client().users.edit(id, input);
    ctx.out.result(u, (s) => `updated user ${u.id} (${u.name})\n\n${renderUser(u, s)}`);
  });

  for (const verb of ['enable', 'disable'] as const) {
    user
      .command(verb)
      .description(
        verb === 'disable' ? 'stop all their keys at the next request' : 'let their keys work again',
      )
      .argument('<user>', 'user id or name')
      .action(async (id: string) => {
        const u = await ctx.client().users[verb](id);
        ctx.out.result(u, () => `${verb}d user ${u.id} (${u.name})`);
      });
  }

  user
    .command('rm')
    .description('delete a user: keys revoked, balance zeroed, history kept')
    .argument('<user>', 'user id or name')
    .option('--force', 'also with a balance or enabled keys left')
    .action(async (id: string, flags: { force?: boolean }) => {
      const u = await ctx.client().users.remove(id, flags.force === true);
      ctx.out.result(u, () => `removed user ${u.id} (now ${u.name})`);
    });

  user
    .command('topup')
    .description('add paid credit to a balance (a ledger row; may pay an invitation reward)')
    .argument('<user>', 'user id or name')
    .requiredOption('--usd <amount>', 'USD to add', arg(parseUsdAmount))
    .option('--note <text>', 'e.g. an invoice number')
    .action(async (id: string, flags: { usd: number; note?: string }) => {
      if (flags.usd <= 0) throw new UsageError('--usd must be more than 0');
      const r = await ctx
        .client()
        .users.credit(id, { kind: 'topup', amount: flags.usd, note: flags.note ?? null });
      ctx.out.result(
        r,
        () => `topped up ${r.user.name} by ${formatUsd(flags.usd)}: balance ${formatUsd(r.user.balance)}`,
      );
    });

  user
    .command('adjust')
    .description('correct a balance by a signed amount (a ledger row)')
    .argument('<user>', 'user id or name')
    .requiredOption('--usd <amount>', 'USD to add, or subtract with a minus sign (-2.5)', arg(parseSignedUsd))
    .requiredOption('--note <text>', 'why (kept in the ledger)')
    .option('--allow-negative', 'let the balance go below zero')
    .action(async (id: string, flags: { usd: number; note: string; allowNegative?: boolean }) => {
      if (flags.usd === 0) throw new UsageError('--usd must not be 0');
      const r = await ctx.client().users.credit(id, {
        kind: 'adjust',
        amount: flags.usd,
        note: flags.note,
        allow_negative: flags.allowNegative === true,
      });
      ctx.out.result(
        r,
        () => `adjusted ${r.user.name} by ${formatUsd(flags.usd)}: balance ${formatUsd(r.user.balance)}`,
      );
    });

  user
    .command('ledger')
    .description("a user's credits and debits outside request settlement, newest first")
    .argument('<user>', 'user id or name')
    .option('--limit <n>', 'how many rows (default 100)', arg(parsePositiveInt))
    .action(async (id: string, flags: { limit?: number }) => {
      const rows = await ctx.client().users.ledger(id, flags.limit);
      ctx.out.result(rows, (s) => renderLedger(rows, s));
    });
}
