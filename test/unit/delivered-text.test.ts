/**
 * What a passthrough stream delivered, kept to estimate output tokens when the upstream never
 * reports usage: the text must be exactly the deltas' content and tool arguments in order, however
 * many events arrived, while the raw events held at any time stay bounded.
 */
import { describe, expect, it } from 'vitest';
import { getAdapter } from '../../src/daemon/providers/registry.js';
import { DeliveredText } from '../../src/daemon/gateway/stream-pump.js';
import { upstreamTarget } from '../support/upstream-target.js';

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

describe('DeliveredText', () => {
  it('keeps the text of a long stream exactly, in order, with raw events bounded', () => {
    const d = new DeliveredText(getAdapter('openai'), target);
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
