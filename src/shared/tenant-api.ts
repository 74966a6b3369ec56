/**
 * The tenant objects of the control API (SPEC section 11, field names of section 12): users and
 * their ledger, redemption codes, invitations and the tenant-wide settings. Money is integer
 * micro-USD, times ISO 8601 UTC. Pure types: the CLI, the TUIs and the daemon import them.
 */

export type UserStatusView = 'enabled' | 'disabled';

export interface UserView {
  id: number;
  name: string;
  group: string;
  /** micro-USD left; null = unmetered (only key budgets limit the user) */
  balance: number | null;
  /** lifetime settled request spend, micro-USD */
  spent: number;
  /** lifetime credits (top-ups, codes, rewards), micro-USD */
  credited: number;
  status: UserStatusView | 'deleted';
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  /** null: the tenant default (`bc tenant settings --default-max-keys`) */
  max_keys: number | null;
  /** keys the user owns that are not revoked */
  keys: number;
  /** the inviter's name, null when none */
  invited_by: string | null;
  referral_code: string | null;
  note: string | null;
  created_at: string;
  updated_at: string;
}

export interface UserInput {
  name?: string;
  group?: string;
  /** micro-USD starting balance (create only); with `unmetered` absent or false */
  balance?: number;
  unmetered?: boolean;
  rpm?: number | null;
  tpm?: number | null;
  concurrency?: number | null;
  max_keys?: number | null;
  note?: string | null;
  /** create only: sign the user up with an invitation code (its group and starting balance) */
  invite?: string;
}

export type LedgerKindView =
  'topup' | 'adjust' | 'redeem' | 'invite_bonus' | 'invite_reward' | 'rebate' | 'import';

export interface LedgerRowView {
  id: number;
  time: string;
  user: string;
  kind: LedgerKindView;
  /** signed micro-USD */
  amount: number;
  /** null for an unmetered user */
  balance_after: number | null;
  ref: string | null;
  actor: string;
  note: string | null;
}

/** `POST /v1/users/:id/credit`: a top-up (paid credit) or an adjustment (either sign). */
export interface CreditInput {
  kind: 'topup' | 'adjust';
  /** micro-USD; a top-up is positive */
  amount: number;
  note?: string | null;
  /** an adjustment may take the balance below zero only with this */
  allow_negative?: boolean;
}

export interface CreditAnswer {
  user: UserView;
  entry: LedgerRowView;
}

export type RedeemStatus = 'active' | 'used' | 'expired' | 'revoked';

export interface RedeemCodeView {
  id: number;
  /** display only, e.g. `BCR-7KQ2X` */
  prefix: string;
  batch: string | null;
  /** micro-USD credited per use */
  amount: number;
  max_uses: number;
  uses: number;
  /** the only user who may redeem it, null = anyone */
  user: string | null;
  /** free credit: never triggers invitation rewards */
  promo: boolean;
  status: RedeemStatus;
  expires_at: string | null;
  created_at: string;
}

export interface RedeemCodeInput {
  /** micro-USD per use */
  amount: number;
  /** 1..10,000 */
  count?: number;
  batch?: string | null;
  expires_at?: string | null;
  uses?: number;
  user?: string | null;
  promo?: boolean;
}

/** The answer to creating codes: the only time the codes themselves are shown. */
export interface RedeemCodesCreated {
  batch: string | null;
  amount: number;
  codes: (RedeemCodeView & { code: string })[];
}

/** `POST /v1/redeem` (admin, on a user's behalf) and `POST /bc/v1/me/redeem` (the tenant). */
export interface RedeemAnswer {
  amount: number;
  /** the user's balance after it */
  balance: number;
  /** true: this user had already redeemed this code; the first result, nothing credited again */
  replayed: boolean;
}

export type InviteStatus = 'active' | 'used' | 'expired' | 'revoked';

export interface InviteView {
  id: number;
  prefix: string;
  name: string | null;
  /** the sponsor rewarded when an invitee pays, null = none */
  inviter: string | null;
  /** group of the users it creates, null = `default` */
  group: string | null;
  invitee_amount: number;
  inviter_amount: number;
  max_uses: number;
  uses: number;
  status: InviteStatus;
  expires_at: string | null;
  created_at: string;
}

export interface InviteInput {
  name?: string | null;
  inviter?: string | null;
  group?: string | null;
  invitee_amount?: number;
  inviter_amount?: number;
  uses?: number;
  expires_at?: string | null;
}

export interface InviteCreated extends InviteView {
  code: string;
}

export interface InvitationView {
  id: number;
  invitee: string;
  inviter: string | null;
  invite: number | null;
  status: 'pending' | 'rewarded' | 'capped' | 'void';
  invitee_bonus: number;
  inviter_reward: number;
  rebate_paid: number;
  created_at: string;
  rewarded_at: string | null;
}

/** Tenant-wide policy (`bc tenant settings`), one JSON document. Money in micro-USD. */
export interface TenantSettings {
  /** mounts /bc/v1/* on the gateway port */
  self_service: boolean;
  signup: 'off' | 'invite' | 'invite+referral';
  default_max_keys: number;
  referral: {
    invitee_amount: number;
    inviter_amount: number;
    reward_on: 'signup' | 'first_credit';
    min_credit: number;
    inviter_max: number;
    inviter_daily_max: number;
    rebate_percent: number;
    rebate_cap: number;
  };
  signups_per_ip_per_day: number;
  signups_per_day: number;
  redeem_failures_per_10m: number;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  self_service: false,
  signup: 'off',
  default_max_keys: 20,
  referral: {
    invitee_amount: 0,
    inviter_amount: 0,
    reward_on: 'first_credit',
    min_credit: 5_000_000,
    inviter_max: 50,
    inviter_daily_max: 5,
    rebate_percent: 0,
    rebate_cap: 0,
  },
  signups_per_ip_per_day: 3,
  signups_per_day: 200,
  redeem_failures_per_10m: 10,
};

/** A partial update of the settings: any subset, `referral` merged field by field. */
export type TenantSettingsInput = Partial<Omit<TenantSettings, 'referral'>> & {
  referral?: Partial<TenantSettings['referral']>;
};

/** `POST /bc/v1/signup` and `bc user create --invite`: the new user and their first key. */
export interface SignupAnswer {
  user: UserView;
  /** the first key (scope account), its secret shown once */
  key: { id: number; name: string; prefix: string; scope: 'account'; key: string };
}
