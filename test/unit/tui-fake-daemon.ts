/**
 * Test doubles for the TUIs: a fake daemon whose metrics stream the test drives by hand (push a
 * snapshot, drop the connection, go silent), and real snapshots made by the real metrics module
 * on an injected clock, so screens are tested against the daemon's true JSON shape.
 */
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, Metrics, RequestSample } from '../../src/daemon/metrics/index.js';
import type { MetricsSnapshot } from '../../src/shared/metrics-types.js';
import type { ManagementClient, MetricsSource } from '../../src/tui/client.js';
import type {
  ChannelInput,
  ChannelTestResult,
  ChannelView,
  KeyInput,
  KeyView,
  LogQuery,
  LogRow,
  PriceInput,
  PriceView,
} from '../../src/shared/control-api.js';
import type {
  CreditInput,
  RedeemCodeInput,
  RedeemCodesCreated,
  UserInput,
  UserView,
} from '../../src/shared/tenant-api.js';

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
        metrics.requestStarted(s.model, s.keyId, s.userId);
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
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
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

/** A price row as the daemon lists it; money null unless given (an unpriced row has none). */
function priceView(model: string, p: Partial<PriceView> & { source: string }): PriceView {
  return {
    model,
    input: null,
    output: null,
    cache_read: null,
    cache_write: null,
    per_request: null,
    max_output_tokens: null,
    tiers: [],
    catalog_model: null,
    via: null,
    channels: [],
    ...p,
  };
}

/** A fake control API with in-memory channels, keys, prices, logs, users and codes, recording every call. */
export class FakeManagement extends FakeDaemon implements ManagementClient {
  calls: [string, ...unknown[]][] = [];
  channelList: ChannelView[] = [
    channelView(1, 'openai-main', 'openai'),
    channelView(2, 'claude-backup', 'anthropic'),
  ];
  keyList: KeyView[] = [keyView(1, 'app')];
  priceList: PriceView[] = [
    priceView('claude-opus-4-8', {
      input: 5_000_000,
      output: 25_000_000,
      cache_read: 500_000,
      cache_write: 6_250_000,
      source: 'catalog@0.1.8',
    }),
    priceView('gpt-4o', { input: 2_500_000, output: 10_000_000, cache_read: 1_250_000, source: 'override' }),
    priceView('llama3', { source: 'unpriced' }),
  ];
  logRows: LogRow[] = [];
  userList: UserView[] = [
    userView(1, 'alice', { balance: 12_500_000, spent: 2_500_000, credited: 15_000_000, keys: 2 }),
    userView(2, 'bob', { group: 'vip', balance: null }),
  ];
  /** codes created so far, each batch numbered from 1 */
  codesMade = 0;
  testAnswer: ChannelTestResult = { ok: true, model: 'gpt-4o', latency_ms: 320, status: 200, error: null };

  private find<T extends { id: number; name: string }>(list: T[], id: string | number): T {
    const found = list.find((x) => x.id === Number(id) || x.name === id);
    if (!found) throw new Error(`not found: ${id}`);
    return found;
  }

  channels = {
    list: async () => this.channelList.map((c) => ({ ...c })),
    add: async (input: ChannelInput) => {
      this.calls.push(['channels.add', input]);
      const c = {
        ...channelView(this.channelList.length + 1, input.name ?? '?', input.type ?? 'openai'),
        models: input.models ?? [],
      };
      this.channelList.push(c);
      return c;
    },
    edit: async (id: string | number, input: ChannelInput) => {
      this.calls.push(['channels.edit', id, input]);
      const c = this.find(this.channelList, id);
      Object.assign(c, {
        priority: input.priority ?? c.priority,
        weight: input.weight ?? c.weight,
        models: input.models ?? c.models,
      });
      return c;
    },
    enable: async (id: string | number) => this.setStatus('channels.enable', this.channelList, id, 'enabled'),
    disable: async (id: string | number) =>
      this.setStatus('channels.disable', this.channelList, id, 'disabled'),
    remove: async (id: string | number) => {
      this.calls.push(['channels.remove', id]);
      const c = this.find(this.channelList, id);
      this.channelList = this.channelList.filter((x) => x !== c);
      return c;
    },
    test: async (id: string | number) => {
      this.calls.push(['channels.test', id]);
      return this.testAnswer;
    },
  };

  keys = {
    list: async () => this.keyList.map((k) => ({ ...k })),
    create: async (input: KeyInput) => {
      this.calls.push(['keys.create', input]);
      const k = {
        ...keyView(this.keyList.length + 1, input.name ?? '?'),
        budget: input.budget ?? null,
        rpm: input.rpm ?? null,
      };
      this.keyList.push(k);
      return { ...k, key: 'sk-bc-0123456789abcdefghijABCDEFGHIJxyz' };
    },
    edit: async (id: string | number, input: KeyInput) => {
      this.calls.push(['keys.edit', id, input]);
      const k = this.find(this.keyList, id);
      Object.assign(k, input);
      return k;
    },
    enable: async (id: string | number) => this.setStatus('keys.enable', this.keyList, id, 'enabled'),
    disable: async (id: string | number) => this.setStatus('keys.disable', this.keyList, id, 'disabled'),
    revoke: async (id: string | number) => this.setStatus('keys.revoke', this.keyList, id, 'revoked'),
  };

  prices = {
    list: async () => this.priceList.map((p) => ({ ...p })),
    set: async (model: string, input: PriceInput) => {
      this.calls.push(['prices.set', model, input]);
      const p = priceView(model, { ...input, source: 'override' });
      this.priceList = [...this.priceList.filter((x) => x.model !== model), p];
      return p;
    },
    remove: async (model: string) => {
      this.calls.push(['prices.remove', model]);
      this.priceList = this.priceList.filter((x) => x.model !== model);
    },
  };

  users = {
    list: async () => this.userList.map((u) => ({ ...u })),
    create: async (input: UserInput) => {
      this.calls.push(['users.create', input]);
      const u = userView(this.userList.length + 1, input.name ?? '?', {
        group: input.group ?? 'default',
        balance: input.unmetered ? null : (input.balance ?? 0),
        credited: input.balance ?? 0,
      });
      this.userList.push(u);
      return { ...u };
    },
    enable: async (id: string | number) => this.setStatus('users.enable', this.userList, id, 'enabled'),
    disable: async (id: string | number) => this.setStatus('users.disable', this.userList, id, 'disabled'),
    credit: async (id: string | number, input: CreditInput) => {
      this.calls.push(['users.credit', id, input]);
      const u = this.find(this.userList, id);
      if (u.balance === null) throw new Error(`user "${u.name}" is unmetered`);
      u.balance += input.amount;
      u.credited += input.amount;
      const entry = {
        id: 1,
        time: '2026-01-01T00:00:00.000Z',
        user: u.name,
        kind: input.kind,
        amount: input.amount,
        balance_after: u.balance,
        ref: null,
        actor: 'admin',
        note: input.note ?? null,
      };
      return { user: { ...u }, entry };
    },
  };

  redeem = {
    create: async (input: RedeemCodeInput): Promise<RedeemCodesCreated> => {
      this.calls.push(['redeem.create', input]);
      const codes = Array.from({ length: input.count ?? 1 }, () => {
        const n = ++this.codesMade;
        const code = `BCR-TEST${String(n).padStart(4, '0')}-XXXX-YYYY`;
        return {
          id: n,
          prefix: code.slice(0, 9),
          batch: input.batch ?? null,
          amount: input.amount,
          max_uses: input.uses ?? 1,
          uses: 0,
          user: input.user ?? null,
          promo: input.promo ?? false,
          status: 'active' as const,
          expires_at: null,
          created_at: '2026-01-01T00:00:00.000Z',
          code,
        };
      });
      return { batch: input.batch ?? null, amount: input.amount, codes };
    },
  };

  async logs(query?: LogQuery): Promise<LogRow[]> {
    this.calls.push(['logs', query]);
    return this.logRows
      .filter((r) => query?.after_id === undefined || r.id > query.after_id)
      .filter((r) => !query?.errors || r.status >= 400)
      .filter((r) => !query?.model || r.model === query.model)
      .sort((a, b) => b.id - a.id)
      .slice(0, query?.limit ?? 100);
  }

  private setStatus<T extends { id: number; name: string; status: string }>(
    call: string,
    list: T[],
    id: string | number,
    status: T['status'],
  ): T {
    this.calls.push([call, id]);
    const x = this.find(list, id);
    x.status = status;
    return x;
  }

  callsOf(name: string): unknown[][] {
    return this.calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  }
}

export function channelView(id: number, name: string, type: ChannelView['type']): ChannelView {
  return {
    id,
    name,
    type,
    base_url: 'http://127.0.0.1:1',
    models: ['gpt-4o'],
    map: {},
    groups: ['default'],
    priority: 0,
    weight: 1,
    status: 'enabled',
    status_reason: null,
    keys: ['sk-...a1b2'],
    cooldown_until: null,
    timeout_ms: 60_000,
    region: null,
    api_version: null,
    created_at: '2026-01-01T00:00:00.000Z',
  };
}

export function keyView(id: number, name: string): KeyView {
  return {
    id,
    name,
    prefix: 'sk-bc-abcd',
    group: 'default',
    budget: null,
    spent: 0,
    expires_at: null,
    models: [],
    allow_ips: [],
    rpm: null,
    tpm: null,
    concurrency: null,
    status: 'enabled',
    strict_budget: false,
    user: null,
    scope: 'relay',
    created_by: 'admin',
    created_at: '2026-01-01T00:00:00.000Z',
    last_used_at: null,
  };
}

export function userView(id: number, name: string, over: Partial<UserView> = {}): UserView {
  return {
    id,
    name,
    group: 'default',
    balance: 0,
    spent: 0,
    credited: 0,
    status: 'enabled',
    rpm: null,
    tpm: null,
    concurrency: null,
    max_keys: null,
    keys: 0,
    invited_by: null,
    referral_code: null,
    note: null,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

export function logRow(id: number, over: Partial<LogRow> = {}): LogRow {
  return {
    id,
    request_id: `req-${id}`,
    time: `2026-01-01T10:00:${String(id % 60).padStart(2, '0')}.000Z`,
    key: 'app',
    key_id: 1,
    channel: 'openai-main',
    channel_id: 1,
    model: 'gpt-4o',
    upstream_model: 'gpt-4o',
    endpoint: '/v1/chat/completions',
    status: 200,
    error: null,
    input_tokens: 12,
    cached_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 34,
    reasoning_tokens: 0,
    cost: 1500,
    usage_estimated: false,
    latency_ms: 420,
    ttft_ms: 100,
    retries: 0,
    stream: true,
    dropped_fields: [],
    max_tokens_clamped: null,
    ...over,
  };
}
