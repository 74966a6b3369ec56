/**
 * `bc channel ...`: upstream accounts. Flags are parsed and checked here (exit 2 on bad input)
 * before one call to the daemon; `--key -` reads secrets from stdin, one per line, so they stay
 * out of shell history. Listings show only the masked keys the daemon returns.
 */
import type { Command } from 'commander';
import {
  CHANNEL_FIELDS,
  CHANNEL_WIRES,
  flagAttribute,
  type ChannelValue,
  type ChannelWire,
  type FlagAttribute,
} from '../../shared/channel-fields.js';
import { CHANNEL_TYPES } from '../../shared/control-api.js';
import type { ChannelInput } from '../../shared/control-api.js';
import type { CliContext } from '../context.js';
import { arg, positiveDuration, repeat } from '../options.js';
import {
  UsageError,
  parseChannelType,
  parseHttpUrl,
  parseInteger,
  parseList,
  parseMapPair,
  parseName,
  parsePositiveInt,
  splitSecrets,
} from '../parse.js';
import { renderChannel, renderChannels } from '../views-catalog.js';

/** What commander hands over for a field's flag: the field's own value, except `--map`'s pairs. */
type FlagValue<W extends ChannelWire> = W extends 'map' ? [string, string][] : ChannelValue<W>;
/** The parsed flags, named as commander names them (`--api-version` -> `apiVersion`). */
type ChannelFlags = { [W in ChannelWire as FlagAttribute<W>]?: FlagValue<W> };

interface FlagSpec<W extends ChannelWire> {
  /** the flag's argument, e.g. `<name>`; none: a switch */
  arg?: string;
  help: string;
  parse?: (value: string, previous: FlagValue<W> | undefined) => FlagValue<W>;
  /** `add` needs it */
  required?: true;
}

/**
 * How each field of the table (shared/channel-fields.ts, which names the flags) is given on the
 * command line, in the table's order (`--help` lists them so); a field missing here is a compile
 * error.
 */
const FLAGS: { readonly [W in ChannelWire]: FlagSpec<W> } = {
  name: { arg: '<name>', help: 'a unique name', parse: arg(parseName), required: true },
  type: {
    arg: '<type>',
    help: `the provider: ${CHANNEL_TYPES.join(', ')}`,
    parse: arg(parseChannelType),
    required: true,
  },
  keys: {
    arg: '<secret>',
    help: 'an upstream secret; repeat for several; `-` reads them from stdin',
    parse: repeat(parseName),
    required: true,
  },
  models: {
    arg: '<list>',
    help: 'comma-separated models this channel serves',
    parse: arg(parseList),
    required: true,
  },
  base_url: {
    arg: '<url>',
    help: "the provider's base URL, as its official SDK takes it",
    parse: arg(parseHttpUrl),
  },
  map: {
    arg: '<alias=upstream>',
    help: 'serve an alias as another upstream model; repeatable',
    parse: repeat(parseMapPair),
  },
  groups: {
    arg: '<name>',
    help: 'a key group allowed to use this channel; repeatable',
    parse: repeat(parseName),
  },
  priority: {
    arg: '<n>',
    help: `higher is tried first (default ${CHANNEL_FIELDS.priority.default})`,
    parse: arg(parseInteger),
  },
  weight: {
    arg: '<n>',
    help: `share within its priority tier (default ${CHANNEL_FIELDS.weight.default})`,
    parse: arg(parsePositiveInt),
  },
  timeout_ms: { arg: '<duration>', help: 'upstream timeout, e.g. 60s', parse: arg(positiveDuration) },
  region: { arg: '<region>', help: 'cloud region (bedrock)', parse: arg(parseName) },
  api_version: { arg: '<version>', help: 'API version (azure)', parse: arg(parseName) },
  disabled: { help: 'keep the channel disabled' },
};

/** The flags shared by `add` and `edit`; `add` marks its essentials required. */
function channelFlags(cmd: Command, required: boolean): Command {
  for (const w of CHANNEL_WIRES) addFlag(cmd, w, required);
  return cmd;
}

function addFlag<W extends ChannelWire>(cmd: Command, w: W, adding: boolean): void {
  const spec: FlagSpec<W> = FLAGS[w];
  const flag = CHANNEL_FIELDS[w].flag;
  const add = adding && spec.required ? cmd.requiredOption.bind(cmd) : cmd.option.bind(cmd);
  if (spec.arg === undefined || spec.parse === undefined) add(flag, spec.help);
  else add(`${flag} ${spec.arg}`, spec.help, spec.parse);
}

async function resolveKeys(ctx: CliContext, keys: string[] | undefined): Promise<string[] | undefined> {
  if (!keys) return undefined;
  if (!keys.includes('-')) return keys;
  if ((ctx.io.stdin as { isTTY?: boolean }).isTTY === true) {
    ctx.out.warn('paste the secret(s), one per line, then press Ctrl-D');
  }
  const fromStdin = splitSecrets(await ctx.readStdin());
  if (fromStdin.length === 0) throw new UsageError('--key -: no secret on stdin (one per line expected)');
  return keys.flatMap((k) => (k === '-' ? fromStdin : [k]));
}

/** Flags to the control API's input: every field as given, but secrets (stdin) and map pairs. */
async function toInput(ctx: CliContext, f: ChannelFlags): Promise<ChannelInput> {
  const input: ChannelInput = {};
  for (const w of CHANNEL_WIRES) if (w !== 'keys' && w !== 'map') copyFlag(input, f, w);
  const keys = await resolveKeys(ctx, f.key);
  if (keys !== undefined) input.keys = keys;
  if (f.map !== undefined) input.map = Object.fromEntries(f.map);
  return input;
}

function copyFlag<W extends Exclude<ChannelWire, 'keys' | 'map'>>(
  input: ChannelInput,
  f: ChannelFlags,
  w: W,
): void {
  // ChannelFlags names each field's value by its flag; the checker cannot follow that renaming
  // for a generic W, but FlagValue<W> is ChannelValue<W> for every field but map
  const byAttribute: Partial<Record<string, unknown>> = f;
  const v = byAttribute[flagAttribute(w)] as ChannelValue<W> | undefined;
  if (v !== undefined) input[w] = v;
}

function registerMutations(channel: Command, ctx: CliContext): void {
  channelFlags(channel.command('add').description('add an upstream account'), true).action(
    async (flags: ChannelFlags) => {
      const created = await ctx.client().channels.add(await toInput(ctx, flags));
      ctx.out.result(
        created,
        (s) => `added channel ${created.id} (${created.name})\n\n${renderChannel(created, s)}`,
      );
    },
  );

  channelFlags(channel.command('edit').description("change a channel's settings"), false)
    .argument('<id>', 'channel id or name')
    .action(async (id: string, flags: ChannelFlags) => {
      const input = await toInput(ctx, flags);
      if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give at least one flag');
      const updated = await ctx.client().channels.edit(id, input);
      ctx.out.result(
        updated,
        (s) => `updated channel ${updated.id} (${updated.name})\n\n${renderChannel(updated, s)}`,
      );
    });

  for (const verb of ['enable', 'disable'] as const) {
    channel
      .command(verb)
      .description(`${verb} a channel`)
      .argument('<id>', 'channel id or name')
      .action(async (id: string) => {
        const c = await ctx.client().channels[verb](id);
        ctx.out.result(c, () => `${verb}d channel ${c.id} (${c.name})`);
      });
  }

  channel
    .command('rm')
    .alias('remove')
    .description('remove a channel')
    .argument('<id>', 'channel id or name')
    .action(async (id: string) => {
      const c = await ctx.client().channels.remove(id);
      ctx.out.result({ removed: true, ...c }, () => `removed channel ${c.id} (${c.name})`);
    });
}

function registerQueries(channel: Command, ctx: CliContext): void {
  channel
    .command('list')
    .alias('ls')
    .description('list channels (secrets masked)')
    .action(async () => {
      const list = await ctx.client().channels.list();
      ctx.out.result(list, (s) => renderChannels(list, s));
    });

  channel
    .command('show')
    .description('show one channel')
    .argument('<id>', 'channel id or name')
    .action(async (id: string) => {
      const c = await ctx.client().channels.show(id);
      ctx.out.result(c, (s) => renderChannel(c, s));
    });

  channel
    .command('test')
    .description('send one minimal real request through the channel')
    .argument('<id>', 'channel id or name')
    .option('--model <model>', 'the model to ask (default: its first)', arg(parseName))
    .action(async (id: string, flags: { model?: string }) => {
      ctx.out.progress(`testing channel ${id}…`);
      const r = await ctx.client(10 * 60_000).channels.test(id, flags.model);
      if (!r.ok) ctx.exitCode = 1;
      if (ctx.out.json || r.ok) {
        ctx.out.result(r, () => `ok: ${r.model} answered in ${r.latency_ms} ms`);
        return;
      }
      const status = r.status === null ? '' : ` (HTTP ${r.status})`;
      ctx.out.error(`channel test failed after ${r.latency_ms} ms${status}: ${r.error ?? 'unknown error'}`);
    });
}

export function registerChannel(program: Command, ctx: CliContext): void {
  const channel = program.command('channel').description('upstream accounts (channels)');
  registerQueries(channel, ctx);
  registerMutations(channel, ctx);
}
