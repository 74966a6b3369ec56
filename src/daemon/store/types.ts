/**
 * The Store interface: everything the daemon persists. SQLite implements it now
 * (store/sqlite/); a PostgreSQL implementation can follow without touching callers, which is
 * why every method is async even though better-sqlite3 is synchronous.
 *
 * Secrets: the store never sees a plain upstream secret (it keeps the AES-256-GCM envelope made
 * by daemon/secrets.ts) nor a plain client key (only its SHA-256 hash and a display prefix).
 */
import type {
  ChannelStatus,
  ChannelType,
  KeyStatus,
  LogQuery,
  LogRow,
  LogStats,
  UsageDimension,
} from '../../shared/control-api.js';
import type { StoredChannelFields } from '../../shared/channel-fields.js';
import type { LogCursor, LogExportQuery } from '../../shared/log-export.js';
import type { KeyFields } from '../../shared/key-fields.js';
import type { StoreFault } from './write-health.js';
import type { ImportApplied, PreparedImport } from './import-types.js';
import type { KeyLimit } from './key-limit.js';
import type {
  UserRecord,
  NewUser,
  UserPatch,
  LedgerRecord,
  CreditRequest,
  BalanceChange,
  CreditResult,
  RedeemCodeRecord,
  NewRedeemCodes,
  RedeemCodeQuery,
  RedemptionRecord,
  RedeemRequest,
  RedeemResult,
  InviteRecord,
  NewInvite,
  InvitationRecord,
  SignupRequest,
  SignupResult,
} from './tenant-types.js';
export type * from './tenant-types.js';

/** An export's filters and window, times ISO 8601 UTC (`until` exclusive). */
export type ExportWindow = Omit<LogExportQuery, 'until'> & { until: string };

export interface PrunePreview {
  rows: number;
  oldest: string | null;
  newest: string | null;
}

export interface ChannelSecret {
  /** AES-256-GCM envelope from secrets.ts (never the plain secret) */
  enc: string;
  /** masked form for display, e.g. `sk-...a1b2` */
  masked: string;
  /** per-key auto-disable: null when usable */
  disabledReason: string | null;
}

/**
 * A channel as stored. The fields it takes as validated come from the shared table
 * (shared/channel-fields.ts, via StoredChannelFields): listed here for the reader, and a field the
 * table adds or retypes reaches this record without an edit.
 */
export interface ChannelRecord extends StoredChannelFields {
  id: number;
  name: string;
  type: ChannelType;
  /** null = the type's default base URL */
  baseUrl: string | null;
  models: string[];
  map: Record<string, string>;
  groups: string[];
  priority: number;
  weight: number;
  status: ChannelStatus;
  statusReason: string | null;
  secrets: ChannelSecret[];
  timeoutMs: number;
  region: string | null;
  apiVersion: string | null;
  /** per-type extra settings, free-form JSON */
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type NewChannel = Omit<ChannelRecord, 'id' | 'createdAt' | 'updatedAt'>;
export type ChannelPatch = Partial<Omit<ChannelRecord, 'id' | 'createdAt' | 'updatedAt'>>;

/**
 * A client key as stored. Its settable fields come from the shared table (shared/key-fields.ts,
 * via KeyFields): listed here for the reader, and a field the table adds or retypes reaches this
 * record without an edit. Hash, prefix, spend, status and times are the store's own.
 */
export interface KeyRecord extends KeyFields {
  id: number;
  name: string;
  /** hex SHA-256 of the full secret */
  hash: string;
  /** e.g. `sk-bc-AbC1` (display only) */
  prefix: string;
  group: string;
  /** micro-USD, null = unlimited */
  budget: number | null;
  /** micro-USD, settled spend */
  spent: number;
  expiresAt: string | null;
  models: string[];
  allowIps: string[];
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  status: KeyStatus;
  /** refuse a request whose worst case does not fit instead of lowering its output limit */
  strictBudget: boolean;
  /** the user who owns the key (SPEC section 11), null for an operator's key; never changes */
  userId: number | null;
  /** what a user-owned key may do on /bc/v1/: `relay` (model calls, own usage) or `account` (manage) */
  scope: KeyScope;
  /** who made it: `admin` (bc key create), `self` (the user, on /bc/v1/), `import` (bc import) */
  createdBy: KeyCreator;
  createdAt: string;
  lastUsedAt: string | null;
}

export type KeyScope = 'relay' | 'account';
export type KeyCreator = 'admin' | 'self' | 'import';

export type NewKey = Omit<
  KeyRecord,
  'id' | 'spent' | 'createdAt' | 'lastUsedAt' | 'userId' | 'strictBudget' | 'scope' | 'createdBy'
> & {
  userId?: number | null;
  strictBudget?: boolean;
  scope?: KeyScope;
  createdBy?: KeyCreator;
  /** settled spend carried over (bc import); new keys start at 0 */
  spent?: number;
};
/** The owner, scope and creator of a key never change once it exists. */
export type KeyPatch = Partial<
  Omit<KeyRecord, 'id' | 'createdAt' | 'spent' | 'userId' | 'scope' | 'createdBy'>
>;

export interface PriceRecord {
  model: string;
  /** micro-USD per 1M tokens */
  input: number;
  output: number;
  cacheRead: number | null;
  cacheWrite: number | null;
  /** micro-USD per request */
  perRequest: number | null;
  maxOutputTokens: number | null;
  /** `override` (a `bc price set` row), `catalog@VERSION` or `supplement@DATE` (data/prices.json) */
  source: PriceSource;
  /**
   * Long-context prices (from the catalog): each applies to the whole request when its input
   * tokens exceed `above`; ascending by `above`. Absent or empty: one flat price.
   */
  tiers?: readonly PriceTier[];
}

export type PriceSource = 'override' | `catalog@${string}` | `supplement@${string}`;

/** The prices (micro-USD per 1M tokens) of a request whose input tokens exceed `above`. */
export interface PriceTier {
  above: number;
  input: number;
  output: number;
  cacheRead: number | null;
  cacheWrite: number | null;
}

export interface GroupRecord {
  name: string;
  ratio: number;
}

/**
 * A log row as written by the relay (id assigned by the store). `max_tokens_clamped` may be
 * absent in journal lines written before it existed; absent is stored as null.
 */
export type NewLogRow = Omit<LogRow, 'id' | 'key' | 'channel' | 'max_tokens_clamped'> & {
  key: string | null;
  channel: string | null;
  max_tokens_clamped?: number | null;
};

export interface UsageAggregate {
  name: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** micro-USD of the priced rows; null when every row that spent tokens is unpriced */
  cost: number | null;
  /** rows that spent tokens on an unpriced model (logged with cost null) */
  unpriced: number;
}

/**
 * The durable spend right after a settlement's commit (the commit that charged it, with whatever
 * it was batched with). Spend only grows, so the shared books keep the highest they are told
 * (coord/scripts.ts SETTLE): exact in any order, and a Redis re-seeded from a read taken before
 * the commit is lifted to it rather than missing the cost.
 */
export interface SpendAfter {
  /** the key's spent */
  key?: number;
  /** the spent of the key's user (set when the row charged a user) */
  user?: number;
}

export interface Store {
  /** 'sqlite:/path' or 'postgres://host/db' with the password hidden */
  readonly description: string;

  // channels
  listChannels(): Promise<ChannelRecord[]>;
  getChannel(idOrName: number | string): Promise<ChannelRecord | undefined>;
  /** throws BcError CONFLICT on a duplicate name */
  createChannel(c: NewChannel): Promise<ChannelRecord>;
  updateChannel(id: number, patch: ChannelPatch): Promise<ChannelRecord>;
  deleteChannel(id: number): Promise<boolean>;

  // client keys
  listKeys(): Promise<KeyRecord[]>;
  getKey(idOrName: number | string): Promise<KeyRecord | undefined>;
  getKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  /**
   * With `limit`: creates the key only if its user holds fewer than `limit.maxHeld` keys not
   * revoked, counted and inserted in one transaction under the write lock (exact across daemons
   * and processes), else throws KEY_LIMIT (key-limit.ts).
   */
  createKey(k: NewKey, limit?: KeyLimit): Promise<KeyRecord>;
  updateKey(id: number, patch: KeyPatch): Promise<KeyRecord>;

  // users (SPEC section 11): reads apply journaled settlements first, so balances are current
  listUsers(): Promise<UserRecord[]>;
  getUser(idOrName: number | string): Promise<UserRecord | undefined>;
  /** throws CONFLICT on a taken name; a starting balance is a `topup` ledger row */
  createUser(u: NewUser): Promise<{ user: UserRecord; changes: BalanceChange[] }>;
  /** a rename renames the user's keys (`old/x` -> `new/x`) in the same transaction */
  updateUser(id: number, patch: UserPatch): Promise<UserRecord>;
  /** throws USER_UNMETERED, BALANCE_NEGATIVE, NOT_FOUND; commits balance and ledger row together */
  creditUser(c: CreditRequest): Promise<CreditResult>;
  /** newest first */
  userLedger(userId: number, limit: number): Promise<LedgerRecord[]>;
  /**
   * Deletes a user: revokes their keys, zeroes the balance with an `adjust` row and renames them
   * `deleted-<id>-<name>`, keeping their history.
   */
  removeUser(id: number, actor: string): Promise<{ user: UserRecord; changes: BalanceChange[] }>;
  /** `tenant.settings` in bc_meta, as stored (validated by the caller); null when never set */
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /**
   * Adds one to an integer in bc_meta (absent = 0) in one statement and returns the new value:
   * concurrent callers, in any process or on any node, each get a distinct value.
   */
  bumpMeta(key: string): Promise<number>;

  // redemption codes (SPEC section 11): stored hashed; the codes themselves come back once, here
  createRedeemCodes(c: NewRedeemCodes): Promise<{ record: RedeemCodeRecord; code: string }[]>;
  listRedeemCodes(q: RedeemCodeQuery): Promise<RedeemCodeRecord[]>;
  /** by id, by prefix (CONFLICT when several codes share it) or by the whole code */
  getRedeemCode(ref: number | string): Promise<RedeemCodeRecord | undefined>;
  redemptions(codeId: number): Promise<RedemptionRecord[]>;
  revokeRedeemCode(id: number): Promise<RedeemCodeRecord>;
  /** revokes the batch's codes still redeemable; NOT_FOUND when no code has that batch */
  revokeRedeemBatch(batch: string): Promise<number>;
  /**
   * One transaction: a use of the code, the redemption row, the credit and its ledger row. Throws
   * RedeemInvalidError (REDEEM_INVALID with a `reason`), USER_DISABLED, USER_UNMETERED, NOT_FOUND.
   */
  redeem(r: RedeemRequest): Promise<RedeemResult>;

  // prices (the user's overrides of the catalog, source 'override') and groups
  listPrices(): Promise<PriceRecord[]>;
  getPrice(model: string): Promise<PriceRecord | undefined>;
  setPrice(p: PriceRecord): Promise<PriceRecord>;
  deletePrice(model: string): Promise<boolean>;
  listGroups(): Promise<GroupRecord[]>;
  setGroup(g: GroupRecord): Promise<GroupRecord>;

  // invitations (SPEC section 11): admin invites (hashed), referral codes, signup, payouts
  createInvite(i: NewInvite): Promise<{ invite: InviteRecord; code: string }>;
  listInvites(): Promise<InviteRecord[]>;
  /** by id, by the whole code or by its display prefix (CONFLICT when several share it) */
  getInvite(ref: number | string): Promise<InviteRecord | undefined>;
  revokeInvite(id: number): Promise<InviteRecord>;
  /** newest first */
  listInvitations(): Promise<InvitationRecord[]>;
  /** the user's public referral code, made on first ask */
  referralCode(userId: number): Promise<string>;
  /**
   * One transaction: a use of the invite (or the referral code's inviter), the user, their first
   * key (scope account) and the invitation, paid at once when it pays at signup. Throws
   * SIGNUP_CLOSED, INVITE_INVALID (one answer for every reason), RATE_LIMITED, CONFLICT.
   */
  signup(s: SignupRequest): Promise<SignupResult>;

  /**
   * Commits one request's log row and adds its cost to the key's spend in one transaction.
   * Resolves only once durable: a settled request survives SIGKILL. A store that learns the
   * spend in the commit (PostgreSQL) fills `after` before resolving; the others leave it empty.
   */
  settle(row: NewLogRow, after?: SpendAfter): Promise<number>;
  queryLogs(q: LogQuery): Promise<LogRow[]>;
  /** One page of `bc logs export`: up to `limit` rows of the window after `after`, by (time, id). */
  exportLogs(q: ExportWindow, after: LogCursor | null, limit: number): Promise<LogRow[]>;
  usage(by: UsageDimension, sinceIso: string): Promise<UsageAggregate[]>;
  /** a tenant's usage (`GET /bc/v1/me/usage`): the rows of the user's keys only, or of one of them */
  userUsage(q: {
    userId: number;
    keyId: number | null;
    by: 'model' | 'key' | 'day';
    since: string;
  }): Promise<UsageAggregate[]>;
  countRequests(): Promise<number>;
  /**
   * Usage rollups (store/sqlite/rollups.ts): moves the per-minute usage buckets of hours ended
   * 48 hours before `nowMs` into hour buckets, and hours of days ended 90 days before into day
   * buckets, one hour or day per transaction (a crash between two loses and doubles nothing);
   * `usage` and `userUsage` answer the same before and after. Returns the hours and days moved.
   */
  rollUpUsage(nowMs: number): Promise<number>;

  /**
   * Log retention (store/retention.ts). Deletes up to `limit` of the oldest rows with a time
   * before `beforeIso` in one short transaction and returns how many went; spend and balances are
   * counters, not sums over rows, so no money moves.
   */
  pruneLogs(beforeIso: string, limit: number): Promise<number>;
  /** How many rows a prune before `beforeIso` would delete, and their oldest and newest time. */
  previewPrune(beforeIso: string): Promise<PrunePreview>;
  /** Gives the space of deleted rows back where the store can (SQLite: shrinks the file). */
  reclaimLogSpace(): Promise<void>;
  /** The log's rows, oldest time and the store's size, without scanning the table. */
  logStats(): Promise<LogStats>;

  /**
   * Null while the store can record requests; else why not (a full or read-only disk). Set by a
   * failed settlement write, cleared by the store's own probe once a write passes again. While
   * set, `settle` rejects at once with BcError STORE_UNAVAILABLE.
   */
  writeFault(): StoreFault | null;
  /** Called when the store starts failing (the fault) and when it recovers (null). */
  onWriteFault(listener: (fault: StoreFault | null) => void): void;

  /** bc import one-api: the whole prepared import in one transaction, skipping what import_map holds */
  applyImport(p: PreparedImport): Promise<ImportApplied>;

  close(): Promise<void>;
}
