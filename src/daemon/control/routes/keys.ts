/**
 * Client key routes. A key's secret exists in plain form only in the answer to create and
 * rotate; the store keeps its SHA-256 hash and a display prefix. A revoked key is final: it can
 * be neither re-enabled, disabled nor rotated (409), so a leaked secret cannot come back to life.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, type KeyCreated } from '../../../shared/control-api.js';
import { keyFields } from '../../../shared/key-fields.js';
import { BcError } from '../../../shared/errors.js';
import { generateKeySecret, hashKeySecret, keyPrefix } from '../../secrets.js';
import type { Services } from '../../service-types.js';
import type { KeyPatch, KeyRecord } from '../../store/types.js';
import { mustGetKey, on, type ControlContext } from '../context.js';
import { validateKeyCreate, validateKeyEdit } from '../validate.js';
import { keyView } from '../views.js';

export function keyRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.keyList, async () => (await services.store.listKeys()).map(keyView));
  on(app, ROUTES.keyShow, async (req) => keyView(await mustGetKey(services, req.params.id)));

  on(app, ROUTES.keyCreate, async (req, reply) => {
    const f = validateKeyCreate(req.body);
    const secret = generateKeySecret();
    // the table's fields go as they are (shared/key-fields.ts); the secret and status are derived
    const k = await services.store.createKey({
      ...keyFields(f),
      hash: hashKeySecret(secret),
      prefix: keyPrefix(secret),
      status: 'enabled',
    });
    await services.refresh();
    const created: KeyCreated = { ...keyView(k), key: secret };
    return reply.status(201).send(created);
  });

  on(app, ROUTES.keyEdit, async (req) => {
    const k = await mustGetKey(services, req.params.id);
    const patch: KeyPatch = keyFields(validateKeyEdit(req.body));
    return keyView(await change(services, k.id, patch));
  });

  on(app, ROUTES.keyEnable, async (req) => {
    const k = notRevoked(await mustGetKey(services, req.params.id), 're-enabled');
    return keyView(await change(services, k.id, { status: 'enabled' }));
  });

  on(app, ROUTES.keyDisable, async (req) => {
    const k = notRevoked(await mustGetKey(services, req.params.id), 'disabled');
    return keyView(await change(services, k.id, { status: 'disabled' }));
  });

  on(app, ROUTES.keyRevoke, async (req) => {
    const k = await mustGetKey(services, req.params.id);
    return keyView(k.status === 'revoked' ? k : await change(services, k.id, { status: 'revoked' }));
  });

  on(app, ROUTES.keyRotate, async (req) => {
    const k = notRevoked(await mustGetKey(services, req.params.id), 'rotated');
    const secret = generateKeySecret();
    const updated = await change(services, k.id, { hash: hashKeySecret(secret), prefix: keyPrefix(secret) });
    const rotated: KeyCreated = { ...keyView(updated), key: secret };
    return rotated;
  });
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
