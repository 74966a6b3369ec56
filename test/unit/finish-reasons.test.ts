/**
 * The providers' finish reasons map through tables of own keys only: a reason named like an Object
 * property (`toString`, `constructor`, `__proto__`) is an unknown reason, answered `stop`, never a
 * function put in `finish_reason` (the same class of bug as 3050312 in output-limit.ts).
 */
import { describe, expect, it } from 'vitest';
import { finishReason } from '../../src/daemon/providers/bedrock/response.js';
import { finishFromGemini } from '../../src/daemon/providers/gemini/finish-reason.js';
import { createOpenAIStreamConverter } from '../../src/daemon/providers/openai/stream.js';
import { upstreamTarget } from '../support/upstream-target.js';

const PROTOTYPE_NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty'];

function openaiFinish(reason: string): unknown {
  const target = upstreamTarget(
    { name: 'o', type: 'openai', baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: 1000 },
    'sk-x',
    'm',
  );
  const conv = createOpenAIStreamConverter(target, { dropped: [] });
  const data = JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content: 'x' }, finish_reason: reason }],
  });
  return conv.push({ kind: 'sse', event: undefined, data })[0]?.choices[0]?.finish_reason;
}

describe('finish reasons named like Object properties', () => {
  it.each(PROTOTYPE_NAMES)('%s is an unknown reason: stop, on Bedrock, Gemini and OpenAI streams', (name) => {
    expect(finishReason(name)).toBe('stop');
    expect(finishFromGemini(name, false)).toBe('stop');
    expect(openaiFinish(name)).toBe('stop');
  });

  it('known reasons still map', () => {
    expect(finishReason('max_tokens')).toBe('length');
    expect(finishReason('tool_use')).toBe('tool_calls');
    expect(finishFromGemini('MAX_TOKENS', false)).toBe('length');
    expect(finishFromGemini('STOP', true)).toBe('tool_calls');
    expect(openaiFinish('length')).toBe('length');
  });
});
