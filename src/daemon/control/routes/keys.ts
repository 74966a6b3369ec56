/**
 * Client key routes. A key's secret exists in plain form only in the answer to create and
 * rotate; the store keeps its SHA-256 hash and a display prefix. A revoked key is final: it can
 * be neither re-enabled, disabled nor rotated (409), so a leaked secret cannot come back to life.
 *
 * A key created with `user` belongs to that user for good (SPEC section 11): it is named
 * `user/name`, routes and is priced by the user's group (so its own group cannot be set), and
 * draws on the user's balance as well as its own budget.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, type KeyCreated } from '../../../shared/control-api.js';
import { keyFields } from '../../../shared/key-fields.js';
import { BcError } from '../../../shared/errors.js';
import { generateKeySecret, hashKeySecret, keyPrefix } from '../../secrets.js';
import type { Services } from '../../service-types.js';
import type { KeyPatch, KeyRecord, UserRecord } from '../../store/types.js';
import { mustGetKey, mustGetUser, on, userNames, type ControlContext } from '../context.js';
import { validateKeyCreate, validateKeyEdit, validateKeyOwner } from '../validate.js';
import { keyView } from '../views.js';

export function keyRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.keyList, async (req) => {
    const { user } = req.query as { user?: string };
    const owner = user === undefined ? undefined : await mustGetUser(services, user);
    const names = await userNames(services);
    const keys = await services.store.listKeys();
    return keys.filter((k) => owner === undefined || k.userId === owner.id).map((k) => keyView(k, names));
  });
  on(app, ROUTES.keyShow, async (req) =>
    keyView(await mustGetKey(services, req.params.id), await userNames(services)),
  );

  on(app, ROUTES.keyCreate, async (req, reply) => {
    const { body, user: userRef, scope } = validateKeyOwner(req.body);
    const f = validateKeyCreate(body);
    const owner = userRef === undefined ? null : await mustGetUser(services, userRef);
    if (owner === null && scope !== undefined) {
      throw new BcError('INVALID_REQUEST', 'scope applies only to a key a user owns: give user as well', {
        param: 'scope',
      });
    }
    if (owner !== null && f.group !== undefined && (body as { group?: unknown }).group !== undefined) {
      throw userGroupFixed(owner);
    }
    const secret = generateKeySecret();
    // the table's fields go as they are (shared/key-fields.ts); the secret and status are derived
    const k = await services.store.createKey({
      ...keyFields(f),
      ...(owner === null
        ? {}
        : { name: `${owner.name}/${f.name}`, group: owner.group, userId: owner.id, scope: scope ?? 'relay' }),
      hash: hashKeySecret(secret),
      prefix: keyPrefix(secret),
      status: 'enabled',
    });
    await services.refresh();
    const created: KeyCreated = { ...keyView(k, await userNames(services)), key: secret };
    return reply.status(201).send(created);
  });

  on(app, ROUTES.keyEdit, async (req) => {
    const k = await mustGetKey(services, req.params.id);
    const patch: KeyPatch = keyFields(validateKeyEdit(req.body));
    if (k.userId !== null) {
      const owner = await services.store.getUser(k.userId);
      if (patch.group !== undefined && owner !== undefined) throw userGroupFixed(owner);
      // a user's key keeps its owner's prefix: `--name laptop` names it `alice/laptop`
      if (patch.name !== undefined && owner !== undefined && !patch.name.startsWith(`${owner.name}/`))
        patch.name = `${owner.name}/${patch.name}`;
    }
    return view(services, await change(services, k.id, patch));
  });

  on(app, ROUTES.keyEnable, async (req) => {
    const k = notRevoked(await mustGetKey(services, req.params.id), 're-enabled');
    return view(services, await change(services, k.id, { status: 'enabled' }));
  });

  on(app, ROUTES.keyDisable, async (req) => {
    const k = notRevoked(await mustGetKey(services, req.params.id), 'disabled');
    return view(services, await change(services, k.id, { status: 'disabled' }));
  });

  on(app, ROUTES.keyRevoke, async (req) => {
    const k = await mustGetKey(services, req.params.id);
    return view(services, k.status === 'revoked' ? k : await change(services, k.id, { status: 'revoked' }));
  });

  on(app, ROUTES.keyRotate, async (req) => {
    const k = notRevoked(await mustGetKey(services, req.params.id), 'rotated');
    const secret = generateKeySecret();
    const updated = await change(services, k.id, { hash: hashKeySecret(secret), prefix: keyPrefix(secret) });
    const rotated: KeyCreated = { ...(await view(services, updated)), key: secret };
    return rotated;
  });
}

function userGroupFixed(owner: UserRecord): BcError {
  return new BcError(
    'CONFLICT',
    `a key user "${owner.name}" owns uses the user's group (${owner.group}): change it with \`bc user edit ${owner.name} --group G\``,
    { param: 'group' },
  );
}

async function view(services: Services, k: KeyRecord) {
  return keyView(k, await userNames(services));
}

function notRevoked(k: KeyRecord, action: string): KeyRecord {
  if (k.status === 'revoked') {
    throw new BcError('CONFLICT', `key "${k.name}" is revoked and cannot be ${action}: create a new key`);
  }
  return k;
}

async function change(services: Services, id: number, patch: KeyPatch): Promise<KeyRecord> {
  const updated = await services.store.updateKey(id, patch);
  await services.refresh();
  return updated;
}
