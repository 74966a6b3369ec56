/**
 * A tenant's own keys on `/bc/v1/me/keys` (account keys only, TENANTS.md 5.6). A key a tenant makes
 * is always `scope=relay`, `created_by=self`, named `<user>/<name>`, and stays inside what the
 * user may do: its rpm, tpm and concurrency at most the user's own caps, its models at most those
 * of the key making the call (when that key has a list), and no more keys than the user's
 * `max_keys` (else the tenant default), counting keys not revoked: the store counts and inserts in
 * one transaction holding the write lock (Store.createKey's `limit`), so two daemons, or two
 * `--workers` processes, creating at once cannot both fit. A key cannot disable or revoke
 * itself (409 cannot_revoke_self), so a tenant cannot lock themselves out by accident. Another
 * user's key, or an operator's, is answered 404 as if it did not exist.
 *
 * Bodies are validated by the control plane's key parsers (validate-key.ts) after the field list
 * is narrowed to what a tenant may set. Every change refreshes the gateway's snapshot.
 */
import { BcError } from '../../../shared/errors.js';
import { keyFields, type KeyFields } from '../../../shared/key-fields.js';
import { SELF_KEY_FIELDS, SELF_ROUTES, type SelfKeyCreated } from '../../../shared/self-service-api.js';
import { generateKeySecret, hashKeySecret, keyPrefix } from '../../secrets.js';
import type { KeyPatch, KeyRecord, UserRecord } from '../../store/types.js';
import { keyView } from '../../control/views.js';
import { validateKeyCreate, validateKeyEdit } from '../../control/validate-key.js';
import * as f from '../../control/validate-fields.js';
import { currentUser, ownKey, parseBody, type Caller, type SelfRouter } from './self-service-context.js';

const CAPPED = ['rpm', 'tpm', 'concurrency'] as const;

export function registerSelfKeyRoutes(router: SelfRouter): void {
  const { services } = router;
  const { store } = services;

  router.on(SELF_ROUTES.keyList, 'A', async (_req, c) => {
    const user = await currentUser(services, c);
    const keys = (await store.listKeys()).filter((k) => k.userId === user.id);
    return keys.map((k) => view(k, user));
  });

  router.on(SELF_ROUTES.keyCreate, 'A', async (req, c, reply) => {
    const body = f.bodyObject(parseBody(req.body), SELF_KEY_FIELDS);
    const fields = validateKeyCreate(body);
    // without a list of its own, a key made by a key limited to some models gets that limit
    if (!f.has(body, 'models') && c.key.models !== null) fields.models = [...c.key.models];
    checkLimits(fields, c);
    const user = await currentUser(services, c);
    const secret = generateKeySecret();
    // the store counts and inserts in one locked transaction: exact across daemons and processes
    const k = await store.createKey(
      {
        ...keyFields(fields),
        name: `${user.name}/${fields.name}`,
        group: user.group,
        userId: user.id,
        scope: 'relay',
        createdBy: 'self',
        hash: hashKeySecret(secret),
        prefix: keyPrefix(secret),
        status: 'enabled',
      },
      { maxHeld: user.maxKeys ?? c.settings.default_max_keys },
    );
    await services.refresh();
    const created: SelfKeyCreated = { ...view(k, user), key: secret };
    return reply.status(201).send(created);
  });

  router.on(SELF_ROUTES.keyEdit, 'A', async (req, c) => {
    const user = await currentUser(services, c);
    const k = await ownKey(services, user, param(req.params));
    const body = f.bodyObject(parseBody(req.body), SELF_KEY_FIELDS);
    const patch: KeyPatch = keyFields(validateKeyEdit(body));
    checkLimits(patch, c);
    // a user's key keeps its owner's prefix
    if (patch.name !== undefined) patch.name = `${user.name}/${patch.name}`;
    return view(await change(k.id, patch), user);
  });

  router.on(SELF_ROUTES.keyEnable, 'A', async (req, c) => {
    const { k, user } = await target(req.params, c, 're-enabled');
    return view(await change(k.id, { status: 'enabled' }), user);
  });

  router.on(SELF_ROUTES.keyDisable, 'A', async (req, c) => {
    const { k, user } = await target(req.params, c, 'disabled');
    notSelf(k, c, 'disable');
    return view(await change(k.id, { status: 'disabled' }), user);
  });

  router.on(SELF_ROUTES.keyRevoke, 'A', async (req, c) => {
    const user = await currentUser(services, c);
    const k = await ownKey(services, user, param(req.params));
    notSelf(k, c, 'revoke');
    return view(k.status === 'revoked' ? k : await change(k.id, { status: 'revoked' }), user);
  });

  router.on(SELF_ROUTES.keyRotate, 'A', async (req, c) => {
    const { k, user } = await target(req.params, c, 'rotated');
    const secret = generateKeySecret();
    const updated = await change(k.id, { hash: hashKeySecret(secret), prefix: keyPrefix(secret) });
    return { ...view(updated, user), key: secret } satisfies SelfKeyCreated;
  });

  /** One of the caller's user's keys that is not revoked. */
  async function target(
    params: unknown,
    c: Caller,
    action: string,
  ): Promise<{ k: KeyRecord; user: UserRecord }> {
    const user = await currentUser(services, c);
    const k = await ownKey(services, user, param(params));
    if (k.status === 'revoked') {
      throw new BcError('CONFLICT', `key "${k.name}" is revoked and cannot be ${action}: create a new key`);
    }
    return { k, user };
  }

  async function change(id: number, patch: KeyPatch): Promise<KeyRecord> {
    const updated = await store.updateKey(id, patch);
    await services.refresh();
    return updated;
  }
}

function view(k: KeyRecord, user: UserRecord) {
  return keyView(k, new Map([[user.id, user.name]]));
}

function param(params: unknown): string {
  return f.text((params as { id?: unknown }).id, 'id', 200);
}

function notSelf(k: KeyRecord, c: Caller, verb: 'disable' | 'revoke'): void {
  if (k.id !== c.key.record.id) return;
  throw new BcError(
    'CANNOT_REVOKE_SELF',
    `a key cannot ${verb} itself (you would lock yourself out): call with another account key, or ask the operator`,
  );
}

/** Limits within the user's own caps; models within the calling key's own list, if it has one. */
function checkLimits(fields: Partial<KeyFields>, c: Caller): void {
  for (const w of CAPPED) {
    const cap = c.user[w];
    const v = fields[w];
    if (cap !== null && v !== undefined && v !== null && v > cap) {
      throw f.invalid(w, `must be at most ${cap}, your user's own ${w} limit`);
    }
  }
  const allowed = c.key.models;
  if (fields.models === undefined || allowed === null) return;
  const list = [...allowed].join(', ');
  if (fields.models.length === 0) {
    throw f.invalid('models', `must name models: the key making the call may use only ${list}`);
  }
  const outside = fields.models.filter((m) => !allowed.has(m));
  if (outside.length > 0) {
    throw f.invalid(
      'models',
      `may only narrow the calling key's models (${list}): ${outside.join(', ')} is not among them`,
    );
  }
}
