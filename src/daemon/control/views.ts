/**
 * Store records -> the JSON views of the control API (snake_case, SPEC section 12). A channel's
 * secrets appear only in their masked form; the encrypted envelopes and key hashes never leave
 * this module. `/v1/models` is derived here too: every model the channels serve, with the
 * channels behind it and the upstream model each one would be asked for.
 */
import { storedToWire, type StoredWire } from '../../shared/channel-fields.js';
import { keyFieldsToWire, type KeyWire } from '../../shared/key-fields.js';
import type {
  ChannelType,
  ChannelView,
  KeyView,
  ModelView,
  PriceView,
  UsageDimension,
  UsageRow,
} from '../../shared/control-api.js';
import type { ChannelRuntimeState } from '../service-types.js';
import type { ChannelRecord, KeyRecord, LedgerRecord, UsageAggregate, UserRecord } from '../store/types.js';
import type { LedgerRowView, UserView } from '../../shared/tenant-api.js';
import type { PriceListing } from '../pricing/listing.js';

export function channelView(
  c: ChannelRecord,
  state: ChannelRuntimeState,
  defaultBaseUrl: (t: ChannelType) => string | null,
): ChannelView {
  // the table's fields under their wire names (shared/channel-fields.ts); typed through
  // ChannelView, so a field the table adds and the view lacks is a compile error
  const fields: Pick<ChannelView, StoredWire> = {
    ...storedToWire(c),
    // an unset base URL is shown as the one the type uses
    base_url: c.baseUrl ?? defaultBaseUrl(c.type) ?? '',
  };
  return {
    id: c.id,
    ...fields,
    status: c.status,
    status_reason: c.statusReason ?? firstKeyReason(c),
    keys: c.secrets.map((s) => s.masked),
    cooldown_until: state.cooldownUntil,
    created_at: c.createdAt,
  };
}

/** A channel still enabled while one of its keys was auto-disabled says so in its reason. */
function firstKeyReason(c: ChannelRecord): string | null {
  const i = c.secrets.findIndex((s) => s.disabledReason !== null);
  if (i < 0) return null;
  const s = c.secrets[i];
  return s === undefined ? null : `key ${s.masked} disabled: ${s.disabledReason ?? ''}`;
}

/**
 * The order KeyView's properties have always had in the JSON (`bc key show --json`); the table's
 * fields sit among the store's own. A property missing here still appears, after these.
 */
const KEY_VIEW_ORDER: readonly (keyof KeyView)[] = [
  'id',
  'name',
  'prefix',
  'group',
  'budget',
  'spent',
  'expires_at',
  'models',
  'allow_ips',
  'rpm',
  'tpm',
  'concurrency',
  'status',
  'strict_budget',
  'user',
  'scope',
  'created_by',
  'created_at',
  'last_used_at',
];

/** `owners`: users' names by id (context.ts userNames), for the key's `user`. */
export function keyView(k: KeyRecord, owners?: ReadonlyMap<number, string>): KeyView {
  // the table's fields under their wire names (shared/key-fields.ts); typed through KeyView, so a
  // field the table adds and the view lacks is a compile error
  const fields: Pick<KeyView, KeyWire> = keyFieldsToWire(k);
  const view: KeyView = {
    ...fields,
    id: k.id,
    prefix: k.prefix,
    spent: k.spent,
    status: k.status,
    user: k.userId === null ? null : (owners?.get(k.userId) ?? String(k.userId)),
    scope: k.scope,
    created_by: k.createdBy,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
  };
  // assigning keeps the order of properties already present and appends the others
  return Object.assign(Object.fromEntries(KEY_VIEW_ORDER.map((p) => [p, undefined])), view);
}

/** One row of the effective price table (pricing/listing.ts); all money null when unpriced. */
export function priceView(l: PriceListing): PriceView {
  const p = l.price;
  return {
    model: l.model,
    input: p?.input ?? null,
    output: p?.output ?? null,
    cache_read: p?.cacheRead ?? null,
    cache_write: p?.cacheWrite ?? null,
    per_request: p?.perRequest ?? null,
    max_output_tokens: p?.maxOutputTokens ?? null,
    source: p?.source ?? 'unpriced',
    tiers: (p?.tiers ?? []).map((t) => ({
      above_input_tokens: t.above,
      input: t.input,
      output: t.output,
      cache_read: t.cacheRead,
      cache_write: t.cacheWrite,
    })),
    catalog_model: l.catalogModel ?? null,
    via: l.via ?? null,
    channels: l.channels,
  };
}

export function usageRow(by: UsageDimension, a: UsageAggregate): UsageRow {
  return {
    [by]: a.name,
    name: a.name,
    requests: a.requests,
    errors: a.errors,
    input_tokens: a.input_tokens,
    output_tokens: a.output_tokens,
    cost: a.cost,
    unpriced_requests: a.unpriced,
  };
}

/** Served models: a channel serves each of its models as is, and each alias of its map. */
export function modelViews(channels: readonly ChannelRecord[]): ModelView[] {
  const byModel = new Map<string, ModelView['channels']>();
  const ordered = [...channels].sort((a, b) => b.priority - a.priority || a.id - b.id);
  for (const c of ordered) {
    const served = new Set([...c.models, ...Object.keys(c.map)]);
    for (const model of served) {
      const list = byModel.get(model) ?? [];
      list.push({
        id: c.id,
        name: c.name,
        type: c.type,
        upstream_model: Object.hasOwn(c.map, model) ? (c.map[model] ?? model) : model,
        status: c.status,
      });
      byModel.set(model, list);
    }
  }
  return [...byModel.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, list]) => ({ model, channels: list }));
}

/** `keys`: the user's keys that are not revoked; `names`: users' names by id (the inviter's). */
export function userView(u: UserRecord, keys: number, names: ReadonlyMap<number, string>): UserView {
  return {
    id: u.id,
    name: u.name,
    group: u.group,
    balance: u.balance,
    spent: u.spent,
    credited: u.credited,
    status: u.status,
    rpm: u.rpm,
    tpm: u.tpm,
    concurrency: u.concurrency,
    max_keys: u.maxKeys,
    keys,
    invited_by: u.invitedBy === null ? null : (names.get(u.invitedBy) ?? String(u.invitedBy)),
    referral_code: u.referralCode,
    note: u.note,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

export function ledgerView(e: LedgerRecord, user: string): LedgerRowView {
  return {
    id: e.id,
    time: e.time,
    user,
    kind: e.kind,
    amount: e.amount,
    balance_after: e.balanceAfter,
    ref: e.ref,
    actor: e.actor,
    note: e.note,
  };
}
