/**
 * What the self-service route files share (routes/self-service.ts registers them): the
 * authenticated caller, the router that registers a route with its access rule, and the readers
 * every handler uses: the JSON body, the query string, the caller's user as stored now, and one of
 * that user's keys by id or name (anything else is 404, so another user's keys cannot be probed).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BcError } from '../../../shared/errors.js';
import type { TenantSettings } from '../../../shared/tenant-api.js';
import type { DaemonServices } from '../../service-types.js';
import type { KeyRecord, UserRecord } from '../../store/types.js';
import * as f from '../../control/validate-fields.js';
import type { RouteKey } from '../snapshot.js';

/** Who is calling, once authenticated: their key (from the snapshot) and the user who owns it. */
export interface Caller {
  key: RouteKey;
  user: UserRecord;
  settings: TenantSettings;
  ip: string;
}

/** Who may call a route: anyone (signup), any key of a user (R), or account keys only (A). */
export type Access = 'none' | 'R' | 'A';

export type SelfHandler = (req: FastifyRequest, caller: Caller, reply: FastifyReply) => Promise<unknown>;
export type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface SelfRouter {
  services: DaemonServices;
  /** a route for a user's key: R any of them, A account keys only */
  on(route: string, access: 'R' | 'A', handler: SelfHandler): void;
  /** a route without a key (signup) */
  open(route: string, handler: Handler): void;
}

export function scopeRequired(what: string): BcError {
  return new BcError(
    'SCOPE_REQUIRED',
    `${what} needs an account key (scope account): this key may call models and read its own usage and logs only`,
  );
}

/** The raw body (a Buffer, see app.ts) as JSON; none reads as undefined. */
export function parseBody(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BcError('INVALID_JSON', 'the request body is not valid JSON');
  }
}

/** The query string's parameters, each given once, none unknown. */
export function queryOf<K extends string>(query: unknown, allowed: readonly K[]): Partial<Record<K, string>> {
  const raw = query === undefined || query === null ? {} : (query as Record<string, unknown>);
  const out: Partial<Record<K, string>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(allowed as readonly string[]).includes(k))
      throw f.invalid(k, `is not a known parameter (known: ${allowed.join(', ')})`);
    if (typeof v !== 'string') throw f.invalid(k, 'must be given once');
    out[k as K] = v;
  }
  return out;
}

/** The user as stored now (balance and spend settled so far); the snapshot's copy if it is gone. */
export async function currentUser(services: DaemonServices, c: Caller): Promise<UserRecord> {
  return (await services.store.getUser(c.user.id)) ?? c.user;
}

/**
 * One of the user's own keys, by id, by its full name (`alice/laptop`) or by the part after the
 * user's name (`laptop`). Another user's key, an operator's key and no key at all are one answer.
 */
export async function ownKey(services: DaemonServices, user: UserRecord, ref: string): Promise<KeyRecord> {
  const { store } = services;
  const tries: (number | string)[] = ref.includes('/') ? [ref] : [`${user.name}/${ref}`];
  if (/^\d+$/.test(ref)) tries.push(Number(ref));
  for (const t of tries) {
    const k = await store.getKey(t);
    if (k !== undefined && k.userId === user.id) return k;
  }
  throw new BcError('NOT_FOUND', `you have no key "${ref}": GET /bc/v1/me/keys lists yours`);
}
