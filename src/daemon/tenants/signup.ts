/**
 * Signing a user up with an invitation (SPEC section 11, TENANTS.md 5.5): the admin's
 * `POST /v1/users` with `invite` and the gateway's self-service `POST /bc/v1/signup` both call
 * `signup`. It draws the first key's secret (only its hash reaches the store, the secret is in the
 * answer once), reads the tenant settings, and lets the store do the rest in one transaction:
 * the invite's use or the referral code's inviter, the signup limits, the user, the key
 * (scope account, named `<user>/default`), the invitation, and its payout when it pays at signup.
 * The committed balance changes then move the gateway's in-memory ledger, which also refreshes
 * the snapshot so the new key works at once.
 */
import { BcError } from '../../shared/errors.js';
import type { SignupAnswer } from '../../shared/tenant-api.js';
import { userView } from '../control/views.js';
import { generateKeySecret, hashKeySecret, keyPrefix } from '../secrets.js';
import type { Services } from '../service-types.js';
import { readTenantSettings } from './settings.js';
import { validateUserName } from './user-name.js';

export interface SignupInput {
  /** an admin invite code, or a user's referral code (signup `invite+referral`) */
  code: unknown;
  name: unknown;
  /** the client's address on the gateway; null from the control socket (signup limits not applied) */
  ip: string | null;
}

export async function signup(services: Services, input: SignupInput): Promise<SignupAnswer> {
  const stored = await readTenantSettings(services.store);
  // `signup` governs the gateway's public route; the operator (control socket, no address) may
  // always sign a user up with an admin invite
  const settings =
    input.ip === null && stored.signup === 'off' ? { ...stored, signup: 'invite' as const } : stored;
  if (settings.signup === 'off') {
    throw new BcError('SIGNUP_CLOSED', 'signup is closed on this gateway: ask its operator for an account');
  }
  const name = validateUserName(input.name);
  if (typeof input.code !== 'string' || input.code.trim() === '') {
    throw new BcError('INVALID_REQUEST', 'an invitation code is required (code)', { param: 'code' });
  }
  const secret = generateKeySecret();
  const r = await services.store.signup({
    code: input.code,
    name,
    ip: input.ip,
    settings,
    keyHash: hashKeySecret(secret),
    keyPrefix: keyPrefix(secret),
  });
  await services.balancesChanged(r.changes);
  const names = new Map<number, string>();
  if (r.user.invitedBy !== null) {
    const inviter = await services.store.getUser(r.user.invitedBy);
    if (inviter !== undefined) names.set(inviter.id, inviter.name);
  }
  return {
    user: userView(r.user, 1, names),
    key: { id: r.key.id, name: r.key.name, prefix: r.key.prefix, scope: 'account', key: secret },
  };
}
