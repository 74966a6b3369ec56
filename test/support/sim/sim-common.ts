/**
 * The parts every provider simulator shares: a real HTTP server on 127.0.0.1 that records each
 * request it receives (so retries and failover can be counted exactly), a queue of injected
 * faults, the handle a test drives a simulator with (faults, a fixed delay, call counts), and
 * small request helpers (headers, JSON bodies). Whether the client went away early is recorded
 * with a timestamp, which is how tests measure abort propagation. The response writers (pacing,
 * backpressure, stream faults) live in sim-io.ts and are re-exported here.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { hangUp, isSelfClosed, open, pause, untilClosed } from './sim-io.js';

export * from './sim-io.js';

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

/** Faults queued for the next requests, each for a number of them (Infinity = until cleared). */
export class FaultQueue<F = Fault> {
  private queue: { fault: F; remaining: number }[] = [];

  add(fault: F, times = 1): void {
    if (times > 0) this.queue.push({ fault, remaining: times });
  }

  clear(): void {
    this.queue = [];
  }

  /** The fault for the request that just arrived, if any. */
  take(): F | undefined {
    const head = this.queue[0];
    if (head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head.fault;
  }
}

/** What a test holds of every simulator; each simulator's own interface says what `url` is. */
export interface SimHandle<F = Fault> {
  url: string;
  port: number;
  calls: SimCall[];
  /** how many calls match `path` (each simulator says how); all calls when omitted */
  callCount(path?: string): number;
  /** queue a fault for the next `times` requests (default 1); Infinity = until cleared */
  fault(f: F, times?: number): void;
  clearFaults(): void;
  /** fixed delay before answering every request */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** The state a simulator's handler reads and its handle sets: queued faults and the fixed delay. */
export class SimControls<F = Fault> {
  readonly faults = new FaultQueue<F>();
  delayMs = 0;
}

/** The handle of a started simulator; `matches` says whether a call counts for a callCount path. */
export function simHandle<F>(
  server: SimServer,
  controls: SimControls<F>,
  url: string,
  matches: (call: SimCall, path: string) => boolean,
): SimHandle<F> {
  return {
    url,
    port: server.port,
    calls: server.calls,
    callCount: (path?: string) =>
      path === undefined ? server.calls.length : server.calls.filter((c) => matches(c, path)).length,
    fault: (f, times = 1) => controls.faults.add(f, times),
    clearFaults: () => controls.faults.clear(),
    setDelay: (ms) => {
      controls.delayMs = ms;
    },
    close: () => server.close(),
  };
}

/**
 * The first steps of most simulators' answers: take the request's fault; a reset hangs up and a
 * stall waits for the client to leave; then the fixed delay. null when the request is done with
 * (those faults, or the client gone during the delay), else the fault still to apply.
 */
export async function beginRequest<F extends { kind: string }>(
  res: http.ServerResponse,
  controls: SimControls<F>,
): Promise<{ fault: F | undefined } | null> {
  const fault = controls.faults.take();
  if (fault?.kind === 'reset') {
    hangUp(res);
    return null;
  }
  if (fault?.kind === 'stall') {
    await untilClosed(res);
    return null;
  }
  if (controls.delayMs > 0 && !(await pause(res, controls.delayMs))) return null;
  return { fault };
}

/** A request header's value (Node gives an array only for set-cookie: then its first). */
export function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A whole, non-negative number from a header (a knob such as `x-sim-deltas`), else `fallback`. */
export function intHeader(headers: http.IncomingHttpHeaders, name: string, fallback: number): number {
  const n = Number(header(headers, name));
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

/**
 * Whether a conversation is a sub-agent's whose task this simulator wrote. A client such as Claude
 * Code hands a tool call's arguments (`sim-prompt`, the simulators' sample value for a string) to a
 * new conversation with the same tools; a model that called a tool there again would spawn agents
 * without end, so such a conversation is answered in text, as a model would answer a plain task.
 */
export function delegatedBySim(userTexts: readonly string[]): boolean {
  return userTexts.some((t) => /^sim-[\w-]+$/.test(t.trim()));
}

/** A request body that is a JSON object; undefined for anything else. */
export function parseJsonObject(buf: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A deterministic embedding per text (numbers in [-1, 1)), so equal inputs embed equally. */
export function embeddingVector(text: string, dims: number): number[] {
  const out: number[] = [];
  for (let i = 0; out.length < dims; i++) {
    const h = createHash('sha256').update(`${i}:${text}`).digest();
    for (let k = 0; k + 4 <= h.length && out.length < dims; k += 4) out.push(h.readInt32LE(k) / 2 ** 31);
  }
  return out;
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
      if (!res.writableFinished && !isSelfClosed(res)) {
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
