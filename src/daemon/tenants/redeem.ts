/**
 * Redeeming a code for a user (SPEC section 11, TENANTS.md 5.4), shared by the admin's route
 * (`POST /v1/redeem`, control/routes/redeem.ts) and the tenant's own (`POST /bc/v1/me/redeem`).
 * Both run the store's one-transaction redemption, then move the gateway's in-memory balances by
 * exactly what it committed. They differ in what a failure says: the admin learns the exact reason
 * (unknown, used up and by whom, expired, revoked, bound to another user); a tenant gets one
 * answer for all of them, so the endpoint tells a guesser nothing.
 */
import { BcError } from '../../shared/errors.js';
import type { RedeemAnswer } from '../../shared/tenant-api.js';
import type { Services } from '../service-types.js';
import type { RedeemRequest } from '../store/types.js';

/** The one message a tenant gets for every reason a code cannot be redeemed. */
export const REDEEM_GENERIC_MESSAGE = 'this code cannot be redeemed';

/** A code as sent: a string of sane length (the store canonicalises it). */
function codeText(code: unknown): string {
  if (typeof code !== 'string' || code.trim() === '')
    throw new BcError('INVALID_REQUEST', 'code must be a non-empty string', { param: 'code' });
  if (code.length > 200)
    throw new BcError('INVALID_REQUEST', 'code must be at most 200 characters', { param: 'code' });
  return code;
}

/**
 * Redeems with the exact reason on failure (RedeemInvalidError, REDEEM_INVALID with `reason`), or
 * USER_DISABLED, USER_UNMETERED, NOT_FOUND: the admin's route.
 */
export async function redeemAsAdmin(services: Services, r: RedeemRequest): Promise<RedeemAnswer> {
  const result = await services.store.redeem({ ...r, code: codeText(r.code) });
  if (result.changes.length > 0) await services.balancesChanged(result.changes);
  return { amount: result.amount, balance: result.balance, replayed: result.replayed };
}

/**
 * The tenant's redemption (`POST /bc/v1/me/redeem`): as the admin's, but every REDEEM_INVALID
 * becomes the same `this code cannot be redeemed`. A retry of a code this user already redeemed
 * answers 200 with the first result and `replayed: true`.
 */
export async function redeemForUser(
  services: Services,
  r: { code: unknown; userId: number; ip: string | null; actor: string },
): Promise<RedeemAnswer> {
  const code = codeText(r.code);
  try {
    return await redeemAsAdmin(services, { code, userId: r.userId, ip: r.ip, actor: r.actor });
  } catch (e) {
    if (e instanceof BcError && e.code === 'REDEEM_INVALID')
      throw new BcError('REDEEM_INVALID', REDEEM_GENERIC_MESSAGE);
    throw e;
  }
}
