/**
 * `bc redeem ...`: redemption codes (SPEC section 11). Codes are stored hashed, so `create` is
 * the only time they are shown: on stdout, in `--json` (`codes[].code`), or in a CSV file with
 * `--out` (mode 0600, never overwriting a file; then stdout gets only a summary). `use` redeems a
 * code on a user's behalf and, unlike the tenant's own route, says exactly why a code cannot be
 * redeemed. Amounts are given in USD and sent as micro-USD.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatUsd } from '../../shared/money.js';
import type {
  RedeemAnswer,
  RedeemCodeInput,
  RedeemCodesCreated,
  RedeemCodeView,
  RedeemStatus,
} from '../../shared/tenant-api.js';
import type { CliContext } from '../context.js';
import { formatTime, orDash, renderFields, renderTable, type Column, type Style } from '../format.js';
import { arg, clearable, orNull, type Cleared } from '../options.js';
import { UsageError, parseExpires, parseName, parsePositiveInt, parseUsdAmount } from '../parse.js';

/** Codes one `create` may make (the daemon's limit too). */
const MAX_COUNT = 10_000;
const STATUSES: readonly RedeemStatus[] = ['active', 'used', 'expired', 'revoked'];
const SAVE_WARNING = 'Save these now: they are stored hashed and cannot be shown again.';

interface CreateFlags {
  usd: number;
  count?: number;
  name?: string;
  expires?: string | Cleared;
  uses?: number;
  user?: string;
  promo?: boolean;
  out?: string;
}

interface RedemptionRow {
  user: string;
  time: string;
  amount: number;
  ip?: string | null;
}

function parseCount(input: string): number {
  const n = parsePositiveInt(input);
  if (n > MAX_COUNT)
    throw new UsageError(`"${input}" is more than ${MAX_COUNT} codes: create them in several calls`);
  return n;
}

function parseStatus(input: string): RedeemStatus {
  const s = input.trim().toLowerCase();
  const found = STATUSES.find((x) => x === s);
  if (found === undefined)
    throw new UsageError(`"${input}" is not a code status: one of ${STATUSES.join(', ')}`);
  return found;
}

/** micro-USD -> `1.5` (a plain decimal, for the CSV). */
function usdDecimal(micro: number): string {
  const whole = Math.floor(micro / 1_000_000);
  const frac = String(micro % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return frac === '' ? String(whole) : `${whole}.${frac}`;
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function codesCsv(created: RedeemCodesCreated): string {
  const lines = ['code,amount_usd,expires_at,batch'];
  for (const c of created.codes) {
    lines.push([c.code, usdDecimal(c.amount), c.expires_at ?? '', c.batch ?? ''].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * Creates FILE for the codes before any code exists: exclusively (an existing file is refused, so
 * nothing is overwritten) and readable by its owner only.
 */
function openOutFile(file: string): number {
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    fs.fchmodSync(fd, 0o600);
    return fd;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new UsageError(
        `${file} already exists: codes are never written over a file; choose a new --out path`,
      );
    throw new UsageError(`cannot create ${file}: ${(e as Error).message}`);
  }
}

function uses(c: RedeemCodeView): string {
  return `${c.uses}/${c.max_uses}`;
}

function statusColour(status: RedeemStatus, style: Style): string {
  if (status === 'active') return style.green(status);
  if (status === 'revoked') return style.red(status);
  return style.yellow(status);
}

function codeColumns(style: Style): Column<RedeemCodeView>[] {
  return [
    { header: 'ID', value: (c) => String(c.id), right: true },
    { header: 'PREFIX', value: (c) => c.prefix },
    { header: 'BATCH', value: (c) => orDash(c.batch) },
    { header: 'AMOUNT', value: (c) => formatUsd(c.amount), right: true },
    { header: 'USES', value: uses, right: true },
    { header: 'USER', value: (c) => orDash(c.user) },
    { header: 'PROMO', value: (c) => (c.promo ? 'yes' : '-') },
    { header: 'STATUS', value: (c) => statusColour(c.status, style) },
    { header: 'EXPIRES', value: (c) => formatTime(c.expires_at) },
    { header: 'CREATED', value: (c) => formatTime(c.created_at) },
  ];
}

export function renderCodes(codes: readonly RedeemCodeView[], style: Style): string {
  if (codes.length === 0) return 'no redemption codes: create some with `bc redeem create --usd 10`';
  return renderTable(codeColumns(style), codes, style);
}

export function renderCode(c: RedeemCodeView & { redemptions?: unknown[] }, style: Style): string {
  const fields = renderFields(
    [
      ['id', String(c.id)],
      ['prefix', c.prefix],
      ['batch', orDash(c.batch)],
      ['amount', `${formatUsd(c.amount)} per use`],
      ['uses', `${uses(c)}`],
      ['user', c.user ?? 'anyone'],
      ['promo', c.promo ? 'yes (free credit: pays no invitation reward)' : 'no'],
      ['status', statusColour(c.status, style)],
      ['expires', formatTime(c.expires_at)],
      ['created', formatTime(c.created_at)],
    ],
    style,
  );
  const rows = (c.redemptions ?? []) as RedemptionRow[];
  if (rows.length === 0) return `${fields}\n\nnot redeemed yet`;
  const table = renderTable<RedemptionRow>(
    [
      { header: 'USER', value: (r) => r.user },
      { header: 'TIME', value: (r) => formatTime(r.time) },
      { header: 'AMOUNT', value: (r) => formatUsd(r.amount), right: true },
      { header: 'IP', value: (r) => orDash(r.ip) },
    ],
    rows,
    style,
  );
  return `${fields}\n\nredemptions\n${table}`;
}

function describeBatch(created: RedeemCodesCreated, input: RedeemCodeInput): string {
  const n = created.codes.length;
  const first = created.codes[0];
  const details: string[] = [];
  if (created.batch !== null) details.push(`batch ${created.batch}`);
  const u = input.uses ?? 1;
  details.push(u === 1 ? 'single use' : `${u} uses each, once per user`);
  if (first?.user) details.push(`only for ${first.user}`);
  if (input.promo) details.push('promo');
  details.push(first?.expires_at ? `expires ${formatTime(first.expires_at)} UTC` : 'no expiry');
  return `${n} code${n === 1 ? '' : 's'} of ${formatUsd(created.amount)} (${details.join(', ')})`;
}

function registerCreate(redeem: Command, ctx: CliContext): void {
  redeem
    .command('create')
    .description('create redemption codes; they are shown once')
    .requiredOption('--usd <amount>', 'USD credited per use', arg(parseUsdAmount))
    .option('--count <n>', `how many codes (1..${MAX_COUNT}, default 1)`, arg(parseCount))
    .option('--name <batch>', 'a batch name, to list or revoke them together', arg(parseName))
    .option(
      '--expires <when>',
      'last moment to redeem: a duration from now (30d) or a date (2027-01-31, 00:00 UTC)',
      clearable((v) => parseExpires(v)),
    )
    .option('--uses <n>', 'uses per code, each by a different user (default 1)', arg(parsePositiveInt))
    .option('--user <user>', 'only this user may redeem them (id or name)', arg(parseName))
    .option('--promo', 'free credit: never pays an invitation reward')
    .option('--out <file>', 'write the codes as CSV to a new file (mode 0600) instead of printing them')
    .action(async (flags: CreateFlags) => {
      if (flags.usd <= 0) throw new UsageError('--usd must be more than 0');
      const input: RedeemCodeInput = { amount: flags.usd, count: flags.count ?? 1 };
      if (flags.name !== undefined) input.batch = flags.name;
      if (flags.expires !== undefined) input.expires_at = orNull(flags.expires);
      if (flags.uses !== undefined) input.uses = flags.uses;
      if (flags.user !== undefined) input.user = flags.user;
      if (flags.promo) input.promo = true;
      // the file first: codes are never made that could not be saved
      const fd = flags.out === undefined ? undefined : openOutFile(flags.out);
      let created: RedeemCodesCreated;
      try {
        created = await ctx.client().redeem.create(input);
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
            `created ${describeBatch(created, input)}`,
            '',
            ...created.codes.map((c) => `  ${s.bold(c.code)}`),
            '',
            s.yellow(SAVE_WARNING),
          ].join('\n'),
        );
        return;
      }
      try {
        fs.writeSync(fd, codesCsv(created));
      } finally {
        fs.closeSync(fd);
      }
      const file = flags.out;
      const summary = {
        batch: created.batch,
        amount: created.amount,
        count: created.codes.length,
        file,
        codes: created.codes.map(({ code: _code, ...view }) => view),
      };
      ctx.out.result(
        summary,
        () =>
          `created ${describeBatch(created, input)}\nwrote them to ${file} (mode 0600): keep that file safe, the codes cannot be shown again`,
      );
    });
}

async function readCode(ctx: CliContext, code: string): Promise<string> {
  if (code !== '-') return code;
  const line = (await ctx.readStdin())
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined)
    throw new UsageError('no code on stdin: pipe it in, e.g. `echo CODE | bc redeem use - --user U`');
  return line;
}

function renderAnswer(a: RedeemAnswer, user: string): string {
  if (a.replayed)
    return `${user} had already redeemed this code (${formatUsd(a.amount)}, balance then ${formatUsd(a.balance)}): nothing credited again`;
  return `redeemed ${formatUsd(a.amount)} for ${user}: balance ${formatUsd(a.balance)}`;
}

export function registerRedeem(program: Command, ctx: CliContext): void {
  const redeem = program.command('redeem').description('redemption codes: create, list, revoke, redeem');

  registerCreate(redeem, ctx);

  redeem
    .command('list')
    .alias('ls')
    .description('list redemption codes (the codes themselves are never shown again)')
    .option('--batch <batch>', 'only this batch', arg(parseName))
    .option('--status <status>', `only ${STATUSES.join(', ')}`, arg(parseStatus))
    .option('--user <user>', 'only codes bound to this user', arg(parseName))
    .action(async (flags: { batch?: string; status?: RedeemStatus; user?: string }) => {
      const query: { batch?: string; status?: string; user?: string } = {};
      if (flags.batch !== undefined) query.batch = flags.batch;
      if (flags.status !== undefined) query.status = flags.status;
      if (flags.user !== undefined) query.user = flags.user;
      const codes = await ctx.client().redeem.list(query);
      ctx.out.result(codes, (s) => renderCodes(codes, s));
    });

  redeem
    .command('show')
    .description('show one code and who redeemed it')
    .argument('<code>', 'code id or prefix (BCR-7KQ2X)')
    .action(async (id: string) => {
      const c = await ctx.client().redeem.show(id);
      ctx.out.result(c, (s) => renderCode(c, s));
    });

  redeem
    .command('revoke')
    .description('revoke a code, or every code of a batch still redeemable (--batch)')
    .argument('[code]', 'code id or prefix')
    .option('--batch <batch>', 'revoke the whole batch', arg(parseName))
    .action(async (id: string | undefined, flags: { batch?: string }) => {
      if ((id === undefined) === (flags.batch === undefined))
        throw new UsageError('give either a code id or prefix, or --batch B (not both)');
      if (flags.batch !== undefined) {
        const batch = flags.batch;
        const r = await ctx.client().redeem.revokeBatch(batch);
        ctx.out.result(r, () => `revoked ${r.revoked} code${r.revoked === 1 ? '' : 's'} of batch ${batch}`);
        return;
      }
      const c = await ctx.client().redeem.revoke(id ?? '');
      ctx.out.result(c, () => `revoked code ${c.id} (${c.prefix})`);
    });

  redeem
    .command('use')
    .description("redeem a code on a user's behalf (says exactly why a code cannot be redeemed)")
    .argument('<code>', 'the code, or - to read it from stdin')
    .requiredOption('--user <user>', 'the user to credit (id or name)', arg(parseName))
    .action(async (code: string, flags: { user: string }) => {
      const a = await ctx.client().redeem.use(await readCode(ctx, code), flags.user);
      ctx.out.result(a, () => renderAnswer(a, flags.user));
    });
}
