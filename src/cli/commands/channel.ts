/**
 * `bc channel ...`: upstream accounts. Flags are parsed and checked here (exit 2 on bad input)
 * before one call to the daemon; `--key -` reads secrets from stdin, one per line, so they stay
 * out of shell history. Listings show only the masked keys the daemon returns.
 */
import type { Command } from 'commander';
import { CHANNEL_TYPES } from '../../shared/control-api.js';
import type { ChannelInput, ChannelType } from '../../shared/control-api.js';
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

interface ChannelFlags {
  name?: string;
  type?: ChannelType;
  key?: string[];
  models?: string[];
  baseUrl?: string;
  map?: [string, string][];
  group?: string[];
  priority?: number;
  weight?: number;
  timeout?: number;
  region?: string;
  apiVersion?: string;
  disabled?: boolean;
}

/** The flags shared by `add` and `edit`; `add` marks its essentials required. */
function channelFlags(cmd: Command, required: boolean): Command {
  const opt = required ? cmd.requiredOption.bind(cmd) : cmd.option.bind(cmd);
  opt('--name <name>', 'a unique name', arg(parseName));
  opt('--type <type>', `the provider: ${CHANNEL_TYPES.join(', ')}`, arg(parseChannelType));
  opt(
    '--key <secret>',
    'an upstream secret; repeat for several; `-` reads them from stdin',
    repeat(parseName),
  );
  opt('--models <list>', 'comma-separated models this channel serves', arg(parseList));
  return cmd
    .option('--base-url <url>', "the provider's base URL, as its official SDK takes it", arg(parseHttpUrl))
    .option(
      '--map <alias=upstream>',
      'serve an alias as another upstream model; repeatable',
      repeat(parseMapPair),
    )
    .option('--group <name>', 'a key group allowed to use this channel; repeatable', repeat(parseName))
    .option('--priority <n>', 'higher is tried first (default 0)', arg(parseInteger))
    .option('--weight <n>', 'share within its priority tier (default 1)', arg(parsePositiveInt))
    .option('--timeout <duration>', 'upstream timeout, e.g. 60s', arg(positiveDuration))
    .option('--region <region>', 'cloud region (bedrock)', arg(parseName))
    .option('--api-version <version>', 'API version (azure)', arg(parseName))
    .option('--disabled', 'keep the channel disabled');
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

async function toInput(ctx: CliContext, f: ChannelFlags): Promise<ChannelInput> {
  const input: ChannelInput = {};
  const keys = await resolveKeys(ctx, f.key);
  if (f.name !== undefined) input.name = f.name;
  if (f.type !== undefined) input.type = f.type;
  if (keys !== undefined) input.keys = keys;
  if (f.models !== undefined) input.models = f.models;
  if (f.baseUrl !== undefined) input.base_url = f.baseUrl;
  if (f.map !== undefined) input.map = Object.fromEntries(f.map);
  if (f.group !== undefined) input.groups = f.group;
  if (f.priority !== undefined) input.priority = f.priority;
  if (f.weight !== undefined) input.weight = f.weight;
  if (f.timeout !== undefined) input.timeout_ms = f.timeout;
  if (f.region !== undefined) input.region = f.region;
  if (f.apiVersion !== undefined) input.api_version = f.apiVersion;
  if (f.disabled !== undefined) input.disabled = f.disabled;
  return input;
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
