/**
 * The daemon's pidfile: what it holds and how to read it. The daemon writes it (lifecycle/
 * instance-lock.ts) as one JSON document once it listens; the CLI reads it for `bc stop` and
 * `bc status` when the socket does not answer. Reading never throws: a missing, partial or foreign
 * file reads as undefined, because a pidfile is a hint, never the truth (the socket is).
 */
import fs from 'node:fs';

export interface PidfileContent {
  pid: number;
  /** the gateway's bound `host:port`; empty while the daemon is still starting */
  listen: string;
  socket: string;
  /** ISO 8601 UTC */
  started_at: string;
  version: string;
}

export function readPidfile(pidfilePath: string): PidfileContent | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidfilePath, 'utf8');
  } catch {
    return undefined;
  }
  return parsePidfile(text);
}

/** Parses a pidfile's text; a bare number (as other tools write) is accepted as the pid alone. */
export function parsePidfile(text: string): PidfileContent | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const pid = Number(trimmed);
    return validPid(pid) ? { pid, listen: '', socket: '', started_at: '', version: '' } : undefined;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const o = doc as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !validPid(o.pid)) return undefined;
  return {
    pid: o.pid,
    listen: typeof o.listen === 'string' ? o.listen : '',
    socket: typeof o.socket === 'string' ? o.socket : '',
    started_at: typeof o.started_at === 'string' ? o.started_at : '',
    version: typeof o.version === 'string' ? o.version : '',
  };
}

/**
 * Whether a process with this pid exists. EPERM means it exists but belongs to another user,
 * which still counts as alive: the pid is taken.
 */
export function isProcessAlive(pid: number): boolean {
  if (!validPid(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function validPid(pid: number): boolean {
  // pid 0 and negatives address process groups in kill(2): never treat them as a daemon.
  return Number.isSafeInteger(pid) && pid > 0;
}
