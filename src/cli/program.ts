/**
 * Builds the `bc` commander program and runs it once: global flags, one register function per
 * noun, and the one place errors become exit codes (0 done, 1 the daemon refused, 2 usage error
 * with a hint, 3 daemon not reachable). Commander's own errors (unknown command or flag, missing
 * or invalid value) are turned into exit 2 through exitOverride, their text routed through Output.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { BcError } from '../shared/errors.js';
import { DaemonError } from '../shared/daemon-client.js';
import { registerChannel } from './commands/channel.js';
import { registerConfig } from './commands/config.js';
import { registerDaemon } from './commands/daemon.js';
import { registerGroup } from './commands/group.js';
import { registerImport } from './commands/import.js';
import { registerInvite } from './commands/invite.js';
import { registerKey } from './commands/key.js';
import { registerUser } from './commands/user.js';
import { registerMigrate } from './commands/migrate.js';
import { registerRedeem } from './commands/redeem.js';
import { registerLogs } from './commands/logs.js';
import { registerMe } from './commands/me.js';
import { registerModels } from './commands/models.js';
import { registerPrice } from './commands/price.js';
import { registerService } from './commands/service.js';
import { registerStatus } from './commands/status.js';
import { registerTenant } from './commands/tenant.js';
import { registerTui } from './commands/tui.js';
import { registerUsage } from './commands/usage.js';
import { CliContext } from './context.js';
import type { CliIo } from './context.js';
import { UsageError } from './parse.js';
import { takeGatewayFlags } from './gateway-flags.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function addHints(cmd: Command): void {
  cmd.showHelpAfterError(`hint: see \`${fullName(cmd)} --help\``);
  for (const sub of cmd.commands) addHints(sub);
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('bc');
  program
    .description('BurnCloud: an LLM gateway managed from the terminal (also installed as `burncloud`)')
    .configureOutput({
      writeOut: (s) => ctx.out.writeOut(s),
      writeErr: (s) => ctx.out.writeErr(s),
      outputError: (s, write) => write(s),
    })
    .exitOverride()
    .showSuggestionAfterError()
    .option('--json', 'machine output: one JSON document on stdout')
    .option('--socket <path>', 'the control socket (default $BC_SOCKET, else $BC_HOME/bc.sock)')
    .option('--home <dir>', 'the state folder (default $BC_HOME, else ~/.local/share/burncloud)')
    .version(packageVersion(), '--version', 'print the version');
  registerStatus(program, ctx);
  registerDaemon(program, ctx);
  registerChannel(program, ctx);
  registerKey(program, ctx);
  registerUser(program, ctx);
  registerMigrate(program, ctx);
  registerRedeem(program, ctx);
  registerPrice(program, ctx);
  registerGroup(program, ctx);
  registerInvite(program, ctx);
  registerTenant(program, ctx);
  registerModels(program, ctx);
  registerLogs(program, ctx);
  registerUsage(program, ctx);
  registerMe(program, ctx);
  registerTui(program, ctx);
  registerImport(program, ctx);
  registerConfig(program, ctx);
  registerService(program, ctx);
  addHints(program);
  program.hook('preAction', (_root, action) => ctx.bind(action));
  return program;
}

/**
 * Prints an error the way its kind asks and returns the exit code. With `--json` (`jsonAsked`:
 * found on the command line, for errors raised before commander has read the flags) stdout also
 * gets `{"error":{"code","message","hint"?}}`.
 */
export function reportError(ctx: CliContext, err: unknown, jsonAsked = false): number {
  const json = ctx.out.json || jsonAsked;
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return EXIT.ok;
    // commander has written its message and hint to stderr already
    const message = err.message.replace(/^error:\s*/i, '');
    if (json) ctx.out.failureDocument('usage_error', message, 'add --help to the command to see its usage');
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    const hint = err.hint ?? `hint: see \`${ctx.commandPath()} --help\``;
    ctx.out.failure('usage_error', err.message, hint, json);
    return EXIT.usage;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BcError && err.code === 'DAEMON_UNREACHABLE') {
    ctx.out.failure(err.wireCode, message, undefined, json);
    return EXIT.unreachable;
  }
  const code = err instanceof DaemonError ? err.daemonCode : err instanceof BcError ? err.wireCode : 'error';
  ctx.out.failure(code, message, undefined, json);
  return EXIT.refused;
}

/** `--json` among the global flags of a command line (options end at `--`). */
function asksJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs one command line (`argv` without node and the script) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  try {
    const { argv: rest, flags } = takeGatewayFlags(argv);
    ctx.gatewayFlags = flags;
    await buildProgram(ctx).parseAsync(rest, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    return reportError(ctx, err, asksJson(argv));
  } finally {
    await ctx.close();
  }
}
