/**
 * `bc top` (live monitor) and `bc ui` (management TUI). Ink and React are loaded only inside
 * these actions, by dynamic import, so no other command pays for them at startup.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerTui(program: Command, ctx: CliContext): void {
  program
    .command('top')
    .description('live monitor: throughput, tokens, latency, errors by channel, model and key (q quits)')
    .option('--once', 'print one frame (or with --json one snapshot) and exit')
    .option('--node <id>', "in a cluster: one node's numbers (its id from bc status, or local)")
    .action(async (flags: { once?: boolean; node?: string }) => {
      const { runTop } = await import('../../tui/top/run.js');
      ctx.exitCode = await runTop({
        socket: ctx.paths().socket,
        once: flags.once === true,
        json: ctx.out.json,
        ...(flags.node === undefined ? {} : { node: flags.node }),
      });
    });

  program
    .command('ui')
    .description('management TUI: channels, keys, prices, logs (q quits)')
    .action(async () => {
      const { runUi } = await import('../../tui/ui/run.js');
      ctx.exitCode = await runUi({ socket: ctx.paths().socket });
    });
}
