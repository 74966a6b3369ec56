/**
 * A user's name (TENANTS.md 5.2): a letter or digit, then up to 63 letters, digits, `.`, `_` or
 * `-`. No `/`, because a user's keys are named `user/key`; not all digits, because a command names
 * a user by id or by name and an all-digit name would read as an id; not `deleted-...`, the name
 * a removed user is given to free theirs.
 */
import { BcError } from '../../shared/errors.js';

export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `name` cannot name a user, or null when it can. */
export function userNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name === '') return 'is required';
  if (!USER_NAME_PATTERN.test(name)) {
    return 'must start with a letter or digit and hold at most 64 letters, digits, ".", "_" or "-"';
  }
  if (/^\d+$/.test(name)) return 'cannot be all digits (it would read as an id)';
  if (name.toLowerCase().startsWith('deleted-'))
    return 'cannot start with "deleted-" (kept for removed users)';
  return null;
}

/** The name, or INVALID_REQUEST saying what is wrong with it. */
export function validateUserName(name: unknown, param = 'name'): string {
  const problem = userNameProblem(name);
  if (problem !== null) {
    throw new BcError('INVALID_REQUEST', `user ${param} ${problem}, e.g. "alice" or "team-a.bob"`, { param });
  }
  return name as string;
}
