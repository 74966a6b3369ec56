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
  UsageDimension,
} from '../../shared/control-api.js';
import type { StoredChannelFields } from '../../shared/channel-fields.js';
import type { KeyFields } from '../../shared/key-fields.js';
import type { StoreFault } from './write-health.js';
import type { TenantSettings } from '../../shared/tenant-api.js';
import type { ImportApplied, PreparedImport } from './import-types.js';

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

export type UserStatus = 'enabled' | 'disabled' | 'deleted';

/**
 * A tenant (SPEC section 11). Money is micro-USD; `balance` null means unmetered (only key budgets
 * limit the user). For a metered user, balance = sum of the user's ledger rows - spent, always.
 */
export interface UserRecord {
  id: number;
  name: string;
  group: string;
  balance: number | null;
  /** lifetime settled request spend */
  spent: number;
  /** lifetime credits (the positive ledger amounts) */
  credited: number;
  status: UserStatus;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  /** null: the tenant default (settings); counts keys not revoked */
  maxKeys: number | null;
  /** public referral code, null until first asked for */
  referralCode: string | null;
  invitedBy: number | null;
  /** rewarded invitations, the inviter cap's counter */
  referralRewards: number;
  note: string | null;
  signupIp: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  name: string;
  group?: string;
  /** starting balance in micro-USD (written as a `topup` ledger row when above 0); null = unmetered */
  balance: number | null;
  rpm?: number | null;
  tpm?: number | null;
  concurrency?: number | null;
  maxKeys?: number | null;
  note?: string | null;
  invitedBy?: number | null;
  signupIp?: string | null;
  /** who asks, for the ledger row: 'admin', 'key:<id>', 'system' */
  actor?: string;
}

export type UserPatch = Partial<
  Pick<UserRecord, 'name' | 'group' | 'rpm' | 'tpm' | 'concurrency' | 'maxKeys' | 'note' | 'status'>
> & {
  /** true: make the user unmetered (balance null); false: metered, starting from 0 */
  unmetered?: boolean;
};

export type LedgerKind =
  'topup' | 'adjust' | 'redeem' | 'invite_bonus' | 'invite_reward' | 'rebate' | 'import';

export interface LedgerRecord {
  id: number;
  time: string;
  userId: number;
  kind: LedgerKind;
  /** signed micro-USD */
  amount: number;
  /** null for an unmetered user */
  balanceAfter: number | null;
  ref: string | null;
  actor: string;
  note: string | null;
}

/** A credit or debit outside settlement: the user's balance and its ledger row, in one transaction. */
export interface CreditRequest {
  userId: number;
  kind: LedgerKind;
  /** signed micro-USD */
  amount: number;
  note?: string | null;
  ref?: string | null;
  actor: string;
  /** an adjustment may take the balance below zero only when asked to */
  allowNegative?: boolean;
}

/**
 * A committed change of a user's balance. Every store method that credits or debits returns the
 * changes it made, so the gateway's in-memory ledger (budget-ledger.ts) follows them exactly.
 */
export interface BalanceChange {
  userId: number;
  amount: number;
}

export interface CreditResult {
  user: UserRecord;
  entry: LedgerRecord;
  /** every balance this credit changed: the user's, and an inviter's reward when it paid one */
  changes: BalanceChange[];
}

/** A redemption code as stored: only its hash (never returned) and display prefix are kept. */
export interface RedeemCodeRecord {
  id: number;
  prefix: string;
  batch: string | null;
  /** micro-USD credited per use */
  amount: number;
  maxUses: number;
  uses: number;
  /** the only user who may redeem it; null = anyone */
  userId: number | null;
  promo: boolean;
  /** as stored; `used` and `expired` are derived (redeemStatus in sqlite/redeem-codes.ts) */
  status: 'active' | 'revoked';
  expiresAt: string | null;
  createdAt: string;
}

export interface NewRedeemCodes {
  amount: number;
  /** 1..10,000, created in one transaction */
  count: number;
  batch: string | null;
  expiresAt: string | null;
  maxUses: number;
  userId: number | null;
  promo: boolean;
}

export interface RedeemCodeQuery {
  batch?: string;
  status?: 'active' | 'used' | 'expired' | 'revoked';
  userId?: number;
}

export interface RedemptionRecord {
  id: number;
  codeId: number;
  userId: number;
  amount: number;
  time: string;
  ip: string | null;
}

export interface RedeemRequest {
  /** the code as typed (any case, dashes and spaces optional) */
  code: string;
  userId: number;
  ip: string | null;
  /** for the ledger row: 'admin', 'key:<id>' */
  actor: string;
}

export interface RedeemResult {
  amount: number;
  /** the user's balance after the credit (a replay: after the first one) */
  balance: number;
  /** this user had already redeemed this code: the first result, nothing credited again */
  replayed: boolean;
  /** empty on a replay */
  changes: BalanceChange[];
}

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

/** An admin invite as stored (SPEC section 11): the code itself is kept only as its hash. */
export interface InviteRecord {
  id: number;
  prefix: string;
  name: string | null;
  /** the sponsor rewarded for each user it brings, null = none */
  inviterId: number | null;
  /** group of the users it creates, null = `default` */
  group: string | null;
  /** micro-USD: the invitee's starting balance (an `invite_bonus` row) and the sponsor's reward */
  inviteeAmount: number;
  inviterAmount: number;
  maxUses: number;
  uses: number;
  /** as stored; `used` and `expired` are derived (inviteStatus in sqlite/invites.ts) */
  status: 'active' | 'revoked';
  expiresAt: string | null;
  createdAt: string;
}

export type NewInvite = Pick<
  InviteRecord,
  'name' | 'inviterId' | 'group' | 'inviteeAmount' | 'inviterAmount' | 'maxUses' | 'expiresAt'
>;

/** One row per user created through an invite or a referral code; amounts frozen at signup. */
export interface InvitationRecord {
  id: number;
  inviteeId: number;
  inviterId: number | null;
  /** null for a referral signup */
  inviteId: number | null;
  inviteeBonus: number;
  inviterReward: number;
  rewardOn: 'signup' | 'first_credit';
  /** rewarded: paid; capped: the inviter's reward held back by a cap; void: no inviter to pay */
  status: 'pending' | 'rewarded' | 'capped' | 'void';
  rebatePaid: number;
  createdAt: string;
  rewardedAt: string | null;
  signupIp: string | null;
}

export interface SignupRequest {
  /** an admin invite code, or (signup 'invite+referral') a user's referral code */
  code: string;
  /** validated by the caller (tenants/user-name.ts) */
  name: string;
  /** the caller's address on the gateway; null from the control socket (no signup limits) */
  ip: string | null;
  settings: TenantSettings;
  /** the first key's secret, hashed by the caller, which alone sees the secret */
  keyHash: string;
  keyPrefix: string;
  now?: string;
}

export interface SignupResult {
  user: UserRecord;
  key: KeyRecord;
  invitation: InvitationRecord;
  /** the signup payout's credits, when the invitation pays at signup */
  changes: BalanceChange[];
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
  createKey(k: NewKey): Promise<KeyRecord>;
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
   * Resolves only once durable: a settled request survives SIGKILL.
   */
  settle(row: NewLogRow): Promise<number>;
  queryLogs(q: LogQuery): Promise<LogRow[]>;
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
