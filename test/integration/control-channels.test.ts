import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlApp } from '../../src/daemon/control/app.js';
import { buildGatewayApp } from '../../src/daemon/gateway/app.js';
import type { DaemonServices } from '../../src/daemon/service-types.js';
import type { ChannelTestResult, ChannelView, KeyCreated, ModelView } from '../../src/shared/control-api.js';
import {
  expectError,
  injectCall,
  startTestServices,
  stopTestServices,
  type Answer,
} from '../support/control.js';

const SECRET_A = 'sk-plainSecretAAAA1111';
const SECRET_B = 'sk-plainSecretBBBB2222';
const SECRET_C = 'sk-plainSecretCCCC3333';
const BEDROCK = 'AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const PLAIN = [SECRET_A, SECRET_B, SECRET_C, BEDROCK];

let home: string;
let services: DaemonServices;
let control: FastifyInstance;
let gateway: FastifyInstance;
let upstream: http.Server;
let upstreamUrl: string;
const upstreamAuth: string[] = [];
const bodies: string[] = [];

function call<T = unknown>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<Answer<T>> {
  return injectCall<T>(control, method, url, payload, (res) => bodies.push(res.body));
}

beforeAll(async () => {
  ({ home, services } = await startTestServices());
  control = await buildControlApp(services);
  gateway = await buildGatewayApp(services);
  upstream = http.createServer((req, res) => {
    upstreamAuth.push(req.headers.authorization ?? '');
    req.resume();
    req.on('end', () => {
      if (req.headers.authorization === `Bearer ${SECRET_C}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: 'Incorrect API key provided',
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'local-model',
          choices: [{ index: 0, message: { role: 'assistant', content: 'p' }, finish_reason: 'length' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => upstream.close(resolve));
  await stopTestServices({ home, services }, [control, gateway]);
});

describe('channel routes', () => {
  let main: ChannelView;

  it('adds a channel: 201, defaults filled, the secret encrypted at rest and only masked in the answer', async () => {
    const a = await call<ChannelView>('POST', '/v1/channels', {
      name: 'main',
      type: 'openai',
      keys: [SECRET_A],
      models: ['gpt-4o'],
    });
    expect(a.status).toBe(201);
    main = a.body;
    expect(main).toMatchObject({
      name: 'main',
      type: 'openai',
      base_url: 'https://api.openai.com/v1',
      models: ['gpt-4o'],
      map: {},
      groups: ['default'],
      priority: 0,
      weight: 1,
      status: 'enabled',
      status_reason: null,
      keys: ['sk-...1111'],
      cooldown_until: null,
    });
    const stored = await services.store.getChannel(main.id);
    const enc = stored?.secrets[0]?.enc ?? '';
    expect(enc).not.toContain(SECRET_A);
    expect(services.secrets.decrypt(enc)).toBe(SECRET_A);
  });

  it('lists and shows by id and by name; unknown ones are 404', async () => {
    const list = await call<ChannelView[]>('GET', '/v1/channels');
    expect(list.status).toBe(200);
    expect(list.body.map((c) => c.name)).toEqual(['main']);
    expect((await call<ChannelView>('GET', `/v1/channels/${main.id}`)).body.name).toBe('main');
    expect((await call<ChannelView>('GET', '/v1/channels/main')).body.id).toBe(main.id);
    expectError(await call('GET', '/v1/channels/999'), 404, 'not_found', /999/);
    expectError(await call('GET', '/v1/channels/nope'), 404, 'not_found', /"nope"/);
  });

  it('refuses a duplicate name with 409', async () => {
    const a = await call('POST', '/v1/channels', {
      name: 'main',
      type: 'openai',
      keys: [SECRET_B],
      models: ['x'],
    });
    expectError(a, 409, 'conflict', /main/);
  });

  it.each([
    [{ name: 'n1', type: 'nope', keys: ['k'], models: ['m'] }, /^type /],
    [{ name: 'n1', type: 'openai-compatible', keys: ['k'], models: ['m'] }, /^base_url .*required/],
    [{ name: 'n1', type: 'openai', keys: ['k'], models: ['m'], base_url: 'file:///etc' }, /^base_url /],
    [{ name: 'n1', type: 'openai', keys: ['k'], models: [] }, /^models /],
    [{ name: 'n1', type: 'openai', keys: ['k'], models: ['m'], weight: 0 }, /^weight /],
    [{ name: 'n1', type: 'openai', keys: ['k'], models: ['m'], priority: 'high' }, /^priority /],
    [{ name: 'n1', type: 'openai', keys: ['k'], models: ['m'], timeout_ms: -5 }, /^timeout_ms /],
    [{ name: 'n1', type: 'openai', keys: ['k'], models: ['m'], map: { a: '' } }, /^map\.a /],
    [{ name: 'n1', type: 'bedrock', keys: ['not-aws'], models: ['m'] }, /^keys\[0\] /],
    [{ name: 'n1', type: 'openai', keys: [], models: ['m'] }, /^keys /],
  ])('refuses invalid input %o with 400 naming the field', async (payload, message) => {
    expectError(await call('POST', '/v1/channels', payload), 400, 'invalid_request', message);
  });

  it('refuses malformed JSON with 400 invalid_json', async () => {
    const res = await control.inject({
      method: 'POST',
      url: '/v1/channels',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('invalid_json');
  });

  it('adds a bedrock channel with its region defaulted', async () => {
    const a = await call<ChannelView>('POST', '/v1/channels', {
      name: 'aws',
      type: 'bedrock',
      keys: [BEDROCK],
      models: ['anthropic.claude-3-haiku'],
    });
    expect(a.status).toBe(201);
    expect(a.body.region).toBe('us-east-1');
    expect(a.body.keys).toEqual(['AKI...EKEY']);
  });

  it('edits: new secrets replace the old ones, other fields kept; errors are 400/404/409', async () => {
    const a = await call<ChannelView>('PATCH', '/v1/channels/main', {
      keys: [SECRET_B],
      weight: 3,
      map: { fast: 'gpt-4o-mini' },
    });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      name: 'main',
      weight: 3,
      keys: ['sk-...2222'],
      models: ['gpt-4o'],
      map: { fast: 'gpt-4o-mini' },
    });
    const stored = await services.store.getChannel(main.id);
    expect(stored?.secrets.map((s) => services.secrets.decrypt(s.enc))).toEqual([SECRET_B]);
    expectError(await call('PATCH', '/v1/channels/main', { weight: 0 }), 400, 'invalid_request', /^weight /);
    expectError(await call('PATCH', '/v1/channels/main', {}), 400, 'invalid_request');
    expectError(await call('PATCH', '/v1/channels/ghost', { weight: 2 }), 404, 'not_found');
    expectError(await call('PATCH', '/v1/channels/main', { name: 'aws' }), 409, 'conflict');
  });

  it('disable and enable take effect in the relay at once', async () => {
    const key = (await call<KeyCreated>('POST', '/v1/keys', { name: 'probe' })).body.key;
    const served = async (): Promise<string[]> => {
      const res = await gateway.inject({
        method: 'GET',
        url: '/v1/models',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.statusCode).toBe(200);
      return res.json<{ data: { id: string }[] }>().data.map((m) => m.id);
    };
    expect(await served()).toContain('gpt-4o');
    const off = await call<ChannelView>('POST', '/v1/channels/main/disable');
    expect(off.body.status).toBe('disabled');
    expect(await served()).not.toContain('gpt-4o');
    const on = await call<ChannelView>('POST', `/v1/channels/${main.id}/enable`);
    expect(on.body).toMatchObject({ status: 'enabled', status_reason: null });
    expect(await served()).toContain('gpt-4o');
    expectError(await call('POST', '/v1/channels/ghost/enable'), 404, 'not_found');
  });

  it('lists every served model with the channels behind it and their upstream model', async () => {
    const models = (await call<ModelView[]>('GET', '/v1/models')).body;
    expect(models.map((m) => m.model)).toEqual(['anthropic.claude-3-haiku', 'fast', 'gpt-4o']);
    expect(models.find((m) => m.model === 'fast')?.channels).toEqual([
      { id: main.id, name: 'main', type: 'openai', upstream_model: 'gpt-4o-mini', status: 'enabled' },
    ]);
    expect(models.find((m) => m.model === 'gpt-4o')?.channels[0]?.upstream_model).toBe('gpt-4o');
  });

  it('tests a channel through its adapter against a real upstream, with the decrypted secret', async () => {
    const local = await call<ChannelView>('POST', '/v1/channels', {
      name: 'local',
      type: 'openai-compatible',
      base_url: upstreamUrl,
      keys: [SECRET_A],
      models: ['local-model'],
    });
    expect(local.status).toBe(201);
    const ok = await call<ChannelTestResult>('POST', '/v1/channels/local/test', {});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, model: 'local-model', status: 200, error: null });
    expect(upstreamAuth.at(-1)).toBe(`Bearer ${SECRET_A}`);

    await call('PATCH', '/v1/channels/local', { keys: [SECRET_C] });
    const bad = await call<ChannelTestResult>('POST', '/v1/channels/local/test', { model: 'local-model' });
    expect(bad.body).toMatchObject({ ok: false, status: 401 });
    expect(bad.body.error).toMatch(/key/i);
    expectError(
      await call('POST', '/v1/channels/local/test', { model: 'other' }),
      400,
      'invalid_request',
      /other/,
    );
    expectError(
      await call('POST', '/v1/channels/local/test', { model: 5 }),
      400,
      'invalid_request',
      /^model /,
    );
  });

  it('removes a channel: answers its last view, then it is gone everywhere', async () => {
    const a = await call<ChannelView>('DELETE', '/v1/channels/aws');
    expect(a.status).toBe(200);
    expect(a.body.name).toBe('aws');
    expectError(await call('GET', '/v1/channels/aws'), 404, 'not_found');
    expectError(await call('DELETE', '/v1/channels/aws'), 404, 'not_found');
    const models = (await call<ModelView[]>('GET', '/v1/models')).body.map((m) => m.model);
    expect(models).not.toContain('anthropic.claude-3-haiku');
  });

  it('never returned a plain or encrypted channel secret in any answer', async () => {
    const stored = await services.store.listChannels();
    const envelopes = stored.flatMap((c) => c.secrets.map((s) => s.enc));
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) {
      for (const secret of [...PLAIN, ...envelopes]) expect(body).not.toContain(secret);
    }
  });
});
