/**
 * The OpenAI-family adapter against its contract and the recorded traffic: default base URLs per
 * type, the upstream request it builds (URL, auth, model, include_usage, per-type fixes), the
 * passthrough request (path, content type kept for multipart), non-stream responses from the
 * recordings (text, tool calls, Qwen, Gemini-compat empty ids), and reading usage on the
 * passthrough path from bodies and raw stream frames, including spotting the injected usage chunk.
 */
import { describe, expect, it } from 'vitest';
import { openaiAdapter } from '../../src/daemon/providers/openai/index.js';
import { isUsageOnlyChunk, mayHoldUsage } from '../../src/daemon/providers/openai/frames.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { SseEvent, UpstreamTarget, Usage } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { ChannelType } from '../../src/shared/control-api.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { cassetteResponseBodies, readFixtureJson } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

function target(type: ChannelType, baseUrl = 'https://up.example/v1', secret = 'sk-secret'): UpstreamTarget {
  return upstreamTarget({ name: 'c', type, baseUrl, timeoutMs: 1000 }, secret, 'real-model');
}

const req = (extra: Partial<OpenAIChatRequest> = {}): OpenAIChatRequest => ({
  model: 'alias',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

function frames(raw: string): SseEvent[] {
  const d = new SseDecoder();
  return [...d.push(Buffer.from(raw)), ...d.end()];
}

describe('openaiAdapter basics', () => {
  it('serves the OpenAI family with the documented default base URLs', () => {
    expect([...openaiAdapter.types].sort()).toEqual(
      [
        'deepseek',
        'groq',
        'mistral',
        'ollama',
        'openai',
        'openai-compatible',
        'openrouter',
        'qwen',
        'together',
        'vllm',
        'xai',
      ].sort(),
    );
    const want: Partial<Record<ChannelType, string | null>> = {
      openai: 'https://api.openai.com/v1',
      deepseek: 'https://api.deepseek.com/v1',
      groq: 'https://api.groq.com/openai/v1',
      mistral: 'https://api.mistral.ai/v1',
      openrouter: 'https://openrouter.ai/api/v1',
      xai: 'https://api.x.ai/v1',
      together: 'https://api.together.xyz/v1',
      ollama: 'http://127.0.0.1:11434/v1',
      vllm: 'http://127.0.0.1:8000/v1',
      qwen: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
      'openai-compatible': null,
    };
    for (const [type, url] of Object.entries(want))
      expect(openaiAdapter.defaultBaseUrl(type as ChannelType)).toBe(url);
    expect(openaiAdapter.defaultBaseUrl('anthropic')).toBeNull();
    expect(openaiAdapter.passthrough).toBe('openai');
    expect(openaiAdapter.streamFraming).toBe('sse');
  });
});

describe('chatRequest', () => {
  it('targets /chat/completions with the upstream model and Bearer auth', () => {
    const ctx = { dropped: [] };
    const r = openaiAdapter.chatRequest(
      req({ temperature: 0.2, custom_field: 1 }),
      target('deepseek', 'https://api.deepseek.com/v1/'),
      ctx,
    );
    expect(r.method).toBe('POST');
    expect(r.url).toBe('https://api.deepseek.com/v1/chat/completions');
    expect(r.headers).toMatchObject({
      authorization: 'Bearer sk-secret',
      'content-type': 'application/json',
    });
    expect(JSON.parse(String(r.body))).toEqual({
      ...req({ temperature: 0.2, custom_field: 1 }),
      model: 'real-model',
    });
    expect(ctx.dropped).toEqual([]);
  });

  it('asks streams for usage and keeps other stream options', () => {
    const r = openaiAdapter.chatRequest(
      req({ stream: true, stream_options: { include_usage: false } }),
      target('groq'),
      { dropped: [] },
    );
    expect(JSON.parse(String(r.body))).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(r.headers.accept).toBe('text/event-stream');
    const plain = JSON.parse(
      String(
        openaiAdapter.chatRequest(
          req({ stream: false, stream_options: { include_usage: true } }),
          target('groq'),
          { dropped: [] },
        ).body,
      ),
    ) as Record<string, unknown>;
    expect(plain).not.toHaveProperty('stream_options');
  });

  it('sends max_completion_tokens and no foreign reasoning_content to OpenAI only', () => {
    const history = req({
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning_content: 'thought' },
        { role: 'user', content: 'q2' },
      ],
    });
    const ctx = { dropped: [] as string[] };
    const toOpenAI = JSON.parse(
      String(openaiAdapter.chatRequest(history, target('openai'), ctx).body),
    ) as Record<string, unknown>;
    expect(toOpenAI.max_completion_tokens).toBe(50);
    expect(toOpenAI).not.toHaveProperty('max_tokens');
    expect(JSON.stringify(toOpenAI.messages)).not.toContain('reasoning_content');
    expect(ctx.dropped).toEqual(['messages[].reasoning_content']);
    const toQwen = JSON.parse(
      String(openaiAdapter.chatRequest(history, target('qwen'), { dropped: [] }).body),
    ) as Record<string, unknown>;
    expect(toQwen.max_tokens).toBe(50);
    expect(JSON.stringify(toQwen.messages)).toContain('"reasoning_content":"thought"');
  });

  it('omits Authorization for keyless local servers and adds headers from settings', () => {
    const t = target('ollama', 'http://127.0.0.1:11434/v1', '');
    t.channel.settings = { headers: { 'OpenAI-Organization': 'org-1', ignored: 5 } };
    const r = openaiAdapter.chatRequest(req(), t, { dropped: [] });
    expect(r.headers).not.toHaveProperty('authorization');
    expect(r.headers['openai-organization']).toBe('org-1');
    expect(r.headers).not.toHaveProperty('ignored');
  });
});

describe('passthroughRequest', () => {
  const pt = openaiAdapter.passthroughRequest!.bind(openaiAdapter);

  it('strips the client /v1 and keeps the body bytes and content type', () => {
    const body = Buffer.from('{"model":"x"}');
    const r = pt(
      '/v1/chat/completions',
      body,
      target('qwen', 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1'),
      'application/json',
    );
    expect(r).toEqual({
      method: 'POST',
      url: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions',
      headers: { authorization: 'Bearer sk-secret', 'content-type': 'application/json' },
      body,
    });
  });

  it('keeps multipart boundaries and routes every OpenAI endpoint', () => {
    const ct = 'multipart/form-data; boundary=----bc123';
    const r = pt(
      '/v1/audio/transcriptions',
      Buffer.from('------bc123--'),
      target('openai', 'https://api.openai.com/v1'),
      ct,
    );
    expect(r.url).toBe('https://api.openai.com/v1/audio/transcriptions');
    expect(r.headers['content-type']).toBe(ct);
    for (const p of [
      '/v1/embeddings',
      '/v1/responses',
      '/v1/images/generations',
      '/v1/rerank',
      '/v1/moderations',
    ]) {
      expect(
        pt(p, Buffer.from('{}'), target('openai', 'https://api.openai.com/v1'), 'application/json').url,
      ).toBe(`https://api.openai.com${p}`);
    }
    expect(pt('/v1/models', Buffer.alloc(0), target('vllm'), '')).toMatchObject({
      method: 'GET',
      body: undefined,
    });
  });
});

describe('chatResponse', () => {
  it('returns recorded completions with their usage', () => {
    const text = readFixtureJson('openai/chat-nonstream-text.json');
    const r = openaiAdapter.chatResponse(structuredClone(text), target('openai'), { dropped: [] });
    expect(r.completion).toEqual(text);
    expect(r.usage).toMatchObject({ inputTokens: 16, outputTokens: 363 });

    const tools: unknown = JSON.parse(
      cassetteResponseBodies('openai/chat-nonstream-tool-calls.cassette.yaml')[0] ?? '',
    );
    const t = openaiAdapter.chatResponse(tools, target('openai'), { dropped: [] });
    expect(t.completion.choices[0]?.message.tool_calls?.[0]).toEqual({
      id: 'call_8fxy20OEu9ulvvaa5b5CzVA4',
      type: 'function',
      function: { name: 'get_current_weather', arguments: '{"location":"Boston, MA","unit":"fahrenheit"}' },
    });
    expect(t.completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(t.usage).toMatchObject({ reasoningTokens: 256 });

    const qwen = openaiAdapter.chatResponse(
      readFixtureJson('qwen/chat-nonstream-reasoning.json'),
      target('qwen'),
      { dropped: [] },
    );
    expect(qwen.usage).toMatchObject({ outputTokens: 1668, reasoningTokens: 1353 });
  });

  it('gives Gemini-compat tool calls with empty ids a real id', () => {
    // the shape of openai-compatible/gemini-openai-compat-tool-call-empty-id.cassette.yaml
    const body = {
      id: '3SE-aKjdCcCEz7IPxpqjCA',
      object: 'chat.completion',
      created: 1748902365,
      model: 'gemini-2.5-pro-preview-05-06',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            tool_calls: [
              { id: '', type: 'function', function: { name: 'get_current_time', arguments: '{}' } },
            ],
          },
        },
      ],
      usage: { completion_tokens: 12, prompt_tokens: 35, total_tokens: 109 },
    };
    const r = openaiAdapter.chatResponse(body, target('openai-compatible'), { dropped: [] });
    expect(r.completion.choices[0]?.message.tool_calls?.[0]?.id).toMatch(/^call_[\w-]{8,}$/);
    expect(r.completion.choices[0]?.message.content).toBeNull();
    expect(r.usage).toMatchObject({ inputTokens: 35, outputTokens: 12 });
  });

  it('reports a 200 that is not a completion as an upstream failure', () => {
    for (const bad of ['<html>', null, { choices: 'no' }, { choices: [{ nope: 1 }] }]) {
      expect(() => openaiAdapter.chatResponse(bad, target('openai'), { dropped: [] })).toThrow(
        UpstreamStreamError,
      );
    }
  });
});

describe('passthrough usage', () => {
  it('reads usage from bodies, including the Responses API shape', () => {
    expect(openaiAdapter.usageFromBody!(readFixtureJson('openai/chat-nonstream-text.json'))).toMatchObject({
      inputTokens: 16,
    });
    expect(openaiAdapter.usageFromBody!({ usage: { input_tokens: 4, output_tokens: 2 } })).toMatchObject({
      inputTokens: 4,
      outputTokens: 2,
    });
    expect(openaiAdapter.usageFromBody!('x')).toBeNull();
  });

  it('finds usage only in the usage chunk of a recorded stream, and spots that chunk', () => {
    const raw = cassetteResponseBodies('openai/chat-stream-tool-call-include-usage.cassette.yaml')[0] ?? '';
    const events = frames(raw);
    let usage: Usage | null = null;
    const usageOnly: number[] = [];
    events.forEach((e, i) => {
      const before = usage;
      usage = openaiAdapter.usageFromEvent!(e, usage);
      if (usage !== before) usageOnly.push(i);
      if (e.kind === 'sse' && isUsageOnlyChunk(e.data)) usageOnly.push(i);
    });
    expect(usageOnly).toEqual([events.length - 2, events.length - 2]);
    expect(usage).toMatchObject({ inputTokens: 53, outputTokens: 15 });
  });

  it('does not parse frames whose usage is null or only mentioned in text', () => {
    expect(mayHoldUsage('{"choices":[],"usage":null}')).toBe(false);
    expect(
      mayHoldUsage('{"choices":[{"delta":{"content":"say \\"usage\\": {\\"a\\":1}"}}],"usage":null}'),
    ).toBe(false);
    expect(mayHoldUsage('{"usage" : {"prompt_tokens":1}}')).toBe(true);
    expect(isUsageOnlyChunk('[DONE]')).toBe(false);
    expect(
      isUsageOnlyChunk(
        '{"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}',
      ),
    ).toBe(false);
    const previous = {
      inputTokens: 1,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
    };
    expect(openaiAdapter.usageFromEvent!({ kind: 'sse', event: undefined, data: '[DONE]' }, previous)).toBe(
      previous,
    );
    const completed = {
      type: 'response.completed',
      response: { usage: { input_tokens: 9, output_tokens: 3 } },
    };
    expect(
      openaiAdapter.usageFromEvent!(
        { kind: 'sse', event: 'response.completed', data: JSON.stringify(completed) },
        null,
      ),
    ).toMatchObject({
      inputTokens: 9,
      outputTokens: 3,
    });
  });
});

describe('embeddings', () => {
  it('maps the model and reads prompt_tokens', () => {
    const r = openaiAdapter.embeddingsRequest!(
      { model: 'alias', input: ['a', 'b'] },
      target('together', 'https://api.together.xyz/v1'),
      { dropped: [] },
    );
    expect(r.url).toBe('https://api.together.xyz/v1/embeddings');
    expect(JSON.parse(String(r.body))).toEqual({ model: 'real-model', input: ['a', 'b'] });
    const body = { object: 'list', data: [], usage: { prompt_tokens: 8, total_tokens: 8 } };
    expect(openaiAdapter.embeddingsResponse!(body, target('openai'))).toEqual({
      response: body,
      usage: { inputTokens: 8, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 },
    });
  });
});
