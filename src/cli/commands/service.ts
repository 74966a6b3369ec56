/**
 * `bc service install [--user] [--print] [--workers N] [--template]`: writes a systemd unit that
 * runs `bc daemon` (system:
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
import { arg, positiveInt } from '../options.js';
import { parseListenAddress } from '../parse.js';

export const UNIT_NAME = 'burncloud.service';
export const TEMPLATE_UNIT_NAME = 'burncloud@.service';

interface ServiceFlags {
  user?: boolean;
  print?: boolean;
  listen?: string;
  workers?: number;
  template?: boolean;
}

function unitPath(ctx: CliContext, user: boolean, template: boolean): string {
  const name = template ? TEMPLATE_UNIT_NAME : UNIT_NAME;
  if (!user) return path.join('/etc/systemd/system', name);
  const configHome = ctx.env.XDG_CONFIG_HOME || path.join(ctx.env.HOME || os.homedir(), '.config');
  return path.join(configHome, 'systemd', 'user', name);
}

function install(ctx: CliContext, flags: ServiceFlags): void {
  const user = flags.user === true;
  const template = flags.template === true;
  const home = ctx.homeFlag ?? (ctx.env.BC_HOME || undefined);
  const listen = flags.listen ?? (ctx.env.BC_LISTEN || undefined);
  const unit = renderSystemdUnit({
    user,
    nodePath: process.execPath,
    binPath: bcBinPath(),
    ...(home !== undefined ? { home: path.resolve(home) } : {}),
    ...(listen !== undefined ? { listen } : {}),
    ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
    ...(template ? { template } : {}),
  });
  if (flags.print) {
    if (ctx.out.json) ctx.out.result({ path: unitPath(ctx, user, template), unit }, () => unit);
    else ctx.out.raw(unit);
    return;
  }
  const file = unitPath(ctx, user, template);
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
  const next = template
    ? `${sc} daemon-reload && ${sc} enable --now burncloud@node1 (settings in ${user ? '~/.config/burncloud' : '/etc/burncloud'}/node1.env)`
    : `${sc} daemon-reload && ${sc} enable --now burncloud`;
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
    .option('--workers <n>', 'gateway processes (BC_WORKERS; above 1 needs BC_REDIS)', positiveInt)
    .option('--template', 'a template unit burncloud@.service: one daemon per instance name')
    .action((flags: ServiceFlags) => install(ctx, flags));
}
