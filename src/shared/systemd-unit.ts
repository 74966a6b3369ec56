/**
 * Renders the systemd unit that `bc service install` writes (or, with `--template`, the template
 * `burncloud@.service` for several daemons on one machine): `bc daemon` in the foreground, a
 * state directory, restart on failure, a stop timeout above the daemon's 30 s drain, reload by
 * SIGHUP, a watchdog the daemon's event loop feeds (a process that is alive but wedged is killed
 * and restarted, which Restart=on-failure alone never notices), and the usual sandboxing. A system unit gets the full mount-namespace hardening; a user
 * unit gets only the options that work without unprivileged user namespaces, because a per-user
 * service manager needs those namespaces for ProtectSystem= and friends and fails to start the
 * service on kernels that disable them.
 */

export interface SystemdUnitOptions {
  /** a per-user unit (`systemctl --user`) instead of a system unit */
  user: boolean;
  /** absolute path of the node executable */
  nodePath: string;
  /** absolute path of bin/bc.js */
  binPath: string;
  /** BC_HOME; defaults to /var/lib/burncloud (system) or %h/.local/share/burncloud (user) */
  home?: string;
  /** BC_LISTEN, when not the default */
  listen?: string;
  /** system unit only: run as this existing user instead of a dynamic one */
  serviceUser?: string;
  /** BC_WORKERS: gateway processes under the one daemon (above 1 needs BC_REDIS in the environment) */
  workers?: number;
  /**
   * A template unit (`burncloud@.service`): one daemon per instance name, each with its own home
   * (`<state dir>/<name>`) and its own settings file (`/etc/burncloud/<name>.env`, or
   * `~/.config/burncloud/<name>.env` for a user unit) for BC_LISTEN, BC_DB, BC_REDIS and the like.
   */
  template?: boolean;
}

export const SYSTEM_STATE_DIR = '/var/lib/burncloud';
/** Seconds systemd waits after SIGTERM: above the daemon's 30 s drain, so draining is never cut. */
export const STOP_TIMEOUT_S = 35;
/**
 * Seconds without a watchdog ping before systemd kills the daemon (SIGABRT) and restarts it. The
 * daemon pings at half this (lifecycle/notify.ts); no healthy event loop stalls for 30 s.
 */
export const WATCHDOG_S = 30;

export function renderSystemdUnit(opts: SystemdUnitOptions): string {
  const lines: string[] = [];
  lines.push('[Unit]', `Description=BurnCloud LLM gateway${opts.template ? ' (%i)' : ''}`);
  if (!opts.user) {
    // A user manager cannot see system targets, so ordering after network-online is system-only.
    lines.push('Wants=network-online.target', 'After=network-online.target');
  }
  lines.push('', '[Service]', ...serviceSection(opts), '', '[Install]');
  lines.push(`WantedBy=${opts.user ? 'default.target' : 'multi-user.target'}`);
  return lines.join('\n') + '\n';
}

function serviceSection(opts: SystemdUnitOptions): string[] {
  const out = ['Type=simple'];
  const home = opts.home ?? (opts.user ? undefined : SYSTEM_STATE_DIR);
  if (!opts.user) out.push(...identityLines(opts, home));
  out.push(`ExecStart=${execArg(opts.nodePath)} ${execArg(opts.binPath)} daemon`);
  // %h (the user's home) and %i (the instance) are specifiers, left unescaped on purpose
  const instance = opts.template ? '/%i' : '';
  out.push(
    home === undefined
      ? `Environment=BC_HOME=%h/.local/share/burncloud${instance}`
      : envLine('BC_HOME', home, instance),
  );
  if (opts.listen !== undefined) out.push(envLine('BC_LISTEN', opts.listen));
  if (opts.workers !== undefined) out.push(envLine('BC_WORKERS', String(opts.workers)));
  // the instance's own settings; `-`: a missing file is not an error
  if (opts.template)
    out.push(`EnvironmentFile=-${opts.user ? '%h/.config/burncloud' : '/etc/burncloud'}/%i.env`);
  out.push(
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_TIMEOUT_S}`,
    'Restart=on-failure',
    'RestartSec=2',
    // the pings come from a `systemd-notify` child of the daemon, hence NotifyAccess=all
    `WatchdogSec=${WATCHDOG_S}`,
    'NotifyAccess=all',
    'UMask=0077',
    `SyslogIdentifier=burncloud${opts.template ? '-%i' : ''}`,
    '',
    '# Hardening',
    'NoNewPrivileges=yes',
    'LockPersonality=yes',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
  );
  if (!opts.user) out.push(...systemSandbox(opts, home ?? SYSTEM_STATE_DIR));
  return out;
}

function identityLines(opts: SystemdUnitOptions, home: string | undefined): string[] {
  const out: string[] = [];
  if (opts.serviceUser !== undefined) out.push(`User=${opts.serviceUser}`);
  else out.push('DynamicUser=yes');
  if (home === SYSTEM_STATE_DIR)
    out.push(`StateDirectory=burncloud${opts.template ? '/%i' : ''}`, 'StateDirectoryMode=0700');
  return out;
}

function systemSandbox(opts: SystemdUnitOptions, home: string): string[] {
  const out = [
    'ProtectSystem=strict',
    `ProtectHome=${underHome(opts.nodePath) || underHome(opts.binPath) || underHome(home) ? 'read-only' : 'yes'}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictNamespaces=yes',
    'SystemCallArchitectures=native',
  ];
  // StateDirectory= is writable under ProtectSystem=strict by itself; any other home must be named.
  // a template's instances live in folders under the home: the whole home is theirs
  if (home !== SYSTEM_STATE_DIR) out.push(`ReadWritePaths=${execArg(home)}`);
  return out;
}

/** node or the checkout living in a home folder must stay readable, so ProtectHome cannot hide it. */
function underHome(p: string): boolean {
  return /^\/(home|root|run\/user)(\/|$)/.test(p);
}

/** Escapes systemd specifiers (%) and, in command lines, variable expansion ($); quotes when needed. */
function execArg(value: string): string {
  const escaped = value.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return needsQuotes(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

/** `suffix` is appended unescaped: systemd specifiers such as `/%i`. */
function envLine(name: string, value: string, suffix = ''): string {
  const assignment = `${name}=${value.replace(/%/g, '%%')}${suffix}`;
  return needsQuotes(assignment)
    ? `Environment="${assignment.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
    : `Environment=${assignment}`;
}

function needsQuotes(s: string): boolean {
  return /[\s"'\\;]/.test(s);
}
