/**
 * Records and request contexts for unit tests of the money code that reads the gateway's snapshot
 * (worst-case.ts, admitted-prices.ts, admission.ts): a real Snapshot built by buildSnapshot from
 * channel, key, price and group records, inside a GatewayState that holds only it, and a
 * RelayContext with the fields admission reads.
 */
import type { ChannelType } from '../../src/shared/control-api.js';
import type { ChannelRecord, KeyRecord, PriceRecord } from '../../src/daemon/store/types.js';
import type { GatewayState } from '../../src/daemon/gateway/state.js';
import type { RelayContext } from '../../src/daemon/gateway/context.js';
import { buildSnapshot, type RouteKey } from '../../src/daemon/gateway/snapshot.js';
import { RateLimiter } from '../../src/daemon/gateway/money/limits.js';
import { BudgetLedger } from '../../src/daemon/gateway/money/budget-ledger.js';

export type Json = Record<string, unknown>;

let nextId = 1;
/** An enabled channel record of `type` serving `models` (ids count up). */
export function channel(
  type: ChannelType,
  models: string[],
  over: Partial<ChannelRecord> = {},
): ChannelRecord {
  const id = nextId++;
  return {
    id,
    name: `c${id}`,
    type,
    baseUrl: 'http://127.0.0.1:9',
    models,
    map: {},
    groups: [],
    priority: 0,
    weight: 1,
    status: 'enabled',
    statusReason: null,
    secrets: [],
    timeoutMs: 60_000,
    region: null,
    apiVersion: null,
    settings: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** micro-USD per 1M tokens; an explicit output limit so no catalog is consulted */
export const price = (
  model: string,
  input: number,
  output: number,
  over: Partial<PriceRecord> = {},
): PriceRecord => ({
  model,
  input,
  output,
  cacheRead: null,
  cacheWrite: null,
  perRequest: null,
  maxOutputTokens: 50_000,
  source: 'override',
  ...over,
});

/** A key with a budget of $1 in group `default`, as the snapshot holds it. */
export const keyOf = (over: Partial<KeyRecord> = {}): RouteKey => ({
  record: {
    id: 1,
    name: 'k',
    hash: 'h',
    prefix: 'sk-bc-x',
    group: 'default',
    budget: 1_000_000,
    spent: 0,
    expiresAt: null,
    models: [],
    allowIps: [],
    rpm: null,
    tpm: null,
    concurrency: null,
    status: 'enabled',
    strictBudget: false,
    userId: null,
    scope: 'relay',
    createdBy: 'admin',
    createdAt: '2026-01-01T00:00:00.000Z',
    lastUsedAt: null,
    ...over,
  },
  user: null,
  models: null,
  nets: null,
  expiresAtMs: null,
});

/**
 * Gateway state whose snapshot is built from these records, with a real rate limiter and budget
 * ledger (all that admission and the money code read).
 */
export function stateOf(
  channels: ChannelRecord[],
  prices: PriceRecord[],
  groups: { name: string; ratio: number }[] = [],
): GatewayState {
  const snapshot = buildSnapshot(channels, [], prices, groups, { decrypt: (s: string) => s });
  return {
    snapshot,
    limiter: new RateLimiter(),
    userLimiter: new RateLimiter(Date.now, 'user'),
    ledger: new BudgetLedger(),
  } as unknown as GatewayState;
}

/** An OpenAI chat request (or another front's, by endpoint and protocol) for model `m`. */
export function ctx(
  body: Json | undefined,
  over: Partial<RelayContext> = {},
  raw = Buffer.from(JSON.stringify(body ?? {})),
): RelayContext {
  return {
    protocol: 'openai',
    endpoint: '/v1/chat/completions',
    kind: 'chat',
    model: 'm',
    body,
    raw,
    key: null,
    upstreamModel: null,
    reserved: 0,
    outputLimit: null,
    admitted: false,
    inputTokens: null,
    canonical: () => ({ model: 'm', messages: [], ...body }),
    ...over,
  } as unknown as RelayContext;
}
