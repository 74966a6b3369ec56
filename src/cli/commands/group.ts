/**
 * `bc group ...`: price multipliers per key group (One API's group ratio): a key in group G pays
 * the model price times G's ratio.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseName, parseRatio } from '../parse.js';
import { renderGroups } from '../views-catalog.js';

export function registerGroup(program: Command, ctx: CliContext): void {
  const group = program.command('group').description('key groups and their price ratios');

  group
    .command('list')
    .alias('ls')
    .description('list groups')
    .action(async () => {
      const groups = await ctx.client().groups.list();
      ctx.out.result(groups, (s) => renderGroups(groups, s));
    });

  group
    .command('set')
    .description('create a group or change its ratio')
    .argument('<name>', 'group name', arg(parseName))
    .requiredOption('--ratio <r>', 'price multiplier, e.g. 1, 0.8, 1.5', arg(parseRatio))
    .action(async (name: string, flags: { ratio: number }) => {
      const g = await ctx.client().groups.set(name, flags.ratio);
      ctx.out.result(g, () => `group ${g.name}: ratio ${g.ratio}`);
    });
}
