/**
 * Whether the store can record requests. A store whose disk is full, read-only or failing cannot
 * make a log row durable, and the gateway must then refuse work instead of serving it unbilled
 * (SPEC section 7: a row before the request counts as done). The store reports a failed write
 * here; from then on it is "failing" and a probe retries a real write every second (the store's
 * own probe: a journal append and a database commit) until one passes, so service resumes by
 * itself when space returns. The reason is a short description built from the error's code,
 * never its message, which may name paths inside the home folder.
 */
import { BcError } from '../../shared/errors.js';

export interface StoreFault {
  /** e.g. `settlement journal: no space left on device (ENOSPC)` */
  reason: string;
  /** ISO time of the first failed write */
  since: string;
}

/** What a failed probe says: the reason, or null when the write went through. */
export type WriteProbe = () => string | null;

export type FaultListener = (fault: StoreFault | null) => void;

export const STORE_PROBE_MS = 1000;

export class WriteHealth {
  private fault: StoreFault | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: FaultListener[] = [];
  /** the store closed: no more probes */
  private closed = false;

  constructor(
    private readonly probe: WriteProbe,
    private readonly intervalMs = STORE_PROBE_MS,
  ) {}

  get current(): StoreFault | null {
    return this.fault;
  }

  /** A write failed: the store is failing from now on, until a probe passes. */
  failed(reason: string): void {
    if (this.fault) {
      this.fault.reason = reason;
      return;
    }
    this.fault = { reason, since: new Date().toISOString() };
    if (!this.closed) this.timer = setInterval(() => this.check(), this.intervalMs).unref();
    this.notify();
  }

  onChange(listener: FaultListener): void {
    this.listeners.push(listener);
  }

  /** Runs the probe now (the timer does it every interval while failing). */
  check(): void {
    if (!this.fault) return;
    let reason: string | null;
    try {
      reason = this.probe();
    } catch (err) {
      reason = describeWriteError(err);
    }
    if (reason !== null) {
      this.fault.reason = reason;
      return;
    }
    this.fault = null;
    this.stopProbing();
    this.notify();
  }

  /** The store is closing: probing ends for good. */
  stop(): void {
    this.closed = true;
    this.stopProbing();
  }

  private stopProbing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l(this.fault);
      } catch {
        // a listener (a log line) must not break the store
      }
    }
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EBADF: 'file not open',
  SQLITE_FULL: 'database or disk is full',
  SQLITE_READONLY: 'database is read-only',
  SQLITE_IOERR: 'disk I/O error',
  SQLITE_CANTOPEN: 'cannot open a database file',
  SQLITE_BUSY: 'database is locked',
  SQLITE_CORRUPT: 'database is corrupt',
};

/**
 * A write error as an operator may read it, from its code only: `no space left on device
 * (ENOSPC)`, `database or disk is full (SQLITE_FULL)`. SQLite's extended codes
 * (SQLITE_IOERR_WRITE) are described by their primary code.
 */
export function describeWriteError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(code)) return 'write failed';
  const primary = code.startsWith('SQLITE_') ? code.split('_').slice(0, 2).join('_') : code;
  const text = ERRNO_TEXT[code] ?? ERRNO_TEXT[primary];
  return text === undefined ? code : `${text} (${code})`;
}

/** The client's answer while the store cannot write: no internal detail (that is on /readyz). */
export function storeUnavailable(cause?: unknown): BcError {
  return new BcError(
    'STORE_UNAVAILABLE',
    'the gateway cannot record requests right now (its store cannot write); nothing was charged: retry later',
    { retryAfterS: 5, cause },
  );
}
