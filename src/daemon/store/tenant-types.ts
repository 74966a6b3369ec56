/**
 * The tenant records of the Store (SPEC section 11): users and their ledger, redemption codes,
 * invitations and signup. Money is integer micro-USD. Kept apart from types.ts, which re-exports
 * them, so each file stays one concern; the Store interface itself stays in types.ts.
 */
import type { TenantSettings } from '../../shared/tenant-api.js';
import type { KeyRecord } from './types.js';

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
