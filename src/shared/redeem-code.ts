/**
 * Redemption and invitation codes (SPEC section 11, TENANTS.md 5.4): `BCR-XXXXX-XXXXX-XXXXX-XXXXX`
 * (20 Crockford base32 characters, 100 random bits) for codes, `BCI-...` for invitations. A code is
 * case-insensitive, dashes and spaces optional, and O/I/L read as 0/1/1, so what a person types
 * from paper still matches. Only `sha256(canonical)` is stored. Codes imported from One API /
 * New API (32 lowercase hex characters) keep working as issued: their canonical form is the
 * trimmed, lowercased string. Pure: the CLI (import) and the daemon share it.
 */
import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BODY_LENGTH = 20;

export type CodeKind = 'BCR' | 'BCI';

/** A new code: the prefix, then 20 random Crockford characters in groups of five. */
export function generateCode(kind: CodeKind): string {
  const bytes = randomBytes(BODY_LENGTH);
  let body = '';
  // 256 is a multiple of 32: each byte's low 5 bits are uniform
  for (const b of bytes) body += CROCKFORD[b & 31];
  return `${kind}-${body.match(/.{5}/g)!.join('-')}`;
}

/** The form that is hashed: One API's hex codes lowercased; ours uppercased, separators removed. */
export function canonicalCode(input: string): string {
  const trimmed = input.trim();
  if (/^[0-9a-fA-F]{32}$/.test(trimmed)) return trimmed.toLowerCase();
  return trimmed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** Hex SHA-256 of the canonical form: what the store keeps and looks up. */
export function hashCode(input: string): string {
  return createHash('sha256').update(canonicalCode(input)).digest('hex');
}

/** The display prefix kept beside the hash: `BCR-7KQ2X` (ours) or the first 6 characters (imported). */
export function codePrefix(code: string): string {
  const c = code.trim();
  return /^BC[RI]-/i.test(c) ? c.slice(0, 9).toUpperCase() : c.slice(0, 6).toLowerCase();
}
