/**
 * The store's write health on its own: a failed write makes it failing once (one notice, not one
 * per refused request), the probe keeps it failing until a write passes, then one notice of the
 * recovery; reasons come from error codes only, never from messages that may name paths.
 */
import { describe, expect, it } from 'vitest';
import { WriteHealth, describeWriteError, type StoreFault } from '../../src/daemon/store/write-health.js';

describe('WriteHealth', () => {
  it('fails once, probes until a write passes, then recovers once', () => {
    let probe: string | null = 'no space left on device (ENOSPC)';
    const health = new WriteHealth(() => probe, 60_000);
    const notices: (StoreFault | null)[] = [];
    health.onChange((f) => notices.push(f && { ...f }));
    expect(health.current).toBeNull();

    health.failed('settlement journal: no space left on device (ENOSPC)');
    health.failed('settlement journal: no space left on device (ENOSPC)');
    expect(notices).toHaveLength(1);
    const since = health.current?.since;
    health.check();
    expect(health.current).toMatchObject({ reason: 'no space left on device (ENOSPC)', since });

    probe = null;
    health.check();
    expect(health.current).toBeNull();
    expect(notices.map((n) => n?.reason ?? null)).toEqual([
      'settlement journal: no space left on device (ENOSPC)',
      null,
    ]);
    health.stop();
  });

  it('treats a probe that throws as still failing, with the error described', () => {
    const health = new WriteHealth(() => {
      throw Object.assign(new Error('EROFS: read-only file system, open /home/x/bc.db'), { code: 'EROFS' });
    }, 60_000);
    health.failed('database: database or disk is full (SQLITE_FULL)');
    health.check();
    expect(health.current?.reason).toBe('read-only file system (EROFS)');
    health.stop();
  });
});

describe('describeWriteError', () => {
  it('names the code, never the message', () => {
    const err = (code: string, message = `${code}: failed, write '/root/secret/path'`): Error =>
      Object.assign(new Error(message), { code });
    expect(describeWriteError(err('ENOSPC'))).toBe('no space left on device (ENOSPC)');
    expect(describeWriteError(err('EPERM'))).toBe('operation not permitted (EPERM)');
    expect(describeWriteError(err('SQLITE_FULL'))).toBe('database or disk is full (SQLITE_FULL)');
    expect(describeWriteError(err('SQLITE_IOERR_WRITE'))).toBe('disk I/O error (SQLITE_IOERR_WRITE)');
    expect(describeWriteError(err('EWHATEVER'))).toBe('EWHATEVER');
    expect(describeWriteError(new Error('/root/secret/path'))).toBe('write failed');
    expect(describeWriteError(err('not a code /x'))).toBe('write failed');
  });
});
