/**
 * The parts every provider simulator shares: a real HTTP server on 127.0.0.1 that records each
 * request it receives (so retries and failover can be counted exactly), a queue of injected
 * faults, and a frame writer that honours pacing, split writes, backpressure and the stream
 * faults (hang up, stall, error after N frames). Whether the client went away early is recorded
 * with a timestamp, which is how tests measure abort propagation.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export interface SimCall {
  method: string;
  /** the path without the query string */
  path: string;
  /** the query string without `?` ('' when none) */
  query: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Date.now() when the request arrived */
  at: number;
  /** Date.now() when the client closed the connection before the response was complete */
  closedAt?: number;
  aborted: boolean;
}

export type Fault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'hangup'; afterFrames: number }
  | { kind: 'garbage' }
  | { kind: 'stallAfter'; afterFrames: number }
  | { kind: 'midStreamError'; afterFrames: number };

export type StreamFault = Extract<Fault, { kind: 'hangup' | 'stallAfter' | 'midStreamError' }>;

export function isStreamFault(f: Fault | undefined): f is StreamFault {
  return f?.kind === 'hangup' || f?.kind === 'stallAfter' || f?.kind === 'midStreamError';
}

export class FaultQueue {
  private queue: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault, times = 1): void {
    if (times > 0) this.queue.push({ fault, remaining: times });
  }

  clear(): void {
    this.queue = [];
  }

  /** The fault for the request that just arrived, if any. */
  take(): Fault | undefined {
    const head = this.queue[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head.fault;
  }
}

/** Responses whose connection the simulator cut on purpose (not a client abort). */
const selfClosed = new WeakSet<http.ServerResponse>();

/** Destroys the connection from the simulator's side (reset and hangup faults). */
export function hangUp(res: http.ServerResponse): void {
  selfClosed.add(res);
  res.socket?.destroy();
  res.destroy();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether the response can still be written to (the client has not gone, we have not ended). */
export function open(res: http.ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

/** Sleeps, but wakes early when the client goes away; resolves false in that case. */
export function pause(res: http.ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(open(res));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(open(res));
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once('close', onClose);
  });
}

/** Resolves when the client closes the connection (or the server is shut down). */
export function untilClosed(res: http.ServerResponse): Promise<void> {
  if (res.destroyed || res.socket === null || res.socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** Writes with backpressure; false once the client is gone. */
export function write(res: http.ServerResponse, data: Buffer | string): Promise<boolean> {
  if (!open(res)) return Promise.resolve(false);
  if (res.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok && open(res));
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Byte offset inside the first multi-byte UTF-8 character of `buf`, else its middle. */
export function utf8SplitPoint(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    if ((buf[i] ?? 0) >= 0xc0) return i + 1;
  }
  return Math.max(1, Math.floor(buf.length / 2));
}

export interface FrameOptions {
  paceMs: number;
  /** write each frame as two TCP writes that cut a multi-byte character in half */
  splitUtf8: boolean;
  fault?: StreamFault | undefined;
  /** the frame sent by a midStreamError fault before the response ends */
  errorFrame: string;
}

/** Writes stream frames and ends the response, or breaks off as the fault says. */
export async function writeFrames(
  res: http.ServerResponse,
  frames: string[],
  opts: FrameOptions,
): Promise<void> {
  const limit = opts.fault === undefined ? frames.length : Math.min(opts.fault.afterFrames, frames.length);
  for (let i = 0; i < limit; i++) {
    if (i > 0 && !(await pause(res, opts.paceMs))) return;
    const bytes = Buffer.from(frames[i] ?? '', 'utf8');
    if (opts.splitUtf8 && bytes.length > 1) {
      const cut = utf8SplitPoint(bytes);
      if (!(await write(res, bytes.subarray(0, cut)))) return;
      if (!(await pause(res, 5))) return;
      if (!(await write(res, bytes.subarray(cut)))) return;
    } else if (!(await write(res, bytes))) {
      return;
    }
  }
  await finishStream(res, opts);
}

async function finishStream(res: http.ServerResponse, opts: FrameOptions): Promise<void> {
  switch (opts.fault?.kind) {
    case 'hangup':
      // Give the frames already written a moment to leave, then cut the connection mid-body.
      await pause(res, 10);
      hangUp(res);
      return;
    case 'stallAfter':
      await untilClosed(res);
      return;
    case 'midStreamError':
      if (await write(res, opts.errorFrame)) res.end();
      return;
    default:
      if (open(res)) res.end();
  }
}

export interface SimServer {
  port: number;
  calls: SimCall[];
  close(): Promise<void>;
}

export type SimHandler = (
  call: SimCall,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) => Promise<void>;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', () => resolve(Buffer.concat(parts)));
    req.on('close', () => resolve(Buffer.concat(parts)));
  });
}

/** Starts an HTTP server that records every call, then hands it to `handle`. */
export async function startSimServer(port: number, handle: SimHandler): Promise<SimServer> {
  const calls: SimCall[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const call: SimCall = {
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers: req.headers,
      body: Buffer.alloc(0),
      at: Date.now(),
      aborted: false,
    };
    calls.push(call);
    res.on('close', () => {
      if (!res.writableFinished && !selfClosed.has(res)) {
        call.aborted = true;
        call.closedAt ??= Date.now();
      }
    });
    void readBody(req)
      .then((body) => {
        call.body = body;
        return handle(call, req, res);
      })
      .catch((err: unknown) => {
        if (!res.headersSent && open(res)) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { message: `simulator bug: ${String(err)}`, type: 'server_error' } }),
          );
        } else {
          res.destroy();
        }
      });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      }),
  };
}
