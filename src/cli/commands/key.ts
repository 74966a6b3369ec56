/**
 * `bc key ...`: the client keys applications use. `create` and `rotate` print the secret once
 * (with `--json`, the KeyCreated object); every other answer carries only its prefix. Limits
 * given as `none` (budget, rpm, tpm, concurrency, expires) clear them on `edit`. `--strict-budget`
 * makes a key refuse a request its budget cannot fully cover instead of lowering its output limit;
 * `edit --no-strict-budget` turns that off again.
 */
import type { Command } from 'commander';
import type { KeyCreated, KeyInput } from '../../shared/control-api.js';
import type { CliContext } from '../context.js';
import { arg, clearable, orNull, repeat } from '../options.js';
import type { Cleared } from '../options.js';
import {
  UsageError,
  parseBudget,
  parseCidr,
  parseExpires,
  parseLimit,
  parseList,
  parseName,
} from '../parse.js';
import { renderKey, renderKeyCreated, renderKeys } from '../views-catalog.js';

interface KeyFlags {
  name?: string;
  group?: string;
  budget?: number | Cleared;
  expires?: string | Cleared;
  models?: string[];
  allowIp?: string[];
  rpm?: number | Cleared;
  tpm?: number | Cleared;
  concurrency?: number | Cleared;
  strictBudget?: boolean;
}

/** `all` (or `*`) means every model: an empty allow-list. */
function parseKeyModels(value: string): string[] {
  return /^(all|\*)$/i.test(value.trim()) ? [] : parseList(value);
}

/** `any` clears the address allow-list. */
function parseAllowIp(value: string): string {
  return /^any$/i.test(value.trim()) ? 'any' : parseCidr(value);
}

function keyFlags(cmd: Command, create: boolean): Command {
  if (create) cmd.requiredOption('--name <name>', 'a unique name', arg(parseName));
  else cmd.option('--name <name>', 'a new unique name', arg(parseName));
  return cmd
    .option('--group <group>', 'the price group (default: default)', arg(parseName))
    .option('--budget <usd>', 'spending limit in USD, or none', clearable(parseBudget))
    .option(
      '--expires <when>',
      'a duration from now (30d) or a date (2027-01-31, 00:00 UTC), or never',
      clearable((v) => parseExpires(v)),
    )
    .option('--models <list>', 'comma-separated models this key may use, or all', arg(parseKeyModels))
    .option(
      '--allow-ip <cidr>',
      'an address or CIDR block allowed to use the key; repeatable; any clears',
      repeat(parseAllowIp),
    )
    .option('--rpm <n>', 'requests per minute, or none', clearable(parseLimit))
    .option('--tpm <n>', 'tokens per minute, or none', clearable(parseLimit))
    .option('--concurrency <n>', 'requests in flight at once, or none', clearable(parseLimit))
    .option(
      '--strict-budget',
      'refuse a request the budget cannot fully cover instead of lowering its output limit (max_tokens)',
    );
}

function toInput(f: KeyFlags): KeyInput {
  const input: KeyInput = {};
  if (f.name !== undefined) input.name = f.name;
  if (f.group !== undefined) input.group = f.group;
  if (f.budget !== undefined) input.budget = orNull(f.budget);
  if (f.expires !== undefined) input.expires_at = orNull(f.expires);
  if (f.models !== undefined) input.models = f.models;
  if (f.allowIp !== undefined) input.allow_ips = f.allowIp.includes('any') ? [] : f.allowIp;
  if (f.rpm !== undefined) input.rpm = orNull(f.rpm);
  if (f.tpm !== undefined) input.tpm = orNull(f.tpm);
  if (f.concurrency !== undefined) input.concurrency = orNull(f.concurrency);
  if (f.strictBudget !== undefined) input.strict_budget = f.strictBudget;
  return input;
}

function showSecret(ctx: CliContext, k: KeyCreated, verb: 'created' | 'rotated'): void {
  ctx.out.result(k, (s) => renderKeyCreated(k, verb, s));
}

function registerLifecycle(key: Command, ctx: CliContext): void {
  keyFlags(key.command('create').description('create a client key; its secret is shown once'), true).action(
    async (flags: KeyFlags) => {
      showSecret(ctx, await ctx.client().keys.create(toInput(flags)), 'created');
    },
  );

  keyFlags(key.command('edit').description("change a key's settings"), false)
    .option('--no-strict-budget', 'lower the output limit near the end of the budget again (the default)')
    .argument('<id>', 'key id or name')
    .action(async (id: string, flags: KeyFlags) => {
      const input = toInput(flags);
      if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give at least one flag');
      const k = await ctx.client().keys.edit(id, input);
      ctx.out.result(k, (s) => `updated key ${k.id} (${k.name})\n\n${renderKey(k, s)}`);
    });

  key
    .command('rotate')
    .description('replace a key’s secret; the old one stops working; the new one is shown once')
    .argument('<id>', 'key id or name')
    .action(async (id: string) => {
      showSecret(ctx, await ctx.client().keys.rotate(id), 'rotated');
    });

  for (const verb of ['enable', 'disable', 'revoke'] as const) {
    const done = verb === 'revoke' ? 'revoked' : `${verb}d`;
    key
      .command(verb)
      .description(verb === 'revoke' ? 'revoke a key for good' : `${verb} a key`)
      .argument('<id>', 'key id or name')
      .action(async (id: string) => {
        const k = await ctx.client().keys[verb](id);
        ctx.out.result(k, () => `${done} key ${k.id} (${k.name})`);
      });
  }
}

export function registerKey(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('client keys');
  key
    .command('list')
    .alias('ls')
    .description('list client keys (secrets are never shown)')
    .action(async () => {
      const keys = await ctx.client().keys.list();
      ctx.out.result(keys, (s) => renderKeys(keys, s));
    });
  key
    .command('show')
    .description('show one key')
    .argument('<id>', 'key id or name')
    .action(async (id: string) => {
      const k = await ctx.client().keys.show(id);
      ctx.out.result(k, (s) => renderKey(k, s));
    });
  registerLifecycle(key, ctx);
}
