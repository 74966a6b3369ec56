/**
 * The Responses codec with the tools Codex sends: an `additional_tools` input item holding
 * namespaces of functions and a free-form `custom` tool, `custom_tool_call` items and their
 * outputs, calls that carry their `namespace`, tool outputs whose call was dropped, and
 * `text.verbosity`; and the way back, where an upstream call of `ns__name` is answered as the
 * tool the client declared (a `function_call` with its namespace, or a `custom_tool_call` with
 * the raw input, streamed with `response.custom_tool_call_input.*` events).
 */
import { describe, expect, it } from 'vitest';
import { responsesCodec } from '../../src/daemon/inbound/responses/index.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { Usage } from '../../src/daemon/providers/types.js';

type Json = Record<string, unknown>;

/** What Codex's default model sends (trimmed): tools only in an additional_tools item. */
const CODEX_BODY: Json = {
  model: 'gpt-6.2-sol',
  stream: true,
  store: false,
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: 'thread-1',
  reasoning: { effort: 'low', context: 'all_turns' },
  text: { verbosity: 'low' },
  client_metadata: { thread_id: 'thread-1' },
  input: [
    {
      type: 'additional_tools',
      id: 'at_1',
      role: 'developer',
      tools: [
        {
          type: 'namespace',
          name: 'functions',
          description: '',
          tools: [
            {
              type: 'custom',
              name: 'exec',
              description: 'Run JavaScript code.',
              format: { type: 'grammar', syntax: 'lark', definition: 'start: SOURCE' },
            },
            { type: 'function', name: 'wait', strict: false, parameters: { type: 'object', properties: {} } },
          ],
        },
        { type: 'web_search', external_web_access: false },
      ],
    },
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'say hello' }] },
    { type: 'reasoning', summary: [], encrypted_content: 'gAAAAAB-opaque' },
    { type: 'custom_tool_call', call_id: 'call_1', namespace: 'functions', name: 'exec', input: 'run()' },
    { type: 'custom_tool_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'ok' }] },
    { type: 'function_call', call_id: 'call_2', namespace: 'functions', name: 'wait', arguments: '{}' },
    { type: 'function_call_output', call_id: 'call_2', output: 'waited' },
    {
      type: 'local_shell_call',
      call_id: 'call_3',
      status: 'completed',
      action: { type: 'exec', command: ['ls'] },
    },
    { type: 'local_shell_call_output', call_id: 'call_3', output: 'a.txt' },
  ],
};

function convert(body: Json): { req: Json; dropped: string[] } {
  const dropped: string[] = [];
  const req = responsesCodec(body).toOpenAI(body, { dropped }) as unknown as Json;
  return { req, dropped };
}

describe('responses codec: Codex tools on the way up', () => {
  it('the additional_tools item is the tool list: namespaces flattened, a custom tool as one string', () => {
    const { req, dropped } = convert(CODEX_BODY);
    const tools = req.tools as { function: { name: string; description?: string; parameters?: Json } }[];
    expect(tools.map((t) => t.function.name)).toEqual(['functions__exec', 'functions__wait']);
    expect(tools[0]!.function.parameters).toEqual({
      type: 'object',
      properties: { input: { type: 'string', description: 'The raw input of this tool.' } },
      required: ['input'],
      additionalProperties: false,
    });
    expect(tools[0]!.function.description).toBe(
      'Run JavaScript code.\n\nThe "input" argument must follow this lark grammar:\nstart: SOURCE',
    );
    expect(dropped).toEqual([
      'tools.web_search',
      'input[3].reasoning',
      'input[8].local_shell_call',
      'input[9].local_shell_call_output',
      'text.verbosity',
      'client_metadata',
    ]);
    expect(req.reasoning_effort).toBe('low');
  });

  it('calls carry their namespace into the flat name; a custom call its input as the one argument', () => {
    const { req } = convert(CODEX_BODY);
    const messages = req.messages as Json[];
    expect(messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'functions__exec', arguments: '{"input":"run()"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_2', type: 'function', function: { name: 'functions__wait', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_2', content: 'waited' },
    ]);
  });

  it('a bare name known in one namespace finds it; forcing a custom tool forces its function', () => {
    const body: Json = {
      ...CODEX_BODY,
      tool_choice: { type: 'custom', name: 'exec' },
      input: [
        (CODEX_BODY.input as Json[])[0],
        { type: 'custom_tool_call', call_id: 'c', name: 'exec', input: 'x' },
        { type: 'custom_tool_call_output', call_id: 'c', output: 'y' },
      ],
    };
    const { req } = convert(body);
    expect(req.tool_choice).toEqual({ type: 'function', function: { name: 'functions__exec' } });
    const call = ((req.messages as Json[])[0]!.tool_calls as Json[])[0]!;
    expect(call.function).toEqual({ name: 'functions__exec', arguments: '{"input":"x"}' });
  });

  it('a tool output whose call is not in the input is dropped, not sent as an orphan', () => {
    const { req, dropped } = convert({
      model: 'm',
      input: [
        { role: 'user', content: 'hi' },
        { type: 'function_call_output', call_id: 'gone', output: 'x' },
      ],
    });
    expect(req.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(dropped).toEqual(['input[1].function_call_output']);
  });
});

const usage: Usage = {
  inputTokens: 10,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 4,
  reasoningTokens: 0,
};

function completion(name: string, args: string): OpenAIChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'up',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_9', type: 'function', function: { name, arguments: args } }],
        },
        finish_reason: 'tool_calls',
      },
    ],
  };
}

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
  return frames.map((f) => JSON.parse(f.trimEnd().split('\n')[1]!.slice('data: '.length)) as Json);
}

describe('responses codec: Codex tools on the way back', () => {
  it('a call of a custom tool is a custom_tool_call with the raw input; a namespaced function keeps its namespace', () => {
    const codec = responsesCodec(CODEX_BODY);
    const custom = codec.fromOpenAI(
      completion('functions__exec', '{"input":"print(1)"}'),
      usage,
      'gpt-6.2-sol',
    );
    expect((custom as Json).output).toEqual([
      {
        id: expect.stringMatching(/^ctc_/) as unknown,
        type: 'custom_tool_call',
        status: 'completed',
        call_id: 'call_9',
        name: 'exec',
        namespace: 'functions',
        input: 'print(1)',
      },
    ]);
    const fn = codec.fromOpenAI(completion('functions__wait', '{}'), usage, 'gpt-6.2-sol');
    expect((fn as Json).output).toEqual([
      {
        id: expect.stringMatching(/^fc_/) as unknown,
        type: 'function_call',
        status: 'completed',
        arguments: '{}',
        call_id: 'call_9',
        name: 'wait',
        namespace: 'functions',
      },
    ]);
  });

  it('streamed, a custom call opens empty and sends its input whole once the arguments are complete', () => {
    const enc = responsesCodec(CODEX_BODY).streamEncoder('gpt-6.2-sol');
    const frames = [
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'functions__exec', arguments: '{"inp' },
          },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ut":"a\\nb"}' } }] }),
      chunk({}, 'tool_calls'),
    ].flatMap((c) => enc.push(c));
    frames.push(...enc.end(usage));
    const evs = events(frames);
    expect(evs.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(evs[2]!.item).toMatchObject({
      type: 'custom_tool_call',
      name: 'exec',
      namespace: 'functions',
      input: '',
    });
    expect(evs[3]).toMatchObject({ output_index: 0, delta: 'a\nb' });
    expect(evs[4]).toMatchObject({ output_index: 0, input: 'a\nb', item_id: (evs[2]!.item as Json).id });
    expect(evs[5]!.item).toMatchObject({
      type: 'custom_tool_call',
      call_id: 'call_1',
      input: 'a\nb',
      status: 'completed',
    });
    expect(((evs[6]!.response as Json).output as Json[])[0]).toMatchObject({
      type: 'custom_tool_call',
      input: 'a\nb',
    });
  });
});
