/**
 * The undici Agent that carries a gateway's upstream requests (keep-alive pools per origin; one
 * per GatewayState, closed with it at shutdown), and a thin `send` on undici's raw dispatch API that turns transport failures into retryable
 * UpstreamFailures. Raw dispatch skips the stream objects of undici's `request()` (a Readable per
 * response and its async iterator): a response body here is a small queue of chunks, paused
 * upstream when the reader falls behind. Timeouts: the channel's timeout bounds the wait for
 * response headers and every gap between body chunks, so a stalled upstream is detected
 * mid-stream too.
 */
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import type { UpstreamFailure, UpstreamRequest } from '../providers/types.js';
import type { Aborter } from './context.js';

export function createUpstreamAgent(): Dispatcher {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    // no cap per upstream: every concurrent stream holds a connection for its whole length
    pipelining: 1,
    connect: { timeout: 10_000 },
  });
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

export type SendResult = { ok: true; res: UpstreamResponse } | { ok: false; failure: UpstreamFailure };

/** Reading pauses the upstream socket above this many queued bytes and resumes below a quarter. */
const HIGH_WATER = 256 * 1024;

/**
 * A response body as it arrives: iterate it (`for await`) for streams, or `readAll`/`readCapped`.
 * Chunks that queued up while the reader was busy come out as one buffer. A transport failure
 * (reset, body timeout, abort) is thrown by the iteration, after what arrived before it.
 */
export class UpstreamBody implements AsyncIterable<Buffer> {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | null = null;
  /** the reader waiting in next() while nothing is queued: a chunk goes straight to it */
  private waiter: {
    resolve: (r: IteratorResult<Buffer, undefined>) => void;
    reject: (err: Error) => void;
  } | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private onDone: (() => void) | null = null;

  /** @internal the dispatch handler's side */
  attach(controller: Dispatcher.DispatchController, onDone: () => void): void {
    this.controller = controller;
    this.onDone = onDone;
  }

  /** @internal */
  push(chunk: Buffer): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER) this.controller?.pause();
  }

  /** @internal */
  end(): void {
    this.ended = true;
    this.finish();
  }

  /** @internal */
  fail(err: Error): void {
    if (this.ended || this.error) return;
    this.error = err;
    this.finish();
  }

  /** Stops the transfer (the upstream connection is closed); later reads end at once. */
  destroy(): void {
    if (this.ended || this.error) return;
    const err = new Error('response body destroyed');
    this.controller?.abort(err);
    this.fail(err);
    this.chunks = [];
    this.queued = 0;
  }

  /** The whole body. Rejects on a transport failure. */
  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const r = await this.next();
      if (r.done) break;
      parts.push(r.value);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** A (small) error body as text, capped so a hostile upstream cannot exhaust memory; never throws. */
  async readCapped(cap = 64 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for (;;) {
        const r = await this.next();
        if (r.done) break;
        const b = r.value;
        if (size + b.length > cap) {
          parts.push(b.subarray(0, cap - size));
          size = cap;
          this.destroy();
          break;
        }
        parts.push(b);
        size += b.length;
      }
    } catch {
      // a broken error body still yields what arrived
    }
    return Buffer.concat(parts).toString('utf8');
  }

  next(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.chunks.length > 0) {
      const value = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [];
      this.queued = 0;
      if (this.controller?.paused && !this.ended && !this.error) this.controller.resume();
      return Promise.resolve({ value, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer, undefined> {
    return {
      next: () => this.next(),
      return: () => {
        this.destroy();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private finish(): void {
    this.onDone?.();
    this.onDone = null;
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    if (this.error) waiter.reject(this.error);
    else waiter.resolve({ value: undefined, done: true });
  }
}

/**
 * Sends one request; resolves with the status, headers and a body still arriving, or with a
 * failure when no response started (refused, reset, headers timeout, aborted).
 */
export function send(
  agent: Dispatcher,
  req: UpstreamRequest,
  timeoutMs: number,
  abort: Aborter,
): Promise<SendResult> {
  return new Promise<SendResult>((resolve) => {
    const split = splitUrl(req.url);
    if (!split) {
      resolve({ ok: false, failure: transportFailure(new Error(`invalid upstream URL ${req.url}`)) });
      return;
    }
    const body = new UpstreamBody();
    let started = false;
    let controller: Dispatcher.DispatchController | null = null;
    const onAbort = (): void => controller?.abort(abortedError());
    const detach = (): void => {
      abort.unlisten(onAbort);
    };
    if (abort.aborted) {
      resolve({ ok: false, failure: transportFailure(abortedError()) });
      return;
    }
    abort.listen(onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        body.attach(c, detach);
        if (abort.aborted) c.abort(abortedError());
      },
      onResponseStart(_c, statusCode, headers) {
        started = true;
        resolve({ ok: true, res: { status: statusCode, headers, body } });
      },
      onResponseData(_c, chunk) {
        body.push(chunk);
      },
      onResponseEnd() {
        body.end();
      },
      onResponseError(_c, err) {
        if (started) body.fail(err);
        else {
          detach();
          resolve({ ok: false, failure: transportFailure(err) });
        }
      },
    };
    try {
      agent.dispatch(
        {
          origin: split.origin,
          path: split.path,
          method: req.method,
          headers: req.headers,
          body: req.body ?? null,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        handler,
      );
    } catch (err) {
      detach();
      resolve({ ok: false, failure: transportFailure(err) });
    }
  });
}

function splitUrl(url: string): { origin: string; path: string } | null {
  const scheme = url.indexOf('://');
  if (scheme <= 0) return null;
  const slash = url.indexOf('/', scheme + 3);
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

function abortedError(): Error {
  return Object.assign(new Error('request aborted'), { code: 'UND_ERR_ABORTED', name: 'AbortError' });
}

/** A network-level failure (refused, reset, timeout, bad URL) as a retryable failure. */
export function transportFailure(err: unknown): UpstreamFailure {
  const e = err as { code?: string; message?: string; name?: string };
  const code = e.code ?? e.name ?? 'ERROR';
  const timeout =
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT';
  return {
    status: timeout ? 504 : 502,
    action: 'retry',
    timedOut: timeout,
    message: timeout
      ? `upstream timed out (${code})`
      : `upstream connection failed (${code}: ${e.message ?? 'no detail'})`,
  };
}
