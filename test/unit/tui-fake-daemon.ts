/**
 * Test doubles for the TUIs: a fake daemon whose metrics stream the test drives by hand (push a
 * snapshot, drop the connection, go silent), and real snapshots made by the real metrics module
 * on an injected clock, so screens are tested against the daemon's true JSON shape.
 */
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, Metrics, RequestSample } from '../../src/daemon/metrics/index.js';
import type { MetricsSnapshot } from '../../src/shared/metrics-types.js';
import type { MetricsSource } from '../../src/tui/client.js';

export const T0 = 1_750_000_000_000;

export function sample(over: Partial<RequestSample> = {}): RequestSample {
  return {
    channelId: 1,
    channelName: 'openai-main',
    model: 'gpt-4o',
    keyId: 1,
    keyName: 'app',
    status: 200,
    errorCategory: null,
    inputTokens: 100,
    outputTokens: 50,
    cost: 2_000,
    latencyMs: 320,
    ttftMs: 90,
    stream: true,
    ...over,
  };
}

export const HEALTH: ChannelHealth[] = [
  { id: 1, name: 'openai-main', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
  {
    id: 2,
    name: 'claude-backup',
    type: 'anthropic',
    status: 'enabled',
    statusReason: null,
    cooldownUntil: null,
  },
  {
    id: 3,
    name: 'old-azure',
    type: 'azure',
    status: 'auto_disabled',
    statusReason: 'invalid key',
    cooldownUntil: null,
  },
];

/** A metrics recorder on a hand-driven clock plus a way to take snapshots from it. */
export function scenario() {
  let now = T0;
  const metrics: Metrics = createMetrics({ now: () => now });
  return {
    metrics,
    tick(ms = 1000) {
      now += ms;
    },
    /** `n` finished requests in the current second */
    traffic(n: number, over: Partial<RequestSample> = {}) {
      for (let i = 0; i < n; i++) {
        const s = sample(over);
        metrics.requestStarted(s.model, s.keyId);
        metrics.requestFinished(s);
      }
    },
    snapshot(health: ChannelHealth[] = HEALTH): MetricsSnapshot {
      return metrics.snapshot(health);
    },
  };
}

type Pending = { resolve: (v: IteratorResult<unknown>) => void; reject: (e: unknown) => void };

/** One open stream: what was pushed and not yet read, and the reader waiting for more. */
class Connection {
  readonly queue: unknown[] = [];
  waiting: Pending | null = null;
  closed = false;

  deliver(doc: unknown): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve({ value: doc, done: false });
    } else this.queue.push(doc);
  }

  end(err?: Error): void {
    this.closed = true;
    const w = this.waiting;
    this.waiting = null;
    if (!w) return;
    if (err) w.reject(err);
    else w.resolve({ value: undefined, done: true });
  }
}

export class FakeDaemon implements MetricsSource {
  /** streams opened so far (reconnects add one each) */
  opened = 0;
  /** streams whose reader aborted (the TUI went away or gave up on a silent stream) */
  aborted = 0;
  /** while down, opening a stream fails like a missing socket */
  down = false;
  latest: unknown = null;
  private current: Connection | null = null;

  push(doc: unknown): void {
    this.latest = doc;
    this.current?.deliver(doc);
  }

  /** The daemon dies: the open stream fails and new ones are refused until up() */
  crash(): void {
    this.down = true;
    this.current?.end(new Error('socket hang up'));
    this.current = null;
  }

  up(): void {
    this.down = false;
  }

  connected(): boolean {
    return this.current !== null && !this.current.closed;
  }

  async metricsSnapshot(): Promise<unknown> {
    if (this.down) throw new Error('the daemon is not running');
    return this.latest;
  }

  metricsStream(signal?: AbortSignal): AsyncIterable<unknown> {
    return { [Symbol.asyncIterator]: () => this.open(signal) };
  }

  private open(signal?: AbortSignal): AsyncIterator<unknown> {
    this.opened++;
    if (this.down) return { next: () => Promise.reject(new Error('connect ENOENT bc.sock')) };
    const conn = new Connection();
    this.current = conn;
    if (this.latest !== null) conn.queue.push(this.latest);
    signal?.addEventListener('abort', () => {
      this.aborted++;
      conn.end();
    });
    return {
      next(): Promise<IteratorResult<unknown>> {
        const doc = conn.queue.shift();
        if (doc !== undefined) return Promise.resolve({ value: doc, done: false });
        if (conn.closed || signal?.aborted) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (conn.waiting = { resolve, reject }));
      },
      return(): Promise<IteratorResult<unknown>> {
        conn.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Waits until `cond` holds (frames render asynchronously). */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function plain(frame: string | undefined): string {
  return (frame ?? '').replace(ANSI, '');
}
