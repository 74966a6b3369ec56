/**
 * A raw HTTP/1.1 client on a plain TCP socket, for tests of what a client can hold at the
 * gateway's door: it sends the head, then as much or as little of the body as the test says, at
 * the pace it says, and records when the answer began, how many body bytes had been written by
 * then, and when the gateway closed the connection. No HTTP library would send half a body and
 * wait, or keep writing after the answer has come.
 */
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class RawConnection {
  readonly socket: net.Socket;
  /** body bytes handed to the socket so far */
  written = 0;
  /** body bytes written when the first byte of an answer arrived (null: none yet) */
  writtenAtAnswer: number | null = null;
  /** ms (performance.now) when the gateway closed or reset the connection; null while open */
  closedAt: number | null = null;
  private data = '';
  private readonly closedP: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (this.writtenAtAnswer === null) this.writtenAtAnswer = this.written;
      this.data += chunk;
    });
    // a reset while the test is still writing is one of the ways the gateway closes
    socket.on('error', () => undefined);
    this.closedP = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = performance.now();
        resolve();
      }),
    );
  }

  static open(baseUrl: string): Promise<RawConnection> {
    const { hostname, port } = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Everything received, as text. */
  get received(): string {
    return this.data;
  }

  get closed(): Promise<void> {
    return this.closedP;
  }

  get isClosed(): boolean {
    return this.closedAt !== null;
  }

  head(method: string, path: string, headers: Record<string, string | number>): void {
    const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    this.socket.write(lines.join('\r\n') + '\r\n\r\n');
  }

  /** Writes `bytes` of body (JSON-ish filler unless `text` is given) and waits until it is flushed. */
  async body(bytes: number | string): Promise<void> {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.alloc(bytes, 0x20);
    if (this.isClosed) return;
    await new Promise<void>((resolve) => this.socket.write(buf, () => resolve()));
    this.written += buf.length;
  }

  /**
   * Writes body in `chunk`-byte pieces, `pauseMs` apart, until `total` bytes went out, an answer
   * began, the connection closed, or `stopAfter` bytes were written without any of those.
   */
  async pump(total: number, opts: { chunk: number; pauseMs: number; stopAfter: number }): Promise<void> {
    while (this.written < total && this.written < opts.stopAfter) {
      if (this.writtenAtAnswer !== null || this.isClosed) return;
      await this.body(Math.min(opts.chunk, total - this.written));
      await delay(opts.pauseMs);
    }
  }

  /** Resolves once a whole answer (head and content-length body) has arrived, or the socket closed. */
  async answer(timeoutMs = 10_000): Promise<RawAnswer | null> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const parsed = parseAnswer(this.finalPart());
      if (parsed) return parsed;
      if (this.isClosed || performance.now() > until) return parseAnswer(this.finalPart());
      await delay(5);
    }
  }

  /** The text after any interim `100 Continue`. */
  private finalPart(): string {
    return this.data.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function parseAnswer(text: string): RawAnswer | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [first, ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(first ?? '')?.[1]);
  if (!Number.isFinite(status)) return null;
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const body = text.slice(end + 4);
  if (Number.isFinite(length) && Buffer.byteLength(body, 'latin1') < length) return null;
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}
