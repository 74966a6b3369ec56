import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlApp } from '../../src/daemon/control/app.js';
import { buildGatewayApp } from '../../src/daemon/gateway/app.js';
import type { DaemonServices } from '../../src/daemon/service-types.js';
import type { KeyCreated, KeyView } from '../../src/shared/control-api.js';
import {
  expectError,
  injectCall,
  startTestServices,
  stopTestServices,
  type Answer,
} from '../support/control.js';

let home: string;
let services: DaemonServices;
let control: FastifyInstance;
let gateway: FastifyInstance;
/** every answer that is not a create/rotate answer: none may hold a key secret */
const plainBodies: string[] = [];
const secrets: string[] = [];

function call<T = unknown>(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
): Promise<Answer<T>> {
  return injectCall<T>(control, method, url, payload, (res) => {
    const created =
      res.statusCode < 300 && (url === '/v1/keys' ? method === 'POST' : url.endsWith('/rotate'));
    if (!created) plainBodies.push(res.body);
  });
}

/** What the gateway says to this secret: 200, or the refusal's status. */
async function gatewayStatus(secret: string): Promise<number> {
  const res = await gateway.inject({
    method: 'GET',
    url: '/v1/models',
    headers: { authorization: `Bearer ${secret}` },
  });
  return res.statusCode;
}

const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  ({ home, services } = await startTestServices());
  control = await buildControlApp(services);
  gateway = await buildGatewayApp(services);
});

afterAll(async () => {
  await stopTestServices({ home, services }, [control, gateway]);
});

describe('key routes', () => {
  let app: KeyCreated;

  it('creates a key: 201, the secret once, only its hash and prefix stored', async () => {
    const a = await call<KeyCreated>('POST', '/v1/keys', {
      name: 'app',
      budget: 5_000_000,
      models: ['gpt-4o'],
      allow_ips: ['10.0.0.0/8'],
      rpm: 60,
      expires_at: '2099-01-31',
    });
    expect(a.status).toBe(201);
    app = a.body;
    secrets.push(app.key);
    expect(app.key).toMatch(/^sk-bc-[0-9A-Za-z]{32,}$/);
    expect(app).toMatchObject({
      name: 'app',
      prefix: app.key.slice(0, 10),
      group: 'default',
      budget: 5_000_000,
      spent: 0,
      expires_at: '2099-01-31T00:00:00.000Z',
      models: ['gpt-4o'],
      allow_ips: ['10.0.0.0/8'],
      rpm: 60,
      tpm: null,
      concurrency: null,
      status: 'enabled',
      last_used_at: null,
    });
    const stored = await services.store.getKey(app.id);
    expect(stored?.hash).toBe(sha256(app.key));
    expect(JSON.stringify(stored)).not.toContain(app.key);
  });

  it('lists and shows without the secret or its hash; unknown keys are 404', async () => {
    const list = await call<KeyView[]>('GET', '/v1/keys');
    expect(list.body.map((k) => k.name)).toEqual(['app']);
    expect(list.body[0]).not.toHaveProperty('key');
    expect(list.body[0]).not.toHaveProperty('hash');
    expect((await call<KeyView>('GET', '/v1/keys/app')).body.id).toBe(app.id);
    expect((await call<KeyView>('GET', `/v1/keys/${app.id}`)).body.name).toBe('app');
    expectError(await call('GET', '/v1/keys/nobody'), 404, 'not_found', /nobody/);
  });

  it('refuses a duplicate name with 409 and invalid input with 400 naming the field', async () => {
    expectError(await call('POST', '/v1/keys', { name: 'app' }), 409, 'conflict');
    expectError(await call('POST', '/v1/keys', {}), 400, 'invalid_request', /^name /);
    expectError(
      await call('POST', '/v1/keys', { name: 'b', budget: -1 }),
      400,
      'invalid_request',
      /^budget /,
    );
    expectError(await call('POST', '/v1/keys', { name: 'b', rpm: 1.5 }), 400, 'invalid_request', /^rpm /);
    expectError(
      await call('POST', '/v1/keys', { name: 'b', allow_ips: ['10.0.0.0/40'] }),
      400,
      'invalid_request',
      /^allow_ips\[0\] /,
    );
    expectError(
      await call('POST', '/v1/keys', { name: 'b', expires_at: 'soon' }),
      400,
      'invalid_request',
      /^expires_at /,
    );
    expectError(
      await call('POST', '/v1/keys', { name: 'b', concurrency: -2 }),
      400,
      'invalid_request',
      /^concurrency /,
    );
  });

  it('edits the given fields only', async () => {
    const a = await call<KeyView>('PATCH', '/v1/keys/app', { budget: null, tpm: 1000, allow_ips: [] });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ budget: null, tpm: 1000, rpm: 60, allow_ips: [], models: ['gpt-4o'] });
    expectError(await call('PATCH', '/v1/keys/app', { tpm: -1 }), 400, 'invalid_request', /^tpm /);
    expectError(await call('PATCH', '/v1/keys/ghost', { tpm: 1 }), 404, 'not_found');
  });

  it('disable and enable reach the gateway at once', async () => {
    expect(await gatewayStatus(app.key)).toBe(200);
    expect((await call<KeyView>('POST', '/v1/keys/app/disable')).body.status).toBe('disabled');
    expect(await gatewayStatus(app.key)).toBe(403);
    expect((await call<KeyView>('POST', '/v1/keys/app/enable')).body.status).toBe('enabled');
    expect(await gatewayStatus(app.key)).toBe(200);
  });

  it('rotates: a new secret works at once, the old one stops', async () => {
    const a = await call<KeyCreated>('POST', '/v1/keys/app/rotate');
    expect(a.status).toBe(200);
    secrets.push(a.body.key);
    expect(a.body.key).not.toBe(app.key);
    expect(a.body.prefix).toBe(a.body.key.slice(0, 10));
    expect(a.body.id).toBe(app.id);
    expect(await services.store.getKeyByHash(sha256(app.key))).toBeUndefined();
    expect(await gatewayStatus(app.key)).toBe(401);
    expect(await gatewayStatus(a.body.key)).toBe(200);
    app = a.body;
  });

  it('revokes for good: enable, disable and rotate are 409; revoking again is harmless', async () => {
    const r = await call<KeyView>('POST', '/v1/keys/app/revoke');
    expect(r.body.status).toBe('revoked');
    expect(await gatewayStatus(app.key)).not.toBe(200);
    expectError(await call('POST', '/v1/keys/app/enable'), 409, 'conflict', /revoked/);
    expectError(await call('POST', '/v1/keys/app/disable'), 409, 'conflict', /revoked/);
    expectError(await call('POST', '/v1/keys/app/rotate'), 409, 'conflict', /revoked/);
    expect((await call<KeyView>('POST', '/v1/keys/app/revoke')).body.status).toBe('revoked');
    expectError(await call('POST', '/v1/keys/ghost/revoke'), 404, 'not_found');
  });

  it('never showed a key secret outside the create and rotate answers', () => {
    expect(plainBodies.length).toBeGreaterThan(15);
    for (const body of plainBodies) for (const s of secrets) expect(body).not.toContain(s);
  });
});
