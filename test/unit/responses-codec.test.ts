/**
 * The Responses codec's pure parts: a Responses request as a canonical chat request (input items,
 * instructions, tools, formats, what is refused or dropped), a chat completion as a Response, and
 * the event stream's order and numbering for text, reasoning, tool calls, a length cut and errors.
 */
import { describe, expect, it } from 'vitest';
import { responsesCodec } from '../../src/daemon/inbound/responses/index.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { Usage } from '../../src/daemon/providers/types.js';
import { BcError } from '../../src/shared/errors.js';

type Json = Record<string, unknown>;

function convert(body: Json): { req: Json; dropped: string[] } {
  const dropped: string[] = [];
  const req = responsesCodec(body).toOpenAI(body, { dropped }) as unknown as Json;
  return { req, dropped };
}

function refusal(body: Json): BcError {
  try {
    convert(body);
  } catch (err) {
    if (err instanceof BcError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('responses codec: request', () => {
  it('a string input with instructions becomes a system and a user message', () => {
    const { req } = convert({ model: 'm', instructions: 'Be brief.', input: 'hi', max_output_tokens: 50 });
    expect(req).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      max_completion_tokens: 50,
    });
  });

  it('items keep their order: parts, developer as system, a call joining its assistant turn, its output as a tool turn', () => {
    const { req, dropped } = convert({
      model: 'm',
      stream: true,
      input: [
        { role: 'developer', content: 'Use tools.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Weather?' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
            { type: 'input_image', file_id: 'file-1' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'x' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Let me look.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' },
        { type: 'function_call', call_id: 'call_2', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp_c":21}' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '10:00' }] },
      ],
    });
    expect(req.stream).toBe(true);
    expect(req.stream_options).toEqual({ include_usage: true });
    expect(req.messages).toEqual([
      { role: 'system', content: 'Use tools.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
      { role: 'tool', tool_call_id: 'call_2', content: '10:00' },
    ]);
    expect(dropped).toEqual(['input[1].content[2].file_id', 'input[2].reasoning']);
  });

  it('function tools, tool_choice, text.format and reasoning map to their chat forms; hosted tools are dropped', () => {
    const { req, dropped } = convert({
      model: 'm',
      input: 'hi',
      tools: [
        { type: 'function', name: 'f', description: 'd', parameters: { type: 'object' }, strict: true },
        { type: 'web_search_preview' },
      ],
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'xhigh', summary: 'auto' },
      temperature: 0.2,
      safety_identifier: 'u-1',
      store: true,
      seed_unknown: 3,
    });
    expect(req.tools).toEqual([
      {
        type: 'function',
        function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true },
      },
    ]);
    expect(req.tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
    expect(req.parallel_tool_calls).toBe(false);
    expect(req.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'out', schema: { type: 'object' }, strict: true },
    });
    expect(req.reasoning_effort).toBe('high');
    expect(req.temperature).toBe(0.2);
    expect(req.user).toBe('u-1');
    expect(dropped).toEqual(['tools.web_search_preview', 'seed_unknown']);
  });

  it('refuses what needs OpenAI-side state, and bad shapes, naming the field', () => {
    for (const field of ['previous_response_id', 'conversation', 'prompt']) {
      const err = refusal({ model: 'm', input: 'hi', [field]: field === 'prompt' ? { id: 'p' } : 'x' });
      expect(err.code).toBe('INVALID_REQUEST');
      expect(err.message).toContain(`${field}:`);
    }
    expect(refusal({ model: 'm', input: 'hi', background: true }).message).toMatch(/^background:/);
    expect(refusal({ model: 'm' }).message).toBe('input: Field required');
    expect(refusal({ model: 'm', input: 7 }).message).toMatch(/^input: must be a string or an array/);
    expect(refusal({ model: 'm', input: [{ role: 'robot', content: 'x' }] }).message).toMatch(
      /^input\[0\]\.role:/,
    );
    expect(refusal({ model: 'm', input: [{ type: 'function_call', name: 'f' }] }).message).toBe(
      'input[0].call_id: must be a string',
    );
  });
});

const usage: Usage = {
  inputTokens: 12,
  cachedTokens: 2,
  cacheWriteTokens: 0,
  outputTokens: 7,
  reasoningTokens: 3,
};

describe('responses codec: completion', () => {
  it('reasoning, text and calls become output items in order, usage in Responses terms, the request echoed', () => {
    const completion = {
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'up',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            reasoning_content: 'Need the weather.',
            tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
    } as unknown as OpenAIChatCompletion;
    const body = { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f' }], temperature: 0.5 };
    const res = responsesCodec(body).fromOpenAI(completion, usage, 'm') as Json;
    expect(res).toMatchObject({
      id: 'resp_chatcmplabc',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      model: 'm',
      tools: body.tools,
      temperature: 0.5,
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 2 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 3 },
        total_tokens: 19,
      },
    });
    const output = res.output as Json[];
    expect(output.map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'Need the weather.' }] });
    expect(output[1]).toMatchObject({
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Checking.' }],
    });
    expect(output[2]).toMatchObject({
      call_id: 'call_9',
      name: 'f',
      arguments: '{"a":1}',
      status: 'completed',
    });
  });
});

function chunk(delta: Json, finish: string | null = null): OpenAIChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'up',
    choices: [{ index: 0, delta, finish_reason: finish }],
  } as unknown as OpenAIChatChunk;
}

function events(frames: string[]): Json[] {
  return frames.map((f) => {
    const [eventLine, dataLine] = f.trimEnd().split('\n');
    const data = JSON.parse(dataLine!.slice('data: '.length)) as Json;
    expect(eventLine).toBe(`event: ${String(data.type)}`);
    return data;
  });
}

describe('responses codec: stream', () => {
  it('reasoning, text and a call: each item opened, filled and closed, numbered from 0, then completed', () => {
    const enc = responsesCodec({ model: 'm', input: 'hi' }).streamEncoder('m');
    const frames = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'Hm' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({}, 'tool_calls'),
    ].flatMap((c) => enc.push(c));
    frames.push(...enc.end(usage));
    const evs = events(frames);
    expect(evs.map((e) => e.sequence_number)).toEqual(evs.map((_, i) => i));
    expect(evs.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = evs.filter((e) => e.type === 'response.output_item.added');
    expect(added.map((e) => e.output_index)).toEqual([0, 1, 2]);
    const textDone = evs.find((e) => e.type === 'response.output_text.done')!;
    expect(textDone).toMatchObject({ output_index: 1, content_index: 0, text: 'Hello' });
    const final = evs.at(-1)!.response as Json;
    expect(final.status).toBe('completed');
    expect((final.output as Json[]).map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect((final.output as Json[])[2]).toMatchObject({ call_id: 'call_1', name: 'f', arguments: '{"a":1}' });
    expect((final.usage as Json).output_tokens).toBe(7);
    expect((evs[0]!.response as Json).status).toBe('in_progress');
  });

  it('a length finish ends in response.incomplete; a failure is an error event, then response.failed', () => {
    const enc = responsesCodec({ model: 'm', input: 'hi' }).streamEncoder('m');
    const frames = [chunk({ content: 'Hi' }), chunk({}, 'length')].flatMap((c) => enc.push(c));
    frames.push(...enc.end(usage));
    const last = events(frames).at(-1)!;
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
    // a failure after the answer began: the item in progress is left out of the failed response
    const broken = responsesCodec({ model: 'm', input: 'hi' }).streamEncoder('m');
    broken.push(chunk({ content: 'Hi' }));
    const [err, failed] = events(
      broken.error({
        status: 502,
        code: 'upstream_error',
        type: 'api_error',
        message: 'upstream stream broke',
      }),
    );
    expect(err).toMatchObject({
      type: 'error',
      code: 'upstream_error',
      message: 'upstream stream broke',
      param: null,
      error: { type: 'api_error', code: 'upstream_error', message: 'upstream stream broke', param: null },
    });
    expect(failed!.type).toBe('response.failed');
    expect(failed!.response).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_error', message: 'upstream stream broke' },
      output: [],
    });
    expect([err!.sequence_number, failed!.sequence_number]).toEqual([5, 6]);
  });
});
