/**
 * What a passthrough stream delivered, kept to estimate output tokens when the upstream never
 * reports usage: the text must be exactly the deltas' content and tool arguments in order, however
 * many events arrived, while the raw events held at any time stay bounded.
 */
import { describe, expect, it } from 'vitest';
import { getAdapter } from '../../src/daemon/registry.js';
import { DeliveredText } from '../../src/daemon/gateway/stream/delivered-text.js';
import { answerText } from '../../src/daemon/providers/openai/frames.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { seededRandom } from '../support/seeded.js';
import { upstreamTarget } from '../support/upstream-target.js';
import { cassetteResponseBodies, readChunksJsonl, readFixtureText } from '../support/fixtures.js';

const target = upstreamTarget(
  { name: 'c', type: 'openai', baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: 1000 },
  'sk-test',
  'gpt-4o',
);

const chunk = (delta: Record<string, unknown>): string =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: null }],
  });

/** The OpenAI adapter as an adapter without a cheap text reader looks. */
const viaConverter = { ...getAdapter('openai'), answerText: undefined };

/** The text the converter path reads from a sequence of event payloads. */
function convertedText(events: string[]): string {
  const d = new DeliveredText(viaConverter, target);
  for (const e of events) d.add(e);
  return d.text();
}

function sseData(body: string): string[] {
  const dec = new SseDecoder();
  return [...dec.push(Buffer.from(body)), ...dec.end()].flatMap((e) =>
    e.kind === 'sse' && e.data !== '[DONE]' ? [e.data] : [],
  );
}

const PIECES = [
  'a',
  ' ',
  '"',
  '\\',
  '"content":"x"',
  '\\"',
  'é',
  '😀',
  '\n',
  '\u0000',
  '{',
  '}',
  ':',
  ',',
  'arguments',
];

describe('answerText (OpenAI chat chunks read without parsing)', () => {
  it('reads the same text as the converter from every recorded OpenAI-family stream', () => {
    const streams: [string, string[]][] = [
      [
        'openai reasoning',
        cassetteResponseBodies('openai/chat-stream-reasoning-length.cassette.yaml').flatMap(sseData),
      ],
      [
        'openai tool call',
        cassetteResponseBodies('openai/chat-stream-tool-call-include-usage.cassette.yaml').flatMap(sseData),
      ],
      ['compat index 1', sseData(readFixtureText('openai-compatible/stream-tool-call-index1.sse'))],
      ['azure', readChunksJsonl('azure/chat-stream.chunks.jsonl').map((c) => JSON.stringify(c))],
      ['qwen', readChunksJsonl('qwen/chat-stream-tool-call.chunks.jsonl').map((c) => JSON.stringify(c))],
    ];
    for (const [name, events] of streams) {
      expect(events.length, name).toBeGreaterThan(1);
      const expected = convertedText(events);
      expect(events.map(answerText).join(''), name).toBe(expected);
      // the reasoning model ran out of tokens while thinking, which OpenAI does not stream
      if (name === 'openai reasoning') expect(expected).toBe('');
      else expect(expected.length, name).toBeGreaterThan(0);
    }
  });

  it('matches the converter on 2,000 seeded random chunks: escapes, quoted keys in text, spacing, logprobs', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = seededRandom(seed);
      const str = (): string =>
        Array.from({ length: Math.floor(r() * 8) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('');
      const delta: Record<string, unknown> = {};
      if (r() < 0.7) delta.content = str();
      if (r() < 0.3) delta.reasoning_content = str();
      if (r() < 0.3)
        delta.tool_calls = [
          { index: 0, id: 'call_1', type: 'function', function: { name: str(), arguments: str() } },
        ];
      const choice: Record<string, unknown> = { index: 0, delta, finish_reason: null };
      if (r() < 0.3) choice.logprobs = { content: [{ token: str(), logprob: -1, bytes: [1] }] };
      const obj = { id: str(), object: 'chat.completion.chunk', created: 1, model: str(), choices: [choice] };
      const data = r() < 0.5 ? JSON.stringify(obj) : JSON.stringify(obj, null, 1);
      expect(answerText(data), `seed ${seed}`).toBe(convertedText([data]));
    }
  });

  it('gives nothing for events without answer text, and never throws on broken JSON', () => {
    expect(answerText('{"error":{"message":"overloaded","content_type":"x"}}')).toBe('');
    expect(answerText('{"choices":[],"usage":{"prompt_tokens":1}}')).toBe('');
    expect(answerText('{"choices":[{"delta":{"content":"cut')).toBe('');
    expect(answerText('{"choices":[{"delta":{"content":"bad \\q escape"}}]}')).toBe('');
    expect(answerText('not json at all')).toBe('');
  });
});

describe('DeliveredText', () => {
  it('keeps the text of a long stream exactly, in order, with raw events bounded', () => {
    // an adapter without answerText: its events are held raw, then reduced by the converter
    const d = new DeliveredText(viaConverter, target);
    const expected: string[] = [];
    d.add(chunk({ role: 'assistant', content: '' }));
    for (let i = 0; i < 500; i++) {
      const word = `w${i} é "q" `;
      expected.push(word);
      d.add(chunk({ content: word }));
      // never more than the threshold plus one event held raw
      expect((d as unknown as { rawChars: number }).rawChars).toBeLessThan(4096 + 300);
    }
    d.add(
      chunk({
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":' } },
        ],
      }),
    );
    d.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }));
    expect(d.text()).toBe(`${expected.join('')}{"a":1}`);
  });

  it('counts reasoning text like the converted path does', () => {
    const d = new DeliveredText(getAdapter('openai'), target);
    d.add(chunk({ reasoning_content: 'think ' }));
    d.add(chunk({ content: 'answer' }));
    expect(d.text()).toBe('think answer');
  });

  it('skips events the converter rejects and still returns the rest', () => {
    const d = new DeliveredText(getAdapter('openai'), target);
    d.add(chunk({ content: 'before ' }));
    d.add('{not json');
    d.add(chunk({ content: 'after' }));
    expect(d.text()).toBe('before after');
  });
});
