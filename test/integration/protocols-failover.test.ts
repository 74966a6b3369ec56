/**
 * Issue 4, resilience across protocols: failover from an Anthropic channel to a Gemini channel
 * inside one request (529 overloaded, and `event: error` overloaded after HTTP 200 before any
 * content) for OpenAI and Anthropic clients; a Gemini 400 API_KEY_INVALID auto-disables its
 * channel with the reason shown; Bedrock throttling is retried; an Azure content-filter 400 is
 * passed back untouched and not retried; a field that cannot be carried is named in the log row.
 * Every assertion on failover counts the calls each simulator received.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { AZURE_CONTENT_FILTER_BODY, startAzureSim } from '../support/sim/azure-sim.js';
import { BEDROCK_SIM_CREDENTIALS, startBedrockSim } from '../support/sim/bedrock-sim.js';
import type { ChannelView, LogRow } from '../../src/shared/control-api.js';

const MESSAGES = '/v1/messages';
const BEDROCK_KEY = `${BEDROCK_SIM_CREDENTIALS.accessKeyId}:${BEDROCK_SIM_CREDENTIALS.secretAccessKey}`;

let gw: TestGateway;
let secret: string;
let openai: OpenAI;
let anthropic: Anthropic;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  gw = await startGateway();
  secret = await gw.createKey();
  openai = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: secret, baseURL: gw.url, maxRetries: 0 });
});

afterEach(async () => {
  await gw.close();
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

/** An Anthropic channel tried first and a Gemini channel behind it, both serving model `m`. */
async function anthropicThenGemini(): Promise<{ an: AnthropicSim; ge: GeminiSim }> {
  const an = await startAnthropicSim();
  const ge = await startGeminiSim();
  closers.push(
    () => an.close(),
    () => ge.close(),
  );
  const keys = ['sk-upstream-0000000000'];
  await gw.addChannel({
    name: 'an',
    type: 'anthropic',
    keys,
    models: ['m'],
    map: { m: 'claude-sonnet-4-5' },
    base_url: an.url,
    priority: 10,
  });
  await gw.addChannel({
    name: 'ge',
    type: 'gemini',
    keys,
    models: ['m'],
    map: { m: 'gemini-2.5-flash' },
    base_url: ge.url,
  });
  return { an, ge };
}

async function openaiSim(): Promise<OpenAISim> {
  const s = await startOpenAISim();
  closers.push(() => s.close());
  return s;
}

async function openaiText(stream: boolean): Promise<string> {
  const messages = [{ role: 'user' as const, content: 'hi' }];
  if (!stream)
    return (await openai.chat.completions.create({ model: 'm', messages })).choices[0]?.message.content ?? '';
  let text = '';
  for await (const c of await openai.chat.completions.create({ model: 'm', messages, stream: true }))
    text += c.choices[0]?.delta.content ?? '';
  return text;
}

async function anthropicText(stream: boolean): Promise<string> {
  const params = { model: 'm', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };
  const msg = stream
    ? await anthropic.messages.stream(params).finalMessage()
    : await anthropic.messages.create(params);
  return msg.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

describe('Anthropic overloaded -> Gemini, in one request', () => {
  for (const [client, ask] of [
    ['OpenAI', openaiText],
    ['Anthropic', anthropicText],
  ] as const) {
    for (const stream of [false, true]) {
      it(`${client} client, ${stream ? 'stream' : 'non-stream'}: 529 fails over`, async () => {
        const { an, ge } = await anthropicThenGemini();
        an.fault({ kind: 'status', status: 529 });
        expect(await ask(stream)).toBe(DEFAULT_SIM_TEXT);
        expect(an.callCount(MESSAGES)).toBe(1);
        expect(ge.callCount(stream ? ':streamGenerateContent' : ':generateContent')).toBe(1);
        const row = await lastLog();
        expect(row).toMatchObject({ channel: 'ge', status: 200, retries: 1, stream });
        // a 529 is the upstream's load, not a broken account: the channel stays enabled
        const channels = await gw.call<ChannelView[]>('GET', '/v1/channels');
        expect(channels.find((c) => c.name === 'an')?.status).toBe('enabled');
      });
    }

    for (const afterFrames of [0, 1]) {
      const opening = afterFrames === 0 ? 'first frame' : 'after message_start';
      it(`${client} client: event: error overloaded after HTTP 200 (${opening}) fails over`, async () => {
        const { an, ge } = await anthropicThenGemini();
        an.fault({ kind: 'streamError', afterFrames, errorType: 'overloaded_error', message: 'Overloaded' });
        expect(await ask(true)).toBe(DEFAULT_SIM_TEXT);
        expect(an.callCount(MESSAGES)).toBe(1);
        expect(ge.callCount(':streamGenerateContent')).toBe(1);
        expect(await lastLog()).toMatchObject({ channel: 'ge', status: 200, retries: 1, stream: true });
      });
    }
  }
});

describe('after the answer began', () => {
  it('an overloaded error is delivered in-stream, not retried (Anthropic passthrough)', async () => {
    const { an, ge } = await anthropicThenGemini();
    // message_start, content_block_start, ping, one text delta, then the error event
    an.fault({ kind: 'streamError', afterFrames: 4, errorType: 'overloaded_error', message: 'Overloaded' });
    const stream = anthropic.messages.stream({
      model: 'm',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    stream.on('text', (t) => (text += t));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('overloaded_error');
    expect(text.length).toBeGreaterThan(0);
    expect(an.callCount(MESSAGES)).toBe(1);
    expect(ge.callCount()).toBe(0);
  });
});

describe('channel-specific failures', () => {
  it('Gemini 400 API_KEY_INVALID auto-disables the channel with the reason, and traffic moves on', async () => {
    const ge = await startGeminiSim({ keys: ['AIza-good'] });
    const oa = await openaiSim();
    closers.push(() => ge.close());
    await gw.addChannel({
      name: 'ge',
      type: 'gemini',
      keys: ['AIza-revoked'],
      models: ['m'],
      base_url: ge.url,
      priority: 10,
    });
    await gw.addChannel({ name: 'oa', type: 'openai', keys: ['sk-oa'], models: ['m'], base_url: oa.url });
    expect(await openaiText(false)).toBe(DEFAULT_SIM_TEXT);
    expect(ge.callCount(':generateContent')).toBe(1);
    expect(oa.callCount('/chat/completions')).toBe(1);
    const ch = (await gw.call<ChannelView[]>('GET', '/v1/channels')).find((c) => c.name === 'ge')!;
    expect(ch.status).toBe('auto_disabled');
    expect(ch.status_reason).toMatch(/API_KEY_INVALID|API key not valid/);
    expect(await openaiText(true)).toBe(DEFAULT_SIM_TEXT);
    expect(ge.callCount()).toBe(1);
    expect(oa.callCount('/chat/completions')).toBe(2);
  });

  for (const inStream of [false, true]) {
    it(`Bedrock throttling is retried on the next channel (${inStream ? 'in-stream exception' : 'HTTP 429'})`, async () => {
      const br = await startBedrockSim();
      const oa = await openaiSim();
      closers.push(() => br.close());
      await gw.addChannel({
        name: 'br',
        type: 'bedrock',
        keys: [BEDROCK_KEY],
        models: ['m'],
        map: { m: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
        region: br.region,
        base_url: br.url,
        priority: 10,
      });
      await gw.addChannel({ name: 'oa', type: 'openai', keys: ['sk-oa'], models: ['m'], base_url: oa.url });
      const message = 'Too many requests, please wait before trying again.';
      br.fault(
        inStream
          ? { kind: 'exception', afterFrames: 0, exceptionType: 'throttlingException', message }
          : { kind: 'status', status: 429, errorType: 'ThrottlingException', message },
      );
      expect(await anthropicText(inStream)).toBe(DEFAULT_SIM_TEXT);
      expect(br.callCount(inStream ? 'converse-stream' : 'converse')).toBe(1);
      expect(oa.callCount('/chat/completions')).toBe(1);
      expect(await lastLog()).toMatchObject({ channel: 'oa', retries: 1, status: 200, stream: inStream });
      const ch = (await gw.call<ChannelView[]>('GET', '/v1/channels')).find((c) => c.name === 'br')!;
      expect(ch.status).toBe('enabled');
      expect(ch.cooldown_until).not.toBeNull();
    });
  }

  it('Azure content filter 400 is passed back unchanged and not retried', async () => {
    const az = await startAzureSim();
    const oa = await openaiSim();
    closers.push(() => az.close());
    await gw.addChannel({
      name: 'az',
      type: 'azure',
      keys: ['az-key'],
      models: ['m'],
      map: { m: 'dep' },
      base_url: az.url,
      api_version: '2024-10-21',
      priority: 10,
    });
    await gw.addChannel({ name: 'oa', type: 'openai', keys: ['sk-oa'], models: ['m'], base_url: oa.url });
    az.fault({ kind: 'status', status: 400, body: AZURE_CONTENT_FILTER_BODY });
    const err = await openai.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toEqual(AZURE_CONTENT_FILTER_BODY.error);
    expect(az.callCount('/chat/completions')).toBe(1);
    expect(oa.callCount()).toBe(0);
    expect(await lastLog()).toMatchObject({ channel: 'az', status: 400, retries: 0 });
    const ch = (await gw.call<ChannelView[]>('GET', '/v1/channels')).find((c) => c.name === 'az')!;
    expect(ch.status).toBe('enabled');
    expect(ch.cooldown_until).toBeNull();
  });

  it('names a field the upstream cannot carry (logprobs to Anthropic) in the log row', async () => {
    const an = await startAnthropicSim();
    closers.push(() => an.close());
    await gw.addChannel({
      name: 'an',
      type: 'anthropic',
      keys: ['sk-ant'],
      models: ['m'],
      map: { m: 'claude-sonnet-4-5' },
      base_url: an.url,
    });
    const res = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      top_logprobs: 2,
      seed: 7,
    });
    expect(res.choices[0]?.message.content).toBeTruthy();
    const sent = JSON.parse(an.calls.at(-1)!.body.toString('utf8')) as Record<string, unknown>;
    expect(sent).not.toHaveProperty('logprobs');
    const row = await lastLog();
    expect(row.status).toBe(200);
    expect(row.dropped_fields).toEqual(expect.arrayContaining(['logprobs', 'top_logprobs', 'seed']));
  });
});
