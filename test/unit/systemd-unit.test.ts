import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderSystemdUnit, STOP_TIMEOUT_S, WATCHDOG_S } from '../../src/shared/systemd-unit.js';

const binPath = path.resolve('bin/bc.js');

/** section name -> its `Key=value` lines, in order */
function sections(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = header[1] ?? '';
      out.set(current, []);
    } else if (line.trim() !== '' && !line.startsWith('#')) {
      out.get(current)?.push(line);
    }
  }
  return out;
}

function values(unit: string, section: string, key: string): string[] {
  return (sections(unit).get(section) ?? [])
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Every key the renderer may use, per section: a typo would otherwise be ignored by systemd. */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  Unit: ['Description', 'Wants', 'After'],
  Service: [
    'Type',
    'DynamicUser',
    'User',
    'StateDirectory',
    'StateDirectoryMode',
    'ExecStart',
    'Environment',
    'ExecReload',
    'KillSignal',
    'TimeoutStopSec',
    'Restart',
    'RestartSec',
    'WatchdogSec',
    'NotifyAccess',
    'UMask',
    'SyslogIdentifier',
    'NoNewPrivileges',
    'LockPersonality',
    'RestrictSUIDSGID',
    'RestrictRealtime',
    'RestrictAddressFamilies',
    'ProtectSystem',
    'ProtectHome',
    'PrivateTmp',
    'PrivateDevices',
    'ProtectKernelTunables',
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'ProtectControlGroups',
    'ProtectClock',
    'ProtectHostname',
    'RestrictNamespaces',
    'SystemCallArchitectures',
    'ReadWritePaths',
    'EnvironmentFile',
  ],
  Install: ['WantedBy'],
};

/** Problems found without systemd: unknown keys and lines that are not Key=value. */
function lint(unit: string): string[] {
  const problems: string[] = [];
  for (const [section, lines] of sections(unit)) {
    for (const line of lines) {
      const m = /^([A-Za-z]+)=(.+)$/.exec(line);
      if (!m) problems.push(`[${section}] malformed: ${line}`);
      else if (!(KNOWN_KEYS[section] ?? []).includes(m[1] ?? ''))
        problems.push(`[${section}] unknown key: ${m[1]}`);
    }
  }
  return problems;
}

/** systemd-analyze verify where installed, else the local lint; returns the complaints. */
function check(unit: string, user: boolean): string {
  const local = lint(unit).join('\n');
  return hasAnalyze ? [local, verify(unit, user)].filter((s) => s !== '').join('\n') : local;
}

/** Runs `systemd-analyze verify`; returns its complaints (empty = clean). */
function verify(unit: string, user: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  dirs.push(dir);
  const file = path.join(dir, 'burncloud.service');
  fs.writeFileSync(file, unit);
  const runtime = path.join(dir, 'runtime');
  fs.mkdirSync(runtime, { mode: 0o700 });
  const args = [...(user ? ['--user'] : []), 'verify', file];
  const r = spawnSync('systemd-analyze', args, {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime },
  });
  // verify exits 0 even when it ignores a bad line, so its stderr is the verdict.
  return `${r.status === 0 ? '' : `exit ${String(r.status)}\n`}${r.stderr
    .split('\n')
    .filter((l) => l.includes('burncloud.service'))
    .join('\n')}`;
}

describe('renderSystemdUnit: system unit', () => {
  const unit = renderSystemdUnit({
    user: false,
    nodePath: '/usr/bin/node',
    binPath: '/usr/lib/node_modules/burncloud/bin/bc.js',
  });

  it('has the three sections with the service settings of a supervised daemon', () => {
    expect([...sections(unit).keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(values(unit, 'Unit', 'Description')[0]).toMatch(/BurnCloud/);
    expect(values(unit, 'Unit', 'After')).toEqual(['network-online.target']);
    expect(values(unit, 'Unit', 'Wants')).toEqual(['network-online.target']);
    expect(values(unit, 'Service', 'Type')).toEqual(['simple']);
    expect(values(unit, 'Service', 'ExecStart')).toEqual([
      '/usr/bin/node /usr/lib/node_modules/burncloud/bin/bc.js daemon',
    ]);
    expect(values(unit, 'Service', 'Restart')).toEqual(['on-failure']);
    expect(values(unit, 'Service', 'RestartSec')).toEqual(['2']);
    expect(values(unit, 'Service', 'KillSignal')).toEqual(['SIGTERM']);
    expect(values(unit, 'Service', 'ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(values(unit, 'Install', 'WantedBy')).toEqual(['multi-user.target']);
  });

  it('waits longer than the 30 s drain before killing', () => {
    expect(Number(values(unit, 'Service', 'TimeoutStopSec')[0])).toBe(STOP_TIMEOUT_S);
    expect(STOP_TIMEOUT_S).toBeGreaterThan(30);
  });

  it('has a watchdog that the daemon feeds from a child process (systemd-notify)', () => {
    expect(values(unit, 'Service', 'WatchdogSec')).toEqual([String(WATCHDOG_S)]);
    expect(values(unit, 'Service', 'NotifyAccess')).toEqual(['all']);
  });

  it('runs as a dynamic user with its state directory as BC_HOME', () => {
    expect(values(unit, 'Service', 'DynamicUser')).toEqual(['yes']);
    expect(values(unit, 'Service', 'User')).toEqual([]);
    expect(values(unit, 'Service', 'StateDirectory')).toEqual(['burncloud']);
    expect(values(unit, 'Service', 'Environment')).toEqual(['BC_HOME=/var/lib/burncloud']);
  });

  it('is hardened', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
      UMask: '0077',
    };
    for (const [k, v] of Object.entries(expected)) expect(values(unit, 'Service', k), k).toEqual([v]);
  });

  it('names an existing user, a custom home and listen address when asked', () => {
    const u = renderSystemdUnit({
      user: false,
      nodePath: '/usr/bin/node',
      binPath: '/opt/bc/bin/bc.js',
      serviceUser: 'burncloud',
      home: '/srv/bc',
      listen: '0.0.0.0:8300',
    });
    expect(values(u, 'Service', 'User')).toEqual(['burncloud']);
    expect(values(u, 'Service', 'DynamicUser')).toEqual([]);
    expect(values(u, 'Service', 'StateDirectory')).toEqual([]);
    expect(values(u, 'Service', 'Environment')).toEqual(['BC_HOME=/srv/bc', 'BC_LISTEN=0.0.0.0:8300']);
    expect(values(u, 'Service', 'ReadWritePaths')).toEqual(['/srv/bc']);
  });

  it('keeps a node or checkout under /home readable (ProtectHome=read-only)', () => {
    const u = renderSystemdUnit({
      user: false,
      nodePath: '/home/ann/.nvm/node',
      binPath: '/home/ann/bc/bin/bc.js',
    });
    expect(values(u, 'Service', 'ProtectHome')).toEqual(['read-only']);
  });

  it('quotes paths with spaces and escapes systemd specifiers', () => {
    const u = renderSystemdUnit({
      user: false,
      nodePath: '/opt/my node/node',
      binPath: '/opt/bc%x/bin/bc.js',
      home: '/srv/a b',
    });
    expect(values(u, 'Service', 'ExecStart')).toEqual(['"/opt/my node/node" /opt/bc%%x/bin/bc.js daemon']);
    expect(values(u, 'Service', 'Environment')).toEqual(['"BC_HOME=/srv/a b"']);
  });

  it('passes the checks (systemd-analyze verify where installed) without complaints', () => {
    expect(check(renderSystemdUnit({ user: false, nodePath: process.execPath, binPath }), false)).toBe('');
  });

  it('the checks do catch a broken unit', () => {
    const broken = `${unit}`
      .replace('ProtectHome=yes', 'ProtectHome=maybe')
      .replace('Type=simple', 'Typo=simple');
    expect(check(broken, false)).toMatch(/Typo/);
  });
});

describe('renderSystemdUnit: user unit', () => {
  const unit = renderSystemdUnit({
    user: true,
    nodePath: '/usr/bin/node',
    binPath: '/home/ann/bc/bin/bc.js',
  });

  it('is wanted by default.target and keeps its data under the user home', () => {
    expect(values(unit, 'Install', 'WantedBy')).toEqual(['default.target']);
    expect(values(unit, 'Service', 'Environment')).toEqual(['BC_HOME=%h/.local/share/burncloud']);
    expect(values(unit, 'Service', 'ExecStart')).toEqual(['/usr/bin/node /home/ann/bc/bin/bc.js daemon']);
    expect(values(unit, 'Service', 'TimeoutStopSec')).toEqual([String(STOP_TIMEOUT_S)]);
    expect(values(unit, 'Service', 'WatchdogSec')).toEqual([String(WATCHDOG_S)]);
    expect(values(unit, 'Service', 'NotifyAccess')).toEqual(['all']);
  });

  it('has no system-only settings: no dynamic user, no state directory, no system targets', () => {
    expect(values(unit, 'Service', 'DynamicUser')).toEqual([]);
    expect(values(unit, 'Service', 'StateDirectory')).toEqual([]);
    expect(values(unit, 'Unit', 'After')).toEqual([]);
    // mount-namespace options need user namespaces in a per-user manager: left out
    expect(values(unit, 'Service', 'ProtectSystem')).toEqual([]);
    expect(values(unit, 'Service', 'NoNewPrivileges')).toEqual(['yes']);
  });

  it('passes the checks (systemd-analyze --user verify where installed) without complaints', () => {
    expect(
      check(
        renderSystemdUnit({ user: true, nodePath: process.execPath, binPath, home: '/tmp/bc home' }),
        true,
      ),
    ).toBe('');
  });
});

describe('renderSystemdUnit: workers and the template for several daemons', () => {
  it('--workers sets BC_WORKERS beside BC_HOME', () => {
    const unit = renderSystemdUnit({ user: false, nodePath: '/usr/bin/node', binPath, workers: 4 });
    expect(values(unit, 'Service', 'Environment')).toEqual(['BC_HOME=/var/lib/burncloud', 'BC_WORKERS=4']);
    expect(
      check(renderSystemdUnit({ user: false, nodePath: process.execPath, binPath, workers: 4 }), false),
    ).toBe('');
  });

  it('a system template gives each instance its own state folder, settings file and log name', () => {
    const unit = renderSystemdUnit({ user: false, nodePath: '/usr/bin/node', binPath, template: true });
    expect(values(unit, 'Unit', 'Description')).toEqual(['BurnCloud LLM gateway (%i)']);
    expect(values(unit, 'Service', 'Environment')).toEqual(['BC_HOME=/var/lib/burncloud/%i']);
    expect(values(unit, 'Service', 'StateDirectory')).toEqual(['burncloud/%i']);
    expect(values(unit, 'Service', 'EnvironmentFile')).toEqual(['-/etc/burncloud/%i.env']);
    expect(values(unit, 'Service', 'SyslogIdentifier')).toEqual(['burncloud-%i']);
  });

  it('a template with a custom home keeps the specifier outside the escaping, quoted or not', () => {
    const plain = renderSystemdUnit({
      user: false,
      nodePath: '/usr/bin/node',
      binPath,
      home: '/srv/bc',
      template: true,
    });
    expect(values(plain, 'Service', 'Environment')).toEqual(['BC_HOME=/srv/bc/%i']);
    const spaced = renderSystemdUnit({
      user: false,
      nodePath: '/usr/bin/node',
      binPath,
      home: '/srv/b c%',
      template: true,
    });
    expect(values(spaced, 'Service', 'Environment')).toEqual(['"BC_HOME=/srv/b c%%/%i"']);
  });

  it('a user template keeps instances under the user home and reads ~/.config/burncloud/<name>.env', () => {
    const unit = renderSystemdUnit({ user: true, nodePath: '/usr/bin/node', binPath, template: true });
    expect(values(unit, 'Service', 'Environment')).toEqual(['BC_HOME=%h/.local/share/burncloud/%i']);
    expect(values(unit, 'Service', 'EnvironmentFile')).toEqual(['-%h/.config/burncloud/%i.env']);
  });

  it('templates pass the checks', () => {
    expect(
      check(renderSystemdUnit({ user: false, nodePath: process.execPath, binPath, template: true }), false),
    ).toBe('');
    expect(
      check(renderSystemdUnit({ user: true, nodePath: process.execPath, binPath, template: true }), true),
    ).toBe('');
  });
});
