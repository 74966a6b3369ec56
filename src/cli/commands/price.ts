/**
 * `bc price ...`: what a model costs, in USD per 1M tokens on the command line and micro-USD per
 * 1M tokens on the wire. `list` shows every model the channels serve with its effective price
 * and source (`override`, `catalog@VERSION`, `supplement@DATE`) or `unpriced`; `set` adds an
 * override, which wins over the catalog; `rm` removes it, so the catalog's price applies again.
 */
import type { Command } from 'commander';
import type { PriceInput } from '../../shared/control-api.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseName, parsePositiveInt, parseUsdAmount } from '../parse.js';
import { renderPrice, renderPrices } from '../views-catalog.js';

interface PriceFlags {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  perRequest?: number;
  maxOutput?: number;
}

function toInput(f: PriceFlags): PriceInput {
  const input: PriceInput = { input: f.input, output: f.output };
  if (f.cacheRead !== undefined) input.cache_read = f.cacheRead;
  if (f.cacheWrite !== undefined) input.cache_write = f.cacheWrite;
  if (f.perRequest !== undefined) input.per_request = f.perRequest;
  if (f.maxOutput !== undefined) input.max_output_tokens = f.maxOutput;
  return input;
}

export function registerPrice(program: Command, ctx: CliContext): void {
  const price = program.command('price').description('model prices (USD per 1M tokens)');
  const usd = arg(parseUsdAmount);

  price
    .command('list')
    .alias('ls')
    .description('list the price of every model a channel serves, and where it comes from')
    .action(async () => {
      const prices = await ctx.client().prices.list();
      ctx.out.result(prices, (s) => renderPrices(prices, s));
    });

  price
    .command('set')
    .description("override a model's price (wins over the catalog)")
    .argument('<model>', 'the model name clients ask for', arg(parseName))
    .requiredOption('--input <usd>', 'USD per 1M input tokens', usd)
    .requiredOption('--output <usd>', 'USD per 1M output tokens', usd)
    .option('--cache-read <usd>', 'USD per 1M cached input tokens read', usd)
    .option('--cache-write <usd>', 'USD per 1M input tokens written to the cache', usd)
    .option('--per-request <usd>', 'USD added to every request', usd)
    .option(
      '--max-output <tokens>',
      "the model's output-token limit (for budget reservations)",
      arg(parsePositiveInt),
    )
    .action(async (model: string, flags: PriceFlags) => {
      const p = await ctx.client().prices.set(model, toInput(flags));
      ctx.out.result(p, () => renderPrice(p));
    });

  price
    .command('rm')
    .alias('remove')
    .description("remove a price override (the catalog's price, if any, applies again)")
    .argument('<model>', 'the model name', arg(parseName))
    .action(async (model: string) => {
      const p = await ctx.client().prices.remove(model);
      ctx.out.result(
        { removed: true, ...p },
        () => `removed the price override of ${p.model}: \`bc price list\` shows the price now in force`,
      );
    });
}
