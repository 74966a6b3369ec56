/**
 * `bc models`: every model the gateway serves, with the channels behind it (and the upstream
 * model name where an alias maps it).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { renderModels } from '../views-catalog.js';

export function registerModels(program: Command, ctx: CliContext): void {
  program
    .command('models')
    .description('every model served, with its channels')
    .action(async () => {
      const models = await ctx.client().models();
      ctx.out.result(models, (s) => renderModels(models, s));
    });
}
