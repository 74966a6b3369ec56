/**
 * The Bedrock adapter against recorded Converse answers: the non-stream text fixture, the tool-use
 * cassette's response, reasoning blocks, the stopReason map, and usage normalisation with cache
 * reads and writes added to prompt tokens (PROTOCOLS.md 7.4).
 */
import { describe, expect, it } from 'vitest';
import { bedrockAdapter } from '../../src/daemon/providers/bedrock/index.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { readFixtureJson } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'bedrock', type: 'bedrock', baseUrl: '', region: 'us-east-1', timeoutMs: 60_000 },
  'AKIDEXAMPLE:secret',
  'us.amazon.nova-micro-v1:0',
);

describe('Bedrock non-stream (Converse)', () => {
  it('converse-nonstream-text.json -> text completion with usage', () => {
    const body = readFixtureJson<{ output: { message: { content: { text: string }[] } } }>(
      'bedrock/converse-nonstream-text.json',
    );
    const { completion, usage } = bedrockAdapter.chatResponse(body, target, { dropped: [] });
    const choice = completion.choices[0];
    expect(choice?.message.content).toBe(body.output.message.content[0]?.text);
    expect(choice?.message.content).toContain('strawberry');
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.tool_calls).toBeUndefined();
    expect(usage).toEqual({
      inputTokens: 22,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 57,
      reasoningTokens: 0,
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 22, completion_tokens: 57, total_tokens: 79 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(target.upstreamModel);
  });

  it('adds cache reads and writes to prompt tokens and keeps them apart', () => {
    const body = readFixtureJson<{ usage: Record<string, number> }>('bedrock/converse-nonstream-text.json');
    body.usage = {
      ...body.usage,
      inputTokens: 10,
      cacheReadInputTokens: 100,
      cacheWriteInputTokens: 50,
      outputTokens: 7,
    };
    const { completion, usage } = bedrockAdapter.chatResponse(body, target, { dropped: [] });
    expect(usage).toEqual({
      inputTokens: 160,
      cachedTokens: 100,
      cacheWriteTokens: 50,
      outputTokens: 7,
      reasoningTokens: 0,
    });
    expect(completion.usage?.prompt_tokens).toBe(160);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(100);
    expect(completion.usage?.total_tokens).toBe(167);
  });

  it('tool-use answer (converse-tool-use-and-tool-result cassette, first response) -> tool_calls', () => {
    // The cassette stores this response as YAML `parsed_body`; transcribed field for field.
    const body = {
      metrics: { latencyMs: 581 },
      output: {
        message: {
          content: [
            {
              text: '<thinking> To determine the capital of France, I can use the provided tool. </thinking>\n',
            },
            {
              toolUse: {
                input: { country: 'France' },
                name: 'get_capital',
                toolUseId: 'tooluse_Ze_bgl9CSqu8aJv7XD-_Dw',
              },
            },
          ],
          role: 'assistant',
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 426, outputTokens: 66, serverToolUsage: {}, totalTokens: 492 },
    };
    const { completion, usage } = bedrockAdapter.chatResponse(body, target, { dropped: [] });
    const msg = completion.choices[0]?.message;
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(msg?.content).toContain('<thinking>');
    expect(msg?.tool_calls).toEqual([
      {
        id: 'tooluse_Ze_bgl9CSqu8aJv7XD-_Dw',
        type: 'function',
        function: { name: 'get_capital', arguments: '{"country":"France"}' },
      },
    ]);
    expect(usage?.inputTokens).toBe(426);
    expect(usage?.outputTokens).toBe(66);
  });

  it('tool-only answer has null content; reasoningContent becomes reasoning_content', () => {
    const { completion } = bedrockAdapter.chatResponse(
      {
        output: {
          message: {
            content: [
              { reasoningContent: { reasoningText: { text: 'think first', signature: 'sig' } } },
              { toolUse: { toolUseId: 't1', name: 'f', input: {} } },
            ],
          },
        },
        stopReason: 'tool_use',
      },
      target,
      { dropped: [] },
    );
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(completion.choices[0]?.message.reasoning_content).toBe('think first');
    expect(completion.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe('{}');
    expect(completion.usage).toBeUndefined();
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
  ])('stopReason %s -> finish_reason %s', (stopReason, finish) => {
    const { completion } = bedrockAdapter.chatResponse(
      { output: { message: { content: [{ text: 'x' }] } }, stopReason },
      target,
      {
        dropped: [],
      },
    );
    expect(completion.choices[0]?.finish_reason).toBe(finish);
  });
});
