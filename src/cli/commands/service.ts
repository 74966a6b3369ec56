/**
 * `bc service install [--user] [--print]`: writes a systemd unit that runs `bc daemon` (system:
 * /etc/systemd/system, user: ~/.config/systemd/user), the only file BurnCloud writes outside
 * BC_HOME, then says which systemctl command enables it. `--print` only shows the unit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { renderSystemdUnit } from '../../shared/systemd-unit.js';
import { bcBinPath } from '../bin-path.js';
import type { CliContext } from '../context.js';
import { arg } from '../options.js';
import { parseListenAddress } from '../parse.js';

export const UNIT_NAME = 'burncloud.service';

interface ServiceFlags {
  user?: boolean;
  print?: boolean;
  listen?: string;
}

function unitPath(ctx: CliContext, user: boolean): string {
  if (!user) return path.join('/etc/systemd/system', UNIT_NAME);
  const configHome = ctx.env.XDG_CONFIG_HOME || path.join(ctx.env.HOME || os.homedir(), '.config');
  return path.join(configHome, 'systemd', 'user', UNIT_NAME);
}

function install(ctx: CliContext, flags: ServiceFlags): void {
  const user = flags.user === true;
  const home = ctx.homeFlag ?? (ctx.env.BC_HOME || undefined);
  const listen = flags.listen ?? (ctx.env.BC_LISTEN || undefined);
  const unit = renderSystemdUnit({
    user,
    nodePath: process.execPath,
    binPath: bcBinPath(),
    ...(home !== undefined ? { home: path.resolve(home) } : {}),
    ...(listen !== undefined ? { listen } : {}),
  });
  if (flags.print) {
    if (ctx.out.json) ctx.out.result({ path: unitPath(ctx, user), unit }, () => unit);
    else ctx.out.raw(unit);
    return;
  }
  const file = unitPath(ctx, user);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, unit, { mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    throw new Error(`cannot write ${file}: permission denied (run it with sudo, or use --user)`, {
      cause: err,
    });
  }
  const sc = user ? 'systemctl --user' : 'systemctl';
  const next = `${sc} daemon-reload && ${sc} enable --now burncloud`;
  ctx.out.result({ path: file, next }, () => `wrote ${file}\nnext: ${next}`);
}

export function registerService(program: Command, ctx: CliContext): void {
  const service = program.command('service').description('run the daemon under systemd');
  service
    .command('install')
    .description('write a systemd unit for `bc daemon`')
    .option('--user', 'a per-user unit (systemctl --user) instead of a system unit')
    .option('--print', 'print the unit instead of writing it')
    .option('--listen <host:port>', 'the gateway address the unit sets', arg(parseListenAddress))
    .action((flags: ServiceFlags) => install(ctx, flags));
}
