/**
 * `bc tenant settings`: the tenant-wide policy (SPEC section 11, TENANTS.md 5.2): self-service on
 * the gateway port, who may sign up, the referral amounts and their caps, the signup limits. With
 * no flag it shows them; flags change only what they name. Amounts are given and shown in USD, and
 * sent and printed with `--json` in micro-USD. A referral policy whose rewards add up to the
 * minimum credit or more is warned about on stderr: a throwaway account could then earn more than
 * it pays.
 */
import type { Command } from 'commander';
import { formatUsd } from '../../shared/money.js';
import type { TenantSettings, TenantSettingsInput } from '../../shared/tenant-api.js';
import type { CliContext } from '../context.js';
import { renderFields, type Style } from '../format.js';
import { arg } from '../options.js';
import { UsageError, parseBoolean, parseUsdAmount } from '../parse.js';

type Referral = NonNullable<TenantSettingsInput['referral']>;

interface SettingsFlags {
  selfService?: boolean;
  signup?: TenantSettings['signup'];
  inviteeUsd?: number;
  inviterUsd?: number;
  rewardOn?: TenantSettings['referral']['reward_on'];
  minCreditUsd?: number;
  inviterMax?: number;
  inviterDailyMax?: number;
  rebatePercent?: number;
  rebateCapUsd?: number;
  signupsPerIp?: number;
  signupsPerDay?: number;
  defaultMaxKeys?: number;
  redeemFailuresPer10m?: number;
}

function parseCount(input: string): number {
  const s = input.trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) {
    throw new UsageError(`"${input}" is not a whole number (0, 1, 2, ...)`);
  }
  return n;
}

function parsePercent(input: string): number {
  const n = parseCount(input);
  if (n > 100) throw new UsageError(`"${input}" is more than 100 percent`);
  return n;
}

function parseSignup(input: string): TenantSettings['signup'] {
  const s = input.trim().toLowerCase();
  if (s === 'off' || s === 'invite' || s === 'invite+referral') return s;
  throw new UsageError(`"${input}" is not a signup mode: one of off, invite, invite+referral`);
}

function parseRewardOn(input: string): TenantSettings['referral']['reward_on'] {
  const s = input.trim().toLowerCase().replace('-', '_');
  if (s === 'signup' || s === 'first_credit') return s;
  throw new UsageError(`"${input}" is not a reward moment: signup or first-credit`);
}

function toInput(f: SettingsFlags): TenantSettingsInput {
  const input: TenantSettingsInput = {};
  if (f.selfService !== undefined) input.self_service = f.selfService;
  if (f.signup !== undefined) input.signup = f.signup;
  if (f.defaultMaxKeys !== undefined) input.default_max_keys = f.defaultMaxKeys;
  if (f.signupsPerIp !== undefined) input.signups_per_ip_per_day = f.signupsPerIp;
  if (f.signupsPerDay !== undefined) input.signups_per_day = f.signupsPerDay;
  if (f.redeemFailuresPer10m !== undefined) input.redeem_failures_per_10m = f.redeemFailuresPer10m;
  const r: Referral = {};
  if (f.inviteeUsd !== undefined) r.invitee_amount = f.inviteeUsd;
  if (f.inviterUsd !== undefined) r.inviter_amount = f.inviterUsd;
  if (f.rewardOn !== undefined) r.reward_on = f.rewardOn;
  if (f.minCreditUsd !== undefined) r.min_credit = f.minCreditUsd;
  if (f.inviterMax !== undefined) r.inviter_max = f.inviterMax;
  if (f.inviterDailyMax !== undefined) r.inviter_daily_max = f.inviterDailyMax;
  if (f.rebatePercent !== undefined) r.rebate_percent = f.rebatePercent;
  if (f.rebateCapUsd !== undefined) r.rebate_cap = f.rebateCapUsd;
  if (Object.keys(r).length > 0) input.referral = r;
  return input;
}

export function renderSettings(t: TenantSettings, style: Style): string {
  const r = t.referral;
  const rebate =
    r.rebate_percent === 0 ? 'off' : `${r.rebate_percent}% up to ${formatUsd(r.rebate_cap)} per invitee`;
  const fields: [string, string][] = [
    ['self-service', t.self_service ? 'on (/bc/v1/ on the gateway port)' : 'off'],
    ['signup', t.signup],
    ['default max keys', String(t.default_max_keys)],
    ['referral: invitee bonus', formatUsd(r.invitee_amount)],
    ['referral: inviter reward', formatUsd(r.inviter_amount)],
    ['referral: reward on', r.reward_on === 'first_credit' ? 'first credit' : 'signup'],
    ['referral: min credit', formatUsd(r.min_credit)],
    ['referral: inviter max', `${r.inviter_max} rewards`],
    ['referral: inviter daily max', `${r.inviter_daily_max} rewards a day`],
    ['referral: rebate', rebate],
    ['signups per address', `${t.signups_per_ip_per_day} a day`],
    ['signups', `${t.signups_per_day} a day`],
    ['redeem failures', `${t.redeem_failures_per_10m} per 10 minutes`],
  ];
  return renderFields(fields, style);
}

/** Why these settings let throwaway accounts farm rewards, or null. */
export function farmingWarning(t: TenantSettings): string | null {
  const r = t.referral;
  const paid = r.invitee_amount + r.inviter_amount;
  if (paid === 0) return null;
  if (r.reward_on === 'signup') {
    return `warning: referral rewards (${formatUsd(paid)} a signup) are paid at signup, before anyone pays: only the signup limits stop throwaway accounts from farming them`;
  }
  if (paid >= r.min_credit) {
    return `warning: the referral bonus and reward (${formatUsd(paid)}) reach the minimum credit (${formatUsd(r.min_credit)}): a throwaway account can earn more than it pays; keep --invitee-usd + --inviter-usd below --min-credit-usd`;
  }
  return null;
}

export function registerTenant(program: Command, ctx: CliContext): void {
  const tenant = program.command('tenant').description('tenant-wide policy: self-service, signup, referrals');

  tenant
    .command('settings')
    .description('show the tenant settings, or change those given')
    .option('--self-service <on|off>', 'the /bc/v1/ routes on the gateway port', arg(parseBoolean))
    .option('--signup <mode>', 'who may sign up: off, invite, invite+referral', arg(parseSignup))
    .option('--invitee-usd <usd>', "a referred user's bonus in USD", arg(parseUsdAmount))
    .option('--inviter-usd <usd>', "a referring user's reward in USD", arg(parseUsdAmount))
    .option(
      '--reward-on <when>',
      'pay referrals at signup or first-credit (a paid credit)',
      arg(parseRewardOn),
    )
    .option(
      '--min-credit-usd <usd>',
      'the smallest paid credit that pays a referral, in USD',
      arg(parseUsdAmount),
    )
    .option('--inviter-max <n>', 'rewards one inviter can ever earn', arg(parseCount))
    .option('--inviter-daily-max <n>', 'rewards one inviter can earn in 24 hours', arg(parseCount))
    .option(
      '--rebate-percent <p>',
      "percent of an invitee's later paid credits to the inviter",
      arg(parsePercent),
    )
    .option('--rebate-cap-usd <usd>', 'the most rebate one invitee pays, in USD', arg(parseUsdAmount))
    .option('--signups-per-ip <n>', 'signups from one address in 24 hours', arg(parseCount))
    .option('--signups-per-day <n>', 'signups in 24 hours', arg(parseCount))
    .option('--default-max-keys <n>', 'keys a user may hold unless set per user', arg(parseCount))
    .option(
      '--redeem-failures-per-10m <n>',
      'failed redemptions before 429, per user and address',
      arg(parseCount),
    )
    .action(async (flags: SettingsFlags) => {
      const input = toInput(flags);
      const changing = Object.keys(input).length > 0;
      const client = ctx.client();
      const settings = changing ? await client.tenant.set(input) : await client.tenant.settings();
      const warning = farmingWarning(settings);
      if (warning !== null) ctx.out.warn(warning);
      ctx.out.result(
        settings,
        (s) => `${changing ? 'updated the tenant settings\n\n' : ''}${renderSettings(settings, s)}`,
      );
    });
}
