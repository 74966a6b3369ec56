/**
 * One daemon per BC_HOME, enforced by the pidfile. The file appears atomically with its full
 * content (written aside, then hard-linked into place, which fails if it exists), so two daemons
 * starting together cannot both win and a reader never sees half a file. An existing pidfile
 * blocks only if it names a live BurnCloud daemon (its socket accepts, or it is still starting);
 * a dead pid or a pid reused by another process is stale and is moved aside and verified before
 * removal, so a racing starter's fresh pidfile is never deleted by mistake.
 */
import fs from 'node:fs';
import { BcError } from '../../shared/errors.js';
import { isProcessAlive, readPidfile, type PidfileContent } from '../../shared/pidfile.js';
import { reason } from './home.js';
import { socketAnswers } from './socket-probe.js';

/** How long a pidfile that says "starting" (no listen address yet) keeps others out. */
const STARTING_GRACE_MS = 60_000;
const ATTEMPTS = 5;

export interface InstanceLock {
  readonly pidfile: string;
  /** replaces the pidfile's content (atomically) once the daemon listens */
  update(content: PidfileContent): void;
  /** removes the pidfile if it is still ours */
  release(): void;
}

export async function acquireInstanceLock(
  pidfile: string,
  socket: string,
  version: string,
): Promise<InstanceLock> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const mine: PidfileContent = {
      pid: process.pid,
      listen: '',
      socket,
      started_at: new Date().toISOString(),
      version,
    };
    if (createExclusive(pidfile, mine)) return makeLock(pidfile);
    const existing = readPidfile(pidfile);
    if (existing !== undefined) {
      const live = await liveDaemon(existing, socket);
      if (live !== undefined) throw new BcError('STARTUP_FAILED', live);
    }
    removeStale(pidfile, existing);
  }
  throw new BcError(
    'STARTUP_FAILED',
    `could not take the lock ${pidfile}: another daemon keeps starting in this home`,
  );
}

/** A one-line refusal when the pidfile names a running daemon, else undefined (stale). */
async function liveDaemon(p: PidfileContent, ourSocket: string): Promise<string | undefined> {
  if (p.pid === process.pid || !isProcessAlive(p.pid)) return undefined;
  if (await socketAnswers(p.socket !== '' ? p.socket : ourSocket)) return `already running (pid ${p.pid})`;
  const started = Date.parse(p.started_at);
  const young = Number.isFinite(started) && Date.now() - started < STARTING_GRACE_MS;
  // A daemon between taking the lock and listening has no socket yet: a young "starting" file is it.
  if (p.listen === '' && young) return `already running (pid ${p.pid}, still starting)`;
  return undefined;
}

function createExclusive(pidfile: string, content: PidfileContent): boolean {
  const aside = `${pidfile}.${process.pid}.new`;
  try {
    fs.writeFileSync(aside, JSON.stringify(content) + '\n', { mode: 0o644 });
    try {
      fs.linkSync(aside, pidfile);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // Some file systems have no hard links; O_EXCL still makes the creation exclusive.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS')
        return createWithExcl(pidfile, content);
      throw e;
    }
  } catch (e) {
    throw new BcError('STARTUP_FAILED', `cannot write the pidfile ${pidfile}: ${reason(e)}`, { cause: e });
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function createWithExcl(pidfile: string, content: PidfileContent): boolean {
  let fd: number;
  try {
    fd = fs.openSync(pidfile, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, JSON.stringify(content) + '\n');
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Moves the stale pidfile aside; if what was moved is not what we judged stale, puts it back. */
function removeStale(pidfile: string, judged: PidfileContent | undefined): void {
  const aside = `${pidfile}.${process.pid}.stale`;
  try {
    fs.renameSync(pidfile, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new BcError('STARTUP_FAILED', `cannot replace the stale pidfile ${pidfile}: ${reason(e)}`, {
      cause: e,
    });
  }
  const moved = readPidfile(aside);
  const same = moved?.pid === judged?.pid && moved?.started_at === judged?.started_at;
  if (!same) {
    try {
      fs.linkSync(aside, pidfile);
    } catch {
      // Someone else already holds the place: their file wins, ours was never the lock.
    }
  }
  fs.rmSync(aside, { force: true });
}

function makeLock(pidfile: string): InstanceLock {
  let released = false;
  return {
    pidfile,
    update(content: PidfileContent): void {
      const tmp = `${pidfile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(content) + '\n', { mode: 0o644 });
      fs.renameSync(tmp, pidfile);
    },
    release(): void {
      if (released) return;
      released = true;
      // Never delete a successor's pidfile (ours may have been judged stale while we hung).
      if (readPidfile(pidfile)?.pid === process.pid) fs.rmSync(pidfile, { force: true });
    },
  };
}
