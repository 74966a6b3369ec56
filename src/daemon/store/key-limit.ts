/**
 * The refusal both stores give when a user already holds as many keys as they may (`max_keys`,
 * TENANTS.md 5.6): Store.createKey with `limit` counts and inserts in one transaction that holds
 * the write lock, so the limit is exact across daemons and `--workers` processes. One message for
 * both stores, as the tenant reads it on `POST /bc/v1/me/keys`.
 */
import { BcError } from '../../shared/errors.js';

/** The cap a create must fit: the key's user may hold at most `maxHeld` keys not revoked. */
export interface KeyLimit {
  maxHeld: number;
}

export function keyLimitReached(held: number): BcError {
  return new BcError(
    'KEY_LIMIT',
    `you hold ${held} keys, the most you may: revoke one (POST /bc/v1/me/keys/ID/revoke) first`,
  );
}
