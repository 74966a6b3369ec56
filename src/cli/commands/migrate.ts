/**
 * `bc migrate`: applies the schema migrations this build carries to the configured store (BC_DB),
 * once, under a lock on PostgreSQL so every node can run it (SPEC section 9). Needs no daemon;
 * daemons also migrate at start. The store code loads only when the command runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply schema migrations to the store (BC_DB) once, for all nodes')
    .action(async () => {
      const { migrateStore } = await import('../../daemon/store/migrate-any.js');
      const r = await migrateStore(ctx.paths());
      ctx.out.result(r, () =>
        r.applied === 0
          ? `${r.store}: up to date (schema version ${r.version})`
          : `${r.store}: applied ${r.applied} migration${r.applied === 1 ? '' : 's'}, now at schema version ${r.version}`,
      );
    });
}
