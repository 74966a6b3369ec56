/**
 * The in-memory tables the request path reads: keys by hash, channels by model in priority
 * tiers, prices and group ratios. Rebuilt from the store on every control-plane change
 * (Services.refresh), so no request ever queries the database before its final log commit.
 * Runtime state that must survive a rebuild (cooldowns, weights, spend) lives elsewhere, keyed by id.
 */
import type {
  ChannelRecord,
  GroupRecord,
  KeyRecord,
  PriceRecord,
  Store,
  UserRecord,
} from '../store/types.js';
import type { SecretBox } from '../secrets.js';
import type { ChannelTarget } from '../providers/types.js';
import { defaultBaseUrl, loadAdapters } from '../registry.js';
import { parseCidr, type Cidr } from './intake/cidr.js';
import { PriceBook, servedModels } from '../pricing/price-book.js';
import { secretRedactor, type Redactor } from './redact.js';

export interface RouteSecret {
  index: number;
  secret: string;
  disabledReason: string | null;
}

export interface RouteChannel {
  record: ChannelRecord;
  target: ChannelTarget;
  secrets: RouteSecret[];
  /** client model -> upstream model (identity for plain models, alias map on top) */
  upstreamModel: Map<string, string>;
  groups: ReadonlySet<string>;
  /** takes this channel's key values out of anything an upstream said back */
  redact: Redactor;
}

export interface Tier {
  priority: number;
  channels: RouteChannel[];
}

export interface RouteKey {
  /** for a user-owned key, `group` is its user's group (routing and group ratio follow the user) */
  record: KeyRecord;
  /** the key's owner (SPEC section 11), null for an operator's key */
  user: UserRecord | null;
  models: ReadonlySet<string> | null;
  nets: Cidr[] | null;
  expiresAtMs: number | null;
}

/** Does a request by this key draw on money: a key budget, or a metered user's balance? */
export function drawsOnMoney(key: RouteKey): boolean {
  return key.record.budget !== null || (key.user !== null && key.user.balance !== null);
}

export interface Snapshot {
  keysByHash: Map<string, RouteKey>;
  /**
   * Secrets already matched against this snapshot (filled by authenticate, successful lookups
   * only, so at most one entry per key): a known client skips the SHA-256. A new snapshot starts
   * empty, so a revoked or rotated key is never served from it.
   */
  keysBySecret: Map<string, RouteKey>;
  keysById: Map<number, RouteKey>;
  usersById: Map<number, UserRecord>;
  channels: RouteChannel[];
  channelsById: Map<number, RouteChannel>;
  /** model -> tiers, highest priority first; enabled channels only */
  tiersByModel: Map<string, Tier[]>;
  /** effective prices: overrides, else the catalog's price in force for the served upstream model */
  prices: PriceBook;
  groupRatios: Map<string, number>;
}

export function emptySnapshot(): Snapshot {
  return {
    keysByHash: new Map(),
    keysBySecret: new Map(),
    keysById: new Map(),
    usersById: new Map(),
    channels: [],
    channelsById: new Map(),
    tiersByModel: new Map(),
    prices: PriceBook.empty(),
    groupRatios: new Map([['default', 1]]),
  };
}

export async function loadSnapshot(store: Store, secrets: SecretBox): Promise<Snapshot> {
  const [channels, keys, prices, groups, users] = await Promise.all([
    store.listChannels(),
    store.listKeys(),
    store.listPrices(),
    store.listGroups(),
    store.listUsers(),
  ]);
  // adapters of channel types configured for the first time (registry.ts)
  await loadAdapters(channels.map((c) => c.type));
  return buildSnapshot(channels, keys, prices, groups, secrets, users);
}

export function buildSnapshot(
  channels: ChannelRecord[],
  keys: KeyRecord[],
  prices: PriceRecord[],
  groups: GroupRecord[],
  secrets: Pick<SecretBox, 'decrypt'>,
  users: readonly UserRecord[] = [],
): Snapshot {
  const snap = emptySnapshot();
  for (const u of users) snap.usersById.set(u.id, u);
  for (const k of keys) {
    const user = k.userId === null ? null : (snap.usersById.get(k.userId) ?? null);
    // a deleted user's keys are revoked with them; a key whose owner is gone is not served
    if (k.userId !== null && user === null) continue;
    const rk: RouteKey = {
      record: user === null ? k : { ...k, group: user.group },
      user,
      models: k.models.length > 0 ? new Set(k.models) : null,
      nets: k.allowIps.length > 0 ? k.allowIps.map(parseCidr) : null,
      expiresAtMs: k.expiresAt ? Date.parse(k.expiresAt) : null,
    };
    snap.keysByHash.set(k.hash, rk);
    snap.keysById.set(k.id, rk);
  }
  for (const c of channels) {
    const rc = routeChannel(c, secrets);
    snap.channels.push(rc);
    snap.channelsById.set(c.id, rc);
    if (c.status !== 'enabled') continue;
    for (const model of rc.upstreamModel.keys()) addToTier(snap.tiersByModel, model, rc);
  }
  for (const tiers of snap.tiersByModel.values()) tiers.sort((a, b) => b.priority - a.priority);
  snap.prices = new PriceBook(prices, servedModels(channels));
  for (const g of groups) snap.groupRatios.set(g.name, g.ratio);
  return snap;
}

function routeChannel(c: ChannelRecord, secrets: Pick<SecretBox, 'decrypt'>): RouteChannel {
  const upstreamModel = new Map<string, string>();
  for (const m of c.models) upstreamModel.set(m, m);
  for (const [alias, target] of Object.entries(c.map)) upstreamModel.set(alias, target);
  const base = c.baseUrl ?? defaultBaseUrl(c.type) ?? '';
  const plain = c.secrets.map((s, index) => ({
    index,
    secret: secrets.decrypt(s.enc),
    disabledReason: s.disabledReason,
  }));
  return {
    record: c,
    target: {
      id: c.id,
      name: c.name,
      type: c.type,
      baseUrl: base.replace(/\/+$/, ''),
      region: c.region,
      apiVersion: c.apiVersion,
      timeoutMs: c.timeoutMs,
      settings: c.settings,
    },
    secrets: plain,
    upstreamModel,
    groups: new Set(c.groups.length > 0 ? c.groups : ['default']),
    redact: secretRedactor(plain.map((s) => s.secret)),
  };
}

function addToTier(map: Map<string, Tier[]>, model: string, rc: RouteChannel): void {
  let tiers = map.get(model);
  if (!tiers) map.set(model, (tiers = []));
  let tier = tiers.find((t) => t.priority === rc.record.priority);
  if (!tier) tiers.push((tier = { priority: rc.record.priority, channels: [] }));
  tier.channels.push(rc);
}
