/**
 * The one undici Agent that carries every upstream request (keep-alive pools per origin), and a
 * thin `send` that turns transport failures into retryable UpstreamFailures. Timeouts: the
 * channel's timeout bounds the wait for response headers and every gap between body chunks, so a
 * stalled upstream is detected mid-stream too.
 */
import type { EventEmitter } from 'node:events';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { UpstreamFailure, UpstreamRequest } from '../providers/types.js';

export const upstreamAgent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  // no cap per upstream: every concurrent stream holds a connection for its whole length
  pipelining: 1,
  connect: { timeout: 10_000 },
});

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export type SendResult = { ok: true; res: UpstreamResponse } | { ok: false; failure: UpstreamFailure };

export async function send(
  req: UpstreamRequest,
  timeoutMs: number,
  signal: AbortSignal | EventEmitter,
): Promise<SendResult> {
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      dispatcher: upstreamAgent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { ok: true, res: { status: res.statusCode, headers: res.headers, body: res.body } };
  } catch (err) {
    return { ok: false, failure: transportFailure(err) };
  }
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
    message: timeout
      ? `upstream timed out (${code})`
      : `upstream connection failed (${code}: ${e.message ?? 'no detail'})`,
  };
}

/** Reads a (small) error body as text, capped so a hostile upstream cannot exhaust memory. */
export async function readCapped(body: UpstreamResponse['body'], cap = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      if (size + b.length > cap) {
        parts.push(b.subarray(0, cap - size));
        size = cap;
        body.destroy();
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

/** Reads a full success body. Throws on transport errors (caller treats as a retryable failure). */
export async function readAll(body: UpstreamResponse['body']): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
