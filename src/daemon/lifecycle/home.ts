/**
 * Makes sure the daemon's home folder exists, is private (0700: it holds the master key and the
 * database) and is writable, before anything else is opened. Every failure is a BcError
 * STARTUP_FAILED whose message is the one line the user sees.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BcError } from '../../shared/errors.js';

export function prepareHome(home: string): void {
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BcError(
      'STARTUP_FAILED',
      `cannot create the home folder ${home}: ${reason(e)} (set BC_HOME or --home)`,
      { cause: e },
    );
  }
  const st = fs.statSync(home);
  if (!st.isDirectory())
    throw new BcError('STARTUP_FAILED', `the home ${home} is not a folder (set BC_HOME or --home)`);
  // Only tighten a folder we own; someone else's folder is theirs to configure.
  if (process.getuid !== undefined && st.uid === process.getuid() && (st.mode & 0o077) !== 0) {
    fs.chmodSync(home, 0o700);
  }
  checkWritable(home);
}

/** Creates the socket's folder 0700 when it does not exist yet (a socket outside the home). */
export function prepareSocketFolder(socketPath: string): void {
  const dir = path.dirname(socketPath);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BcError(
      'STARTUP_FAILED',
      `cannot create the socket folder ${dir}: ${reason(e)} (set BC_SOCKET or --socket)`,
      { cause: e },
    );
  }
}

function checkWritable(home: string): void {
  // access(W_OK) says yes to root on a read-only mount, so write a real file to be sure.
  const probe = path.join(home, `.write-test-${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { mode: 0o600 });
    fs.unlinkSync(probe);
  } catch (e) {
    throw new BcError(
      'STARTUP_FAILED',
      `the home folder ${home} is not writable: ${reason(e)} (set BC_HOME or --home)`,
      { cause: e },
    );
  }
}

export function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
  if (err.code === 'EROFS') return 'read-only file system';
  if (err.code === 'ENOSPC') return 'no space left on device';
  if (err.code === 'ENOTDIR') return 'a parent is not a folder';
  return err.code ?? (e instanceof Error ? e.message : String(e));
}
