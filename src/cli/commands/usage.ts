/**
 * `bc usage`: requests, tokens and spend summed by model, key, channel or user over a period.
 */
import type { Command } from 'commander';
import type { UsageDimension } from '../../shared/control-api.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseSince, parseUsageDimension } from '../parse.js';
import { renderUsage } from '../views-activity.js';

export function registerUsage(program: Command, ctx: CliContext): void {
  program
    .command('usage')
    .description('usage and spend summed by model, key, channel or user')
    .option('--since <when>', 'a duration back from now (24h, 7d) or a date', arg(parseSince))
    .option('--by <dimension>', 'model, key, channel or user', arg(parseUsageDimension), 'model')
    .action(async (flags: { since?: string; by: UsageDimension }) => {
      const since = flags.since ?? parseSince('24h');
      const rows = await ctx.client().usage(flags.by, since);
      ctx.out.result(rows, (s) => renderUsage(rows, flags.by, s));
    });
}
