/**
 * The Responses request conversion item by item, with whole expected chat requests: user parts
 * (image detail, files with and without a name, a file id it cannot carry, unknown parts),
 * assistant and system text from parts and refusals, function and custom tool calls with missing
 * arguments, tool outputs given as parts, tool_choice values it cannot map, text formats, and
 * every refusal of a malformed field with its exact message (the client is told what to fix).
 */
import { describe, expect, it } from 'vitest';
import { responsesCodec } from '../../src/daemon/inbound/responses/index.js';
import { BcError } from '../../src/shared/errors.js';

type Json = Record<string, unknown>;

function convert(body: Json): { req: Json; dropped: string[] } {
  const dropped: string[] = [];
  const req = responsesCodec(body).toOpenAI(body, { dropped }) as unknown as Json;
  return { req, dropped };
}

function refusal(body: Json): string {
  try {
    convert(body);
  } catch (err) {
    if (err instanceof BcError) {
      expect(err.code).toBe('INVALID_REQUEST');
      return err.message;
    }
    throw err;
  }
  throw new Error('expected a refusal');
}

const user = (content: unknown): Json => ({
  model: 'm',
  input: [{ type: 'message', role: 'user', content }],
});

describe('responses request: user parts', () => {
  it('images keep a low or high detail, anything else is auto; an image by file id is dropped', () => {
    const { req, dropped } = convert(
      user([
        { type: 'input_image', image_url: 'https://x.test/a.png', detail: 'low' },
        { type: 'input_image', image_url: 'https://x.test/b.png', detail: 'high' },
        { type: 'input_image', image_url: 'https://x.test/c.png', detail: 'original' },
        { type: 'input_image', image_url: 'data:image/png;base64,AA' },
        { type: 'input_image', file_id: 'file_1' },
      ]),
    );
    expect(req.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'https://x.test/a.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'https://x.test/b.png', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://x.test/c.png', detail: 'auto' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'auto' } },
        ],
      },
    ]);
    expect(dropped).toEqual(['input[0].content[4].file_id']);
  });

  it('files with data become file parts, named when a name is given; by id or unknown parts are dropped', () => {
    const { req, dropped } = convert(
      user([
        { type: 'input_file', file_data: 'data:application/pdf;base64,JVB', filename: 'a.pdf' },
        { type: 'input_file', file_data: 'data:application/pdf;base64,JVC' },
        { type: 'input_file', file_id: 'file_2' },
        { type: 'input_audio', data: 'AAA' },
        { type: 'text', text: 'plain' },
        { type: 'output_text', text: 'echoed' },
      ]),
    );
    expect(req.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVB', filename: 'a.pdf' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVC' } },
          { type: 'text', text: 'plain' },
          { type: 'text', text: 'echoed' },
        ],
      },
    ]);
    expect(dropped).toEqual(['input[0].content[2].file_id', 'input[0].content[3].input_audio']);
  });
});

describe('responses request: other items', () => {
  it('assistant and system text join their parts; a refusal part is text; a part with neither is empty', () => {
    const { req } = convert({
      model: 'm',
      input: [
        {
          role: 'system',
          content: [
            { type: 'input_text', text: 'sys ' },
            { type: 'input_text', text: 'two' },
          ],
        },
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'output_text', text: 'a' },
            { type: 'refusal', refusal: 'no' },
            { type: 'other' },
          ],
        },
      ],
    });
    expect(req.messages).toEqual([
      { role: 'system', content: 'sys two' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'ano' },
    ]);
  });

  it('a custom call without input sends an empty input; a function call without arguments sends {}', () => {
    const { req } = convert({
      model: 'm',
      tools: [{ type: 'custom', name: 'patch' }],
      input: [
        { role: 'user', content: 'q' },
        { type: 'custom_tool_call', call_id: 'c1', name: 'patch' },
        { type: 'function_call', call_id: 'c2', name: 'f' },
      ],
    });
    expect(req.messages).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'patch', arguments: '{"input":""}' } },
          { id: 'c2', type: 'function', function: { name: 'f', arguments: '{}' } },
        ],
      },
    ]);
  });

  it('a tool output given as parts keeps their text and names the parts it drops', () => {
    const { req, dropped } = convert({
      model: 'm',
      input: [
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        {
          type: 'function_call_output',
          call_id: 'c1',
          output: [
            { type: 'input_text', text: 'one ' },
            { type: 'input_image', image_url: 'x' },
            { text: 'two' },
          ],
        },
      ],
    });
    expect(req.messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one two' },
    ]);
    expect(dropped).toEqual(['input[1].output[1]']);
  });

  it('items with no type and no role, or a type it cannot use, are dropped by name', () => {
    const { req, dropped } = convert({
      model: 'm',
      input: [
        { content: 'x' },
        { type: 'reasoning', summary: [] },
        { type: 7 },
        { role: 'user', content: 'q' },
      ],
    });
    expect(req.messages).toEqual([{ role: 'user', content: 'q' }]);
    expect(dropped).toEqual(['input[0].unknown', 'input[1].reasoning', 'input[2].unknown']);
  });
});

describe('responses request: request-level fields', () => {
  it('the smallest request converts to exactly model and messages', () => {
    expect(convert({ model: 'm', input: 'hi' })).toEqual({
      req: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
      dropped: [],
    });
  });

  it('a tool_choice it cannot map is dropped; null is not', () => {
    const tools = [{ type: 'function', name: 'f', parameters: { type: 'object' } }];
    const hosted = convert({ model: 'm', input: 'q', tools, tool_choice: { type: 'web_search_preview' } });
    expect(hosted.req).not.toHaveProperty('tool_choice');
    expect(hosted.dropped).toEqual(['tool_choice']);
    const none = convert({ model: 'm', input: 'q', tools, tool_choice: null });
    expect(none.req).not.toHaveProperty('tool_choice');
    expect(none.dropped).toEqual([]);
    expect(convert({ model: 'm', input: 'q', tools, tool_choice: 'required' }).req.tool_choice).toBe(
      'required',
    );
  });

  it('text formats: json_object, a json_schema with and without its optional fields, text', () => {
    const format = (f: unknown) =>
      convert({ model: 'm', input: 'q', text: { format: f } }).req.response_format;
    expect(format({ type: 'json_object' })).toEqual({ type: 'json_object' });
    expect(format({ type: 'json_schema' })).toEqual({
      type: 'json_schema',
      json_schema: { name: 'response' },
    });
    expect(
      format({ type: 'json_schema', name: 'n', schema: { type: 'object' }, strict: true, description: 'd' }),
    ).toEqual({
      type: 'json_schema',
      json_schema: { name: 'n', schema: { type: 'object' }, strict: true, description: 'd' },
    });
    expect(format({ type: 'text' })).toBeUndefined();
  });

  it('sampling, user, metadata and reasoning effort carry over; verbosity and unknown fields are dropped', () => {
    const { req, dropped } = convert({
      model: 'm',
      input: 'q',
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      user: 'u1',
      metadata: { k: 'v' },
      reasoning: { effort: 'xhigh' },
      text: { verbosity: 'low' },
      top_logprobs: 2,
      stream: true,
    });
    expect(req).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'q' }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      user: 'u1',
      metadata: { k: 'v' },
      reasoning_effort: 'high',
    });
    expect(dropped).toEqual(['text.verbosity', 'top_logprobs']);
    expect(convert({ model: 'm', input: 'q', safety_identifier: 's', user: 'u' }).req.user).toBe('s');
    expect(convert({ model: 'm', input: 'q', reasoning: { effort: 'minimal' } }).req.reasoning_effort).toBe(
      'minimal',
    );
    expect(convert({ model: 'm', input: 'q', reasoning: { effort: 'none' } }).req).not.toHaveProperty(
      'reasoning_effort',
    );
  });
});

describe('responses request: refusals name the field and the fix', () => {
  it('each malformed field has its own message', () => {
    expect(refusal({ model: '', input: 'q' })).toBe('model: must be a non-empty string');
    expect(refusal({ model: 'm', input: 'q', instructions: 3 })).toBe('instructions: must be a string');
    expect(refusal({ model: 'm', input: ['x'] })).toBe('input[0]: must be an object');
    expect(refusal(user(5))).toBe('input[0].content: must be a string or an array of parts');
    expect(refusal(user(['x']))).toBe('input[0].content[0]: must be an object');
    expect(refusal({ model: 'm', input: [{ role: 'assistant', content: 5 }] })).toBe(
      'input[0].content: must be a string or an array of parts',
    );
    expect(refusal({ model: 'm', input: [{ role: 'assistant', content: [3] }] })).toBe(
      'input[0].content[0]: must be an object',
    );
    expect(
      refusal({
        model: 'm',
        input: [
          { type: 'function_call', call_id: 'c', name: 'f' },
          { type: 'function_call_output', call_id: 'c', output: 5 },
        ],
      }),
    ).toBe('input[1].output: must be a string or an array of parts');
    expect(refusal({ model: 'm', input: 'q', previous_response_id: 'resp_1' })).toBe(
      'previous_response_id: refers to state kept by OpenAI; the gateway keeps no responses, so a channel of another protocol cannot serve it (send the whole conversation in "input", or route this model to an OpenAI channel)',
    );
  });
});
