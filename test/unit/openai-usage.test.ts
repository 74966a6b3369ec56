/**
 * usageFromOpenAI over every recorded OpenAI, Azure and Qwen usage object (values checked against
 * the fixture text by hand), plus the vendor variants it must tolerate: DeepSeek cache hits, Qwen
 * cache writes, the Responses API names, missing or null details, and non-usage input.
 */
import { describe, expect, it } from 'vitest';
import { usageFromOpenAI } from '../../src/daemon/providers/openai/usage.js';
import { cassetteResponseBodies, readChunksJsonl, readFixtureJson } from '../support/fixtures.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';

type Json = Record<string, unknown>;

function usageOfSseBody(body: string): unknown {
  const d = new SseDecoder();
  const events = [...d.push(Buffer.from(body)), ...d.end()];
  const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Json);
  return chunks.find((c) => c.usage != null)?.usage;
}

const u = (
  inputTokens: number,
  outputTokens: number,
  cachedTokens = 0,
  reasoningTokens = 0,
  cacheWriteTokens = 0,
) => ({
  inputTokens,
  cachedTokens,
  cacheWriteTokens,
  outputTokens,
  reasoningTokens,
});

describe('usageFromOpenAI on recorded fixtures', () => {
  it('reads OpenAI non-stream bodies', () => {
    expect(usageFromOpenAI(readFixtureJson<Json>('openai/chat-nonstream-text.json').usage)).toEqual(
      u(16, 363),
    );
    const tools = JSON.parse(
      cassetteResponseBodies('openai/chat-nonstream-tool-calls.cassette.yaml')[0] ?? '',
    ) as Json;
    expect(usageFromOpenAI(tools.usage)).toEqual(u(162, 287, 0, 256));
  });

  it('reads the usage chunk of OpenAI streams', () => {
    const [first, second] = cassetteResponseBodies(
      'openai/chat-stream-tool-call-include-usage.cassette.yaml',
    );
    expect(usageFromOpenAI(usageOfSseBody(first ?? ''))).toEqual(u(53, 15));
    expect(usageFromOpenAI(usageOfSseBody(second ?? ''))).toEqual(u(78, 9));
    const reasoning = cassetteResponseBodies('openai/chat-stream-reasoning-length.cassette.yaml')[0] ?? '';
    expect(usageFromOpenAI(usageOfSseBody(reasoning))).toEqual(u(12, 100, 0, 100));
  });

  it('reads Azure bodies and stream chunks', () => {
    const body = JSON.parse(cassetteResponseBodies('azure/chat-nonstream.cassette.yaml')[0] ?? '') as Json;
    expect(usageFromOpenAI(body.usage)).toEqual(u(8, 271, 0, 192));
    const chunks = readChunksJsonl('azure/chat-stream.chunks.jsonl') as Json[];
    const usages = chunks.map((c) => usageFromOpenAI(c.usage)).filter((x) => x !== null);
    expect(usages).toEqual([u(15, 78, 0, 64)]);
  });

  it('reads Qwen bodies and stream chunks', () => {
    expect(usageFromOpenAI(readFixtureJson<Json>('qwen/chat-nonstream-tool-call.json').usage)).toEqual(
      u(295, 22),
    );
    expect(usageFromOpenAI(readFixtureJson<Json>('qwen/chat-nonstream-reasoning.json').usage)).toEqual(
      u(24, 1668, 0, 1353),
    );
    const chunks = readChunksJsonl('qwen/chat-stream-tool-call.chunks.jsonl') as Json[];
    expect(chunks.map((c) => usageFromOpenAI(c.usage)).filter((x) => x !== null)).toEqual([u(295, 22)]);
  });
});

describe('usageFromOpenAI variants', () => {
  it('maps Qwen cache_creation_input_tokens to cache writes (details or top level)', () => {
    const details = {
      prompt_tokens: 2000,
      completion_tokens: 10,
      total_tokens: 2010,
      prompt_tokens_details: {
        cached_tokens: 1200,
        cache_creation_input_tokens: 700,
        cache_type: 'ephemeral',
      },
    };
    expect(usageFromOpenAI(details)).toEqual(u(2000, 10, 1200, 0, 700));
    expect(
      usageFromOpenAI({ prompt_tokens: 900, completion_tokens: 1, cache_creation_input_tokens: 800 }),
    ).toEqual(u(900, 1, 0, 0, 800));
  });

  it('reads DeepSeek cache hits and the Responses API names', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 100,
        completion_tokens: 5,
        prompt_cache_hit_tokens: 64,
        prompt_cache_miss_tokens: 36,
      }),
    ).toEqual(u(100, 5, 64));
    expect(
      usageFromOpenAI({
        input_tokens: 30,
        input_tokens_details: { cached_tokens: 10 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 3 },
        total_tokens: 37,
      }),
    ).toEqual(u(30, 7, 10, 3));
  });

  it('tolerates missing and null details, and rejects what is not usage', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 3,
        completion_tokens: 4,
        prompt_tokens_details: null,
        completion_tokens_details: null,
      }),
    ).toEqual(u(3, 4));
    expect(usageFromOpenAI({ prompt_tokens: 3 })).toEqual(u(3, 0));
    expect(usageFromOpenAI(null)).toBeNull();
    expect(usageFromOpenAI(undefined)).toBeNull();
    expect(usageFromOpenAI('12')).toBeNull();
    expect(usageFromOpenAI([1, 2])).toBeNull();
    expect(usageFromOpenAI({ total_tokens: 9 })).toBeNull();
    expect(usageFromOpenAI({ prompt_tokens: -1, completion_tokens: 'x' })).toBeNull();
  });
});
