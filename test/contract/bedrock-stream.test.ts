/**
 * The Bedrock stream converter against the ConverseStream recordings (the text events, and the
 * reasoning and tool-use binaries decoded by the real event-stream decoder): text, tool calls,
 * reasoning_content, finish_reason, and usage (which Bedrock sends after messageStop), cache
 * fields included; exception frames become UpstreamStreamError.
 */
import { describe, expect, it } from 'vitest';
import { bedrockAdapter } from '../../src/daemon/providers/bedrock/index.js';
import { EventStreamDecoder, encodeEventStreamMessage } from '../../src/daemon/streams/eventstream.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { EventStreamMessage, UpstreamTarget } from '../../src/daemon/providers/types.js';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import { readChunksJsonl, readFixture } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'bedrock', type: 'bedrock', baseUrl: '', region: 'us-east-1', timeoutMs: 60_000 },
  'AKIDEXAMPLE:secret',
  'us.amazon.nova-micro-v1:0',
);

function event(type: string, payload: unknown): EventStreamMessage {
  return {
    kind: 'eventstream',
    headers: { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    payload: Buffer.from(JSON.stringify(payload)),
  };
}

function decodeBin(rel: string): EventStreamMessage[] {
  const d = new EventStreamDecoder();
  const out = d.push(readFixture(rel));
  d.end();
  return out;
}

interface Collected {
  chunks: OpenAIChatChunk[];
  content: string;
  reasoning: string;
  tools: { index: number; id?: string; name?: string; args: string }[];
  finish: (string | null)[];
}

function collect(chunks: OpenAIChatChunk[]): Collected {
  const c: Collected = { chunks, content: '', reasoning: '', tools: [], finish: [] };
  for (const ch of chunks) {
    expect(ch.object).toBe('chat.completion.chunk');
    for (const choice of ch.choices) {
      c.content += choice.delta.content ?? '';
      c.reasoning += choice.delta.reasoning_content ?? '';
      if (choice.finish_reason) c.finish.push(choice.finish_reason);
      for (const tc of choice.delta.tool_calls ?? []) {
        let slot = c.tools.find((t) => t.index === tc.index);
        if (!slot) {
          slot = { index: tc.index, args: '' };
          c.tools.push(slot);
        }
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        slot.args += tc.function?.arguments ?? '';
      }
    }
  }
  return c;
}

function runStream(events: EventStreamMessage[]) {
  const conv = bedrockAdapter.chatStream(target, { dropped: [] });
  const chunks = events.flatMap((e) => conv.push(e));
  chunks.push(...conv.end());
  return { collected: collect(chunks), usage: conv.usage(), chunks };
}

describe('Bedrock stream (ConverseStream)', () => {
  it('converse-stream-text.events.jsonl -> content, stop, usage after the finish chunk', () => {
    const lines = readChunksJsonl('bedrock/converse-stream-text.events.jsonl') as Record<string, unknown>[];
    const events = lines.map((l) => {
      const [type, payload] = Object.entries(l)[0] ?? ['', {}];
      return event(type, payload);
    });
    const expectedText = lines
      .map((l) => (l.contentBlockDelta as { delta?: { text?: string } } | undefined)?.delta?.text ?? '')
      .join('');
    const { collected, usage, chunks } = runStream(events);
    expect(collected.content).toBe(expectedText);
    expect(collected.content).toMatch(/^Let me count/);
    expect(collected.finish).toEqual(['stop']);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(usage).toEqual({
      inputTokens: 22,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 55,
      reasoningTokens: 0,
    });
    // Usage arrives after messageStop and is kept for usage(): the finish chunk is the last chunk,
    // and no chunk carries usage (the client encoder writes it only when the client asked).
    const finishAt = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    expect(finishAt).toBe(chunks.length - 1);
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it('reasoning recording (.bin) -> reasoning_content, text, stop, usage', () => {
    const { collected, usage } = runStream(decodeBin('bedrock/converse-stream-reasoning.eventstream.bin'));
    expect(collected.reasoning).toBe(
      'The user just says "Hi". We need to respond appropriately, friendly greeting. No special instructions. Should be short.',
    );
    expect(collected.content).toBe('Hello! How can I help you today?');
    expect(collected.tools).toEqual([]);
    expect(collected.finish).toEqual(['stop']);
    expect(usage).toMatchObject({ inputTokens: 70, outputTokens: 43 });
  });

  it('tool-use recording (.bin) -> text, one tool call with its arguments, tool_calls, usage', () => {
    const { collected, usage } = runStream(decodeBin('bedrock/converse-stream-tool-use.eventstream.bin'));
    expect(collected.content).toMatch(/^<thinking> To find the temperature of the capital of France,/);
    expect(collected.content).toMatch(/in Paris\.<\/thinking>\n$/);
    expect(collected.tools).toEqual([
      { index: 0, id: 'tooluse_lAG_zP8QRHmSYOwZzzaCqA', name: 'get_temperature', args: '{"city":"Paris"}' },
    ]);
    expect(JSON.parse(collected.tools[0]?.args ?? '')).toEqual({ city: 'Paris' });
    expect(collected.finish).toEqual(['tool_calls']);
    expect(usage).toEqual({
      inputTokens: 471,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 91,
      reasoningTokens: 0,
    });
  });

  it('numbers several tool calls 0,1 whatever their content block index, with fragmented input', () => {
    const { collected, usage } = runStream([
      event('messageStart', { role: 'assistant' }),
      event('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'a', name: 'f' } } }),
      event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"x"' } } }),
      event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: ':1}' } } }),
      event('contentBlockStart', { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'b', name: 'g' } } }),
      event('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{}' } } }),
      event('messageStop', { stopReason: 'tool_use' }),
      event('metadata', {
        usage: { inputTokens: 5, outputTokens: 6, cacheReadInputTokens: 3, cacheWriteInputTokens: 2 },
      }),
    ]);
    expect(collected.tools).toEqual([
      { index: 0, id: 'a', name: 'f', args: '{"x":1}' },
      { index: 1, id: 'b', name: 'g', args: '{}' },
    ]);
    expect(usage).toEqual({
      inputTokens: 10,
      cachedTokens: 3,
      cacheWriteTokens: 2,
      outputTokens: 6,
      reasoningTokens: 0,
    });
  });

  it.each([
    ['throttlingException', 429, 'retry'],
    ['modelStreamErrorException', 424, 'retry'],
    ['validationException', 400, 'reject'],
    ['internalServerException', 500, 'retry'],
    ['serviceUnavailableException', 503, 'retry'],
  ])('an exception frame %s throws UpstreamStreamError (%i, %s)', (type, status, action) => {
    const conv = bedrockAdapter.chatStream(target, { dropped: [] });
    conv.push(event('messageStart', { role: 'assistant' }));
    const frame = encodeEventStreamMessage(
      { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
      Buffer.from('{"message":"slow down please"}'),
    );
    const [msg] = new EventStreamDecoder().push(frame);
    let caught: unknown;
    try {
      conv.push(msg as EventStreamMessage);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UpstreamStreamError);
    const failure = (caught as UpstreamStreamError).failure;
    expect(failure.status).toBe(status);
    expect(failure.action).toBe(action);
    expect(failure.message).toContain('slow down please');
  });

  it('reports no usage when the stream carried no metadata', () => {
    const { usage, collected } = runStream([
      event('messageStart', { role: 'assistant' }),
      event('messageStop', { stopReason: 'max_tokens' }),
    ]);
    expect(usage).toBeNull();
    expect(collected.finish).toEqual(['length']);
  });
});
