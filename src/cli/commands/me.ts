/**
 * `bc --gateway URL --key KEY me ...` and `bc --gateway URL signup`: a tenant's own account on a
 * gateway, maybe another machine's, through its `/bc/v1/` routes (SPEC section 11) instead of the
 * control socket. What a relay key may do (`me`, `me usage`, `me logs` of itself) and what needs
 * an account key (the ledger, redeeming, keys) is the gateway's decision; its refusal is printed
 * as it says it (exit 1). Amounts are typed and shown in USD, `--json` prints the gateway's
 * documents (micro-USD). Secrets and codes can come from stdin (`--key -`, `redeem -`).
 */
import type { Command } from 'commander';
import type { SelfKeyInput, SelfUsageDimension } from '../../shared/self-service-api.js';
import { formatUsd } from '../../shared/money.js';
import type { CliContext } from '../context.js';
import { openGateway } from '../gateway-flags.js';
import { arg, clearable, orNull, repeat, type Cleared } from '../options.js';
import {
  UsageError,
  parseBudget,
  parseCidr,
  parseExpires,
  parseLimit,
  parseList,
  parseName,
  parsePositiveInt,
  parseSince,
} from '../parse.js';
import { renderKey, renderKeyCreated, renderKeys } from '../views-catalog.js';
import { renderLedger } from '../views-tenants.js';
import { renderMe, renderMyLogs, renderMyUsage, renderRedeemed, renderSignedUp } from '../views-me.js';

interface KeyFlags {
  name?: string;
  budget?: number | Cleared;
  expires?: string | Cleared;
  models?: string[];
  allowIp?: string[];
  rpm?: number | Cleared;
  tpm?: number | Cleared;
  concurrency?: number | Cleared;
  strictBudget?: boolean;
}

function parseDimension(input: string): SelfUsageDimension {
  const s = input.trim().toLowerCase();
  if (s === 'model' || s === 'key' || s === 'day') return s;
  throw new UsageError(`"${input}" is not a usage dimension: one of model, key, day`);
}

function keyFlags(cmd: Command, create: boolean): Command {
  const name = create ? cmd.requiredOption.bind(cmd) : cmd.option.bind(cmd);
  return name('--name <name>', create ? 'a name, unique among your keys' : 'a new name', arg(parseName))
    .option('--budget <usd>', 'spending limit in USD, or none', clearable(parseBudget))
    .option(
      '--expires <when>',
      'a duration from now (30d) or a date (2027-01-31), or never',
      clearable(parseExpires),
    )
    .option('--models <list>', "comma-separated models it may use (within your own key's)", arg(parseList))
    .option('--allow-ip <cidr>', 'an address or CIDR block allowed to use it; repeatable', repeat(parseCidr))
    .option('--rpm <n>', 'requests per minute (at most your own limit), or none', clearable(parseLimit))
    .option('--tpm <n>', 'tokens per minute (at most your own limit), or none', clearable(parseLimit))
    .option('--concurrency <n>', 'requests in flight at once, or none', clearable(parseLimit))
    .option('--strict-budget', 'refuse a request the budget cannot fully cover');
}

function toInput(f: KeyFlags): SelfKeyInput {
  const input: SelfKeyInput = {};
  if (f.name !== undefined) input.name = f.name;
  if (f.budget !== undefined) input.budget = orNull(f.budget);
  if (f.expires !== undefined) input.expires_at = orNull(f.expires);
  if (f.models !== undefined) input.models = f.models;
  if (f.allowIp !== undefined) input.allow_ips = f.allowIp;
  if (f.rpm !== undefined) input.rpm = orNull(f.rpm);
  if (f.tpm !== undefined) input.tpm = orNull(f.tpm);
  if (f.concurrency !== undefined) input.concurrency = orNull(f.concurrency);
  if (f.strictBudget) input.strict_budget = true;
  return input;
}

function registerKeys(me: Command, ctx: CliContext): void {
  const keys = me.command('keys').description('your keys (needs an account key)');
  const list = async (): Promise<void> => {
    const all = await (await openGateway(ctx, { keyed: true })).keys.list();
    ctx.out.result(all, (s) => renderKeys(all, s));
  };
  keys.action(list);
  keys.command('list').alias('ls').description('list your keys (secrets are never shown)').action(list);

  keyFlags(keys.command('create').description('make a relay key; its secret is shown once'), true).action(
    async (flags: KeyFlags) => {
      const k = await (await openGateway(ctx, { keyed: true })).keys.create(toInput(flags));
      ctx.out.result(k, (s) => renderKeyCreated(k, 'created', s));
    },
  );
  keyFlags(keys.command('edit').description("change one of your keys' settings"), false)
    .argument('<id>', 'key id or name')
    .action(async (id: string, flags: KeyFlags) => {
      const input = toInput(flags);
      if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give at least one flag');
      const k = await (await openGateway(ctx, { keyed: true })).keys.edit(id, input);
      ctx.out.result(k, (s) => `updated key ${k.id} (${k.name})\n\n${renderKey(k, s)}`);
    });
  keys
    .command('rotate')
    .description("replace a key's secret; the old one stops working; the new one is shown once")
    .argument('<id>', 'key id or name')
    .action(async (id: string) => {
      const k = await (await openGateway(ctx, { keyed: true })).keys.rotate(id);
      ctx.out.result(k, (s) => renderKeyCreated(k, 'rotated', s));
    });
  for (const verb of ['enable', 'disable', 'revoke'] as const) {
    const done = verb === 'revoke' ? 'revoked' : `${verb}d`;
    keys
      .command(verb)
      .description(verb === 'revoke' ? 'revoke one of your keys for good' : `${verb} one of your keys`)
      .argument('<id>', 'key id or name')
      .action(async (id: string) => {
        const k = await (await openGateway(ctx, { keyed: true })).keys[verb](id);
        ctx.out.result(k, () => `${done} key ${k.id} (${k.name})`);
      });
  }
}

function registerActivity(me: Command, ctx: CliContext): void {
  me.command('usage')
    .description('your usage and spend by model, key or day (a relay key: its own)')
    .option('--since <when>', 'a duration back from now (24h, 7d) or a date', arg(parseSince))
    .option('--by <dimension>', 'model, key or day', arg(parseDimension), 'model')
    .action(async (flags: { since?: string; by: SelfUsageDimension }) => {
      const rows = await (
        await openGateway(ctx, { keyed: true })
      ).usage(flags.by, flags.since ?? parseSince('24h'));
      ctx.out.result(rows, (s) => renderMyUsage(rows, flags.by, s));
    });
  me.command('logs')
    .description('your newest requests (a relay key: its own; no channel or upstream details)')
    .option('--limit <n>', 'how many rows (default 100, at most 1000)', arg(parsePositiveInt))
    .option(
      '--key <key>',
      'only this key of yours (id or name; needs an account key for others)',
      arg(parseName),
    )
    .action(async (flags: { limit?: number; key?: string }) => {
      const rows = await (await openGateway(ctx, { keyed: true })).logs(flags);
      ctx.out.result(rows, (s) => renderMyLogs(rows, s));
    });
  me.command('ledger')
    .description('credits and adjustments of your balance, newest first (needs an account key)')
    .option('--limit <n>', 'how many rows (default 100, at most 1000)', arg(parsePositiveInt))
    .action(async (flags: { limit?: number }) => {
      const rows = await (await openGateway(ctx, { keyed: true })).ledger(flags.limit);
      ctx.out.result(rows, (s) => renderLedger(rows, s));
    });
  me.command('referral')
    .description('your referral code and what it brought (needs an account key; referrals on)')
    .action(async () => {
      const r = await (await openGateway(ctx, { keyed: true })).referral();
      ctx.out.result(r, () =>
        [
          `referral code: ${r.code}`,
          `signed up with it: ${r.invited} (${r.pending} not yet paying, ${r.rewarded} rewarded)`,
          `earned: ${formatUsd(r.earned)}`,
        ].join('\n'),
      );
    });
  me.command('redeem')
    .description('add a redemption code to your balance (needs an account key)')
    .argument('<code>', 'the code, or - to read it from stdin')
    .action(async (code: string) => {
      const gateway = await openGateway(ctx, { keyed: true, stdinTaken: code === '-' });
      const text = code === '-' ? (await ctx.readStdin()).trim() : code;
      if (text === '') throw new UsageError('no code given (stdin was empty)');
      const r = await gateway.redeem(text);
      ctx.out.result(r, () => renderRedeemed(r));
    });
}

export function registerMe(program: Command, ctx: CliContext): void {
  const me = program
    .command('me')
    .description('your own account on a gateway, as a tenant: bc --gateway URL --key KEY me ...')
    .action(async () => {
      const view = await (await openGateway(ctx, { keyed: true })).me();
      ctx.out.result(view, (s) => renderMe(view, s));
    });
  registerActivity(me, ctx);
  registerKeys(me, ctx);

  program
    .command('signup')
    .description('create your account on a gateway with an invitation: bc --gateway URL signup ...')
    .requiredOption('--invite <code>', 'the invitation (or referral) code, or - to read it from stdin')
    .requiredOption('--name <name>', 'your user name', arg(parseName))
    .action(async (flags: { invite: string; name: string }) => {
      const gateway = await openGateway(ctx, { keyed: false });
      const code = flags.invite === '-' ? (await ctx.readStdin()).trim() : flags.invite.trim();
      if (code === '') throw new UsageError('no invitation code given');
      const a = await gateway.signup(code, flags.name);
      ctx.out.result(a, (s) => renderSignedUp(a, gateway.url, s));
    });

  program.addHelpText(
    'after',
    [
      '',
      'As a tenant, against a gateway (before the command):',
      '  --gateway <url>  the gateway to talk to (default $BC_GATEWAY), e.g. http://host:8300',
      '  --key <key>      your own key, or - to read it from stdin (default $BC_KEY)',
      '  e.g. bc --gateway http://host:8300 --key - me usage --by day',
    ].join('\n'),
  );
}
