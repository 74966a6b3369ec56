/**
 * `bc status`: whether the daemon runs and what it serves. Not running is exit 3, through the
 * daemon client's DAEMON_UNREACHABLE error.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { renderStatus } from '../views-activity.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('pid, version, uptime, addresses, counts')
    .action(async () => {
      const status = await ctx.client().status();
      ctx.out.result(status, (s) => renderStatus(status, s));
    });
}
