/**
 * Where the daemon's log lines go (stdout: a file under `bc start`, journald's socket under
 * systemd, a pipe or a terminal) without ever blocking or killing the event loop. pino's default
 * destination turns a failed write into an uncaught exception, and its synchronous flush (run
 * after every fatal line) retries a failing write every 100 ms forever: one full disk wedged the
 * daemon. Here a line that cannot be written is dropped and counted (`bc status`, /metrics), and
 * the first line that gets through again says how many were lost and why. Files and terminals
 * are written synchronously (a full disk fails at once); pipes and sockets go through a
 * non-blocking stream whose buffer is capped, so a reader that stops reading costs lines, not a
 * stalled loop.
 */
import fs from 'node:fs';
import net from 'node:net';

/** Bytes a pipe or socket may hold unread before further lines are dropped. */
const MAX_BUFFERED = 1024 * 1024;

export class LogSink {
  private droppedLines = 0;
  /** dropped since the last line that got through, for the note that says so */
  private unreported = 0;
  private lastError: string | null = null;
  private readonly stream: net.Socket | undefined;
  private broken = false;
  /** a failed write left part of a line: the next line starts on a fresh one */
  private torn = false;

  constructor(private readonly fd = 1) {
    const kind = fdKind(fd);
    if (kind === 'stream') {
      this.stream = streamOn(fd);
      this.stream.on('error', (err) => this.fail(err));
    } else if (kind === 'closed') {
      this.broken = true;
      this.lastError = 'EBADF';
    }
  }

  /** Lines dropped since start. */
  get dropped(): number {
    return this.droppedLines;
  }

  /** The code of the last failed write (ENOSPC, EPIPE, EAGAIN...), or null. */
  get error(): string | null {
    return this.lastError;
  }

  /** pino's destination interface: one JSON line. Never throws, never blocks. */
  write(line: string): boolean {
    if (this.broken) return this.drop();
    if (this.stream) {
      if (this.stream.writableLength > MAX_BUFFERED) return this.drop('EAGAIN');
      if (this.unreported > 0) this.stream.write(this.note());
      this.unreported = 0;
      this.stream.write(line);
      return true;
    }
    try {
      if (this.unreported > 0) this.writeNow(this.note());
      this.unreported = 0;
      this.writeNow(line);
      return true;
    } catch (err) {
      this.fail(err);
      return this.drop();
    }
  }

  /** pino calls this after a fatal line; writes here are already done or dropped. */
  flushSync(): void {}

  private drop(code?: string): boolean {
    if (code !== undefined) this.lastError = code;
    this.droppedLines += 1;
    this.unreported += 1;
    return false;
  }

  private fail(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    this.lastError = typeof code === 'string' ? code : 'EIO';
    // the reader is gone for good: nothing later would arrive either
    if (code === 'EPIPE' || code === 'EBADF' || code === 'ECONNRESET') this.broken = true;
  }

  /** The warning that opens the first line written after some were dropped (a pino-shaped line). */
  private note(): string {
    const note = {
      level: 40,
      time: new Date().toISOString(),
      pid: process.pid,
      dropped: this.unreported,
      reason: this.lastError,
      msg: `${this.unreported} log line(s) were dropped: the log could not be written`,
    };
    return `${JSON.stringify(note)}\n`;
  }

  /** Writes the whole text or throws; a short write (a disk filling up) is continued. */
  private writeNow(text: string): void {
    const data = this.torn ? `\n${text}` : text;
    const bytes = Buffer.byteLength(data);
    let done = 0;
    try {
      done = fs.writeSync(this.fd, data);
      if (done < bytes) {
        const buf = Buffer.from(data);
        while (done < bytes) done += fs.writeSync(this.fd, buf, done);
      }
    } catch (err) {
      if (done > 0) this.torn = true;
      throw err;
    }
    this.torn = false;
  }
}

/**
 * A non-blocking stream on a pipe or socket. For stdout it is Node's own process.stdout, which
 * never closes fd 1 (a closed fd 1 could be reused by the database file). The stream does not
 * keep the process alive, though its pending writes do until they are flushed.
 */
function streamOn(fd: number): net.Socket {
  if (fd === 1 && process.stdout instanceof net.Socket) return process.stdout;
  const socket = new net.Socket({ fd, readable: false, writable: true });
  socket.unref();
  return socket;
}

/** How to write to an fd: synchronously (file, terminal, /dev/null) or as a stream (pipe, socket). */
function fdKind(fd: number): 'sync' | 'stream' | 'closed' {
  try {
    const st = fs.fstatSync(fd);
    return st.isFIFO() || st.isSocket() ? 'stream' : 'sync';
  } catch {
    return 'closed';
  }
}
