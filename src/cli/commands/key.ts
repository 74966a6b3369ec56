/**
 * `bc key ...`: the client keys applications use. `create` and `rotate` print the secret once
 * (with `--json`, the KeyCreated object); every other answer carries only its prefix. Limits
 * given as `none` (budget, rpm, tpm, concurrency, expires) clear them on `edit`. `--strict-budget`
 * makes a key refuse a request its budget cannot fully cover instead of lowering its output limit;
 * `edit --no-strict-budget` turns that off again.
 */
import type { Command } from 'commander';
import type { KeyCreated, KeyInput } from '../../shared/control-api.js';
import {
  KEY_FIELDS,
  KEY_WIRES,
  keyFlagAttribute,
  type KeyFlagAttribute,
  type KeyValue,
  type KeyWire,
} from '../../shared/key-fields.js';
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

/** What commander hands over for a field's flag: a value that may be cleared comes as CLEARED. */
type FlagValue<W extends KeyWire> =
  null extends KeyValue<W> ? Exclude<KeyValue<W>, null> | Cleared : KeyValue<W>;
/** The parsed flags, named as commander names them (`--allow-ip` -> `allowIp`). */
type KeyFlags = { [W in KeyWire as KeyFlagAttribute<W>]?: FlagValue<W> };

interface FlagSpec<W extends KeyWire> {
  /** the flag's argument, e.g. `<name>`; none: a switch */
  arg?: string;
  help: string;
  /** the help on `edit`, where it says something else */
  editHelp?: string;
  parse?: (value: string, previous: FlagValue<W> | undefined) => FlagValue<W>;
  /** `create` needs it */
  required?: true;
  /** the value as the control API takes it; absent: as given (CLEARED as null) */
  toWire?: (value: FlagValue<W>) => KeyValue<W>;
}

function parseScope(value: string): 'relay' | 'account' {
  const v = value.trim().toLowerCase();
  if (v === 'relay' || v === 'account') return v;
  throw new UsageError(`"${value}" is not a key scope: relay or account`);
}

/** `all` (or `*`) means every model: an empty allow-list. */
function parseKeyModels(value: string): string[] {
  return /^(all|\*)$/i.test(value.trim()) ? [] : parseList(value);
}

/** `any` clears the address allow-list. */
function parseAllowIp(value: string): string {
  return /^any$/i.test(value.trim()) ? 'any' : parseCidr(value);
}

/**
 * How each field of the table (shared/key-fields.ts, which names the flags) is given on the
 * command line, in the table's order (`--help` lists them so); a field missing here is a compile
 * error.
 */
const FLAGS: { readonly [W in KeyWire]: FlagSpec<W> } = {
  name: {
    arg: '<name>',
    help: 'a unique name',
    editHelp: 'a new unique name',
    parse: arg(parseName),
    required: true,
  },
  group: {
    arg: '<group>',
    help: `the price group (default: ${KEY_FIELDS.group.default})`,
    parse: arg(parseName),
  },
  budget: { arg: '<usd>', help: 'spending limit in USD, or none', parse: clearable(parseBudget) },
  expires_at: {
    arg: '<when>',
    help: 'a duration from now (30d) or a date (2027-01-31, 00:00 UTC), or never',
    parse: clearable((v) => parseExpires(v)),
  },
  models: {
    arg: '<list>',
    help: 'comma-separated models this key may use, or all',
    parse: arg(parseKeyModels),
  },
  allow_ips: {
    arg: '<cidr>',
    help: 'an address or CIDR block allowed to use the key; repeatable; any clears',
    parse: repeat(parseAllowIp),
    toWire: (ips) => (ips.includes('any') ? [] : ips),
  },
  rpm: { arg: '<n>', help: 'requests per minute, or none', parse: clearable(parseLimit) },
  tpm: { arg: '<n>', help: 'tokens per minute, or none', parse: clearable(parseLimit) },
  concurrency: { arg: '<n>', help: 'requests in flight at once, or none', parse: clearable(parseLimit) },
  strict_budget: {
    help: 'refuse a request the budget cannot fully cover instead of lowering its output limit (max_tokens)',
  },
};

/** The flags shared by `create` and `edit`; `create` marks its essentials required. */
function keyFlags(cmd: Command, create: boolean): Command {
  for (const w of KEY_WIRES) addFlag(cmd, w, create);
  return cmd;
}

function addFlag<W extends KeyWire>(cmd: Command, w: W, creating: boolean): void {
  const spec: FlagSpec<W> = FLAGS[w];
  const flag = KEY_FIELDS[w].flag;
  const help = creating ? spec.help : (spec.editHelp ?? spec.help);
  const add = creating && spec.required ? cmd.requiredOption.bind(cmd) : cmd.option.bind(cmd);
  if (spec.arg === undefined || spec.parse === undefined) add(flag, help);
  else add(`${flag} ${spec.arg}`, help, spec.parse);
}

/** Flags to the control API's input: every field given, in the table's order. */
function toInput(f: KeyFlags): KeyInput {
  const input: KeyInput = {};
  for (const w of KEY_WIRES) copyFlag(input, f, w);
  return input;
}

function copyFlag<W extends KeyWire>(input: KeyInput, f: KeyFlags, w: W): void {
  // KeyFlags names each field's value by its flag; the checker cannot follow that renaming for a
  // generic W, but the value is FlagValue<W>
  const byAttribute: Partial<Record<string, unknown>> = f;
  const v = byAttribute[keyFlagAttribute(w)] as FlagValue<W> | undefined;
  if (v === undefined) return;
  const toWire = FLAGS[w].toWire;
  // without its own conversion, a flag's value is the field's, but for CLEARED (null)
  input[w] = toWire ? toWire(v) : (orNull(v) as KeyValue<W>);
}

function showSecret(ctx: CliContext, k: KeyCreated, verb: 'created' | 'rotated'): void {
  ctx.out.result(k, (s) => renderKeyCreated(k, verb, s));
}

function registerLifecycle(key: Command, ctx: CliContext): void {
  keyFlags(key.command('create').description('create a client key; its secret is shown once'), true)
    .option(
      '--user <user>',
      'the user who owns the key (named user/name; draws on their balance)',
      arg(parseName),
    )
    .option(
      '--scope <scope>',
      "a user's key: relay (model calls) or account (also manages the user's keys)",
      arg(parseScope),
    )
    .action(async (flags: KeyFlags & { user?: string; scope?: 'relay' | 'account' }) => {
      if (flags.scope !== undefined && flags.user === undefined)
        throw new UsageError('--scope applies to a key a user owns: give --user as well');
      const input = { ...toInput(flags), ...(flags.user ? { user: flags.user, scope: flags.scope } : {}) };
      showSecret(ctx, await ctx.client().keys.create(input), 'created');
    });

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
    .option('--user <user>', 'only the keys this user owns', arg(parseName))
    .action(async (flags: { user?: string }) => {
      const keys = await ctx.client().keys.list(flags.user);
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
