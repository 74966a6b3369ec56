/**
 * The only place that computes BurnCloud's file locations. Precedence for every value:
 * explicit option (a CLI flag) > environment variable > default. Nothing outside the home
 * folder is written by the daemon.
 */
import os from 'node:os';
import path from 'node:path';

export interface PathOptions {
  home?: string | undefined;
  socket?: string | undefined;
  listen?: string | undefined;
  db?: string | undefined;
}

export interface Paths {
  home: string;
  socket: string;
  pidfile: string;
  masterKey: string;
  /** Store URL: `sqlite:/abs/path.db` or `postgres://...`. */
  db: string;
  /** The SQLite file when the store is SQLite, else undefined. */
  sqliteFile: string | undefined;
  listen: string;
  logDir: string;
}

export const DEFAULT_LISTEN = '127.0.0.1:8300';

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && xdg.length > 0) return path.join(xdg, 'burncloud');
  return path.join(env.HOME ?? os.homedir(), '.local', 'share', 'burncloud');
}

export function resolvePaths(opts: PathOptions = {}, env: NodeJS.ProcessEnv = process.env): Paths {
  const home = path.resolve(opts.home ?? nonEmpty(env.BC_HOME) ?? defaultHome(env));
  const socket = path.resolve(opts.socket ?? nonEmpty(env.BC_SOCKET) ?? path.join(home, 'bc.sock'));
  const db = opts.db ?? nonEmpty(env.BC_DB) ?? `sqlite:${path.join(home, 'burncloud.db')}`;
  const sqliteFile = db.startsWith('sqlite:') ? path.resolve(home, db.slice('sqlite:'.length)) : undefined;
  return {
    home,
    socket,
    pidfile: path.join(home, 'bc.pid'),
    masterKey: path.join(home, 'master.key'),
    db: sqliteFile ? `sqlite:${sqliteFile}` : db,
    sqliteFile,
    listen: opts.listen ?? nonEmpty(env.BC_LISTEN) ?? DEFAULT_LISTEN,
    logDir: path.join(home, 'logs'),
  };
}

/** Splits `host:port` (IPv6 as `[::1]:8300`). Throws a plain Error with a readable message. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new Error(`invalid listen address "${listen}": expected host:port, e.g. 127.0.0.1:8300`);
  const host = m[1] ?? (m[2] === '' ? '127.0.0.1' : (m[2] ?? '127.0.0.1'));
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in "${listen}": must be 0-65535`);
  return { host, port };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.length > 0 ? v : undefined;
}
