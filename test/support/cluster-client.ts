/**
 * What the cluster tests (three real daemons on one PostgreSQL database and one Redis) do to the
 * nodes as a client would: one chat request through a node's gateway with everything a test
 * checks of the answer (status, error code, Retry-After, whether the body arrived whole, the time
 * it took), a key's books read back through `bc` (its spend and its log rows), and a bounded
 * wait for a condition.
 */
import http from 'node:http';
import { expect } from 'vitest';
import type { TestDaemon } from './daemon.js';
import type { KeyView } from '../../src/shared/control-api.js';

export interface Answer {
  status: number;
  /** the body arrived to its end (for a stream: through data: [DONE]) */
  whole: boolean;
  requestId: string | undefined;
  retryAfter: string | undefined;
  /** the error body's `error.code`, if the answer is one */
  error: string | undefined;
  ms: number;
}

/** `bc ... --json` succeeded: its output, parsed. */
export const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One chat request for model `m` (unless `body` names another); streamed when `body.stream` is
 * set. Never rejects: a broken one is status 0.
 */
export function ask(gatewayUrl: string, key: string, body: Record<string, unknown>): Promise<Answer> {
  const t0 = Date.now();
  const broken = (): Answer => ({
    status: 0,
    whole: false,
    requestId: undefined,
    retryAfter: undefined,
    error: undefined,
    ms: Date.now() - t0,
  });
  return new Promise((resolve) => {
    const req = http.request(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let error: string | undefined;
        try {
          error = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        } catch {
          // a stream, not an error body
        }
        resolve({
          status: res.statusCode ?? 0,
          whole: body.stream ? text.includes('data: [DONE]') : text.length > 0,
          requestId: res.headers['x-request-id'] as string | undefined,
          retryAfter: res.headers['retry-after'],
          error,
          ms: Date.now() - t0,
        });
      });
      res.on('error', () => resolve(broken()));
    });
    req.on('error', () => resolve(broken()));
    req.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body }));
  });
}

export interface Row {
  request_id: string;
  cost: number;
  status: number;
}

/** The key's spend (bc key show) and its rows (bc logs), both read through node `n`. */
export async function books(n: TestDaemon, key: string): Promise<{ spent: number; rows: Row[] }> {
  const k = json<KeyView>(await n.bc(['key', 'show', key, '--json']));
  const rows = json<Row[]>(await n.bc(['logs', '--key', key, '--limit', '10000', '--json']));
  return { spent: k.spent, rows };
}

/** Milliseconds until `seen()` holds (polled every 20 ms, given up after `ms`: Infinity). */
export async function msUntil(seen: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await seen()) return Date.now() - t0;
    await sleep(20);
  }
  return Infinity;
}
