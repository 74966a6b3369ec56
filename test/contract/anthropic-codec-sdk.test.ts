/**
 * The official `@anthropic-ai/sdk` must accept what the Anthropic inbound codec produces: a tiny
 * HTTP server replies with the codec's Message bodies, stream frames and error shapes, and the
 * SDK's own parsers (Message, MessageStream accumulation, in-stream error handling) read them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import type { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicCodec } from '../../src/daemon/inbound/anthropic/index.js';
import type { WireError } from '../../src/daemon/inbound/types.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { Usage } from '../../src/daemon/providers/types.js';

type Reply =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'stream'; chunks: OpenAIChatChunk[]; usage: Usage | null; error?: WireError };

let reply: Reply = { kind: 'json', status: 500, body: {} };
let server: http.Server;
let client: Anthropic;

function sendStream(res: http.ServerResponse, r: Extract<Reply, { kind: 'stream' }>): void {
  const enc = anthropicCodec.streamEncoder('claude-alias');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const c of r.chunks) for (const f of enc.push(c)) res.write(f);
  const tail = r.error ? enc.error(r.error) : enc.end(r.usage);
  for (const f of tail) res.write(f);
  res.end();
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (reply.kind === 'stream') return sendStream(res, reply);
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new Anthropic({ apiKey: 'k', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const params = {
  model: 'claude-alias',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content: 'hi' }],
};
const usage: Usage = {
  inputTokens: 120,
  cachedTokens: 100,
  cacheWriteTokens: 0,
  outputTokens: 9,
  reasoningTokens: 0,
};

function chunk(
  delta: OpenAIChatChunk['choices'][number]['delta'],
  finish: OpenAIChatChunk['choices'][number]['finish_reason'] = null,
): OpenAIChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

describe('SDK accepts the codec', () => {
  it('non-stream Message with thinking, text and tool_use', async () => {
    const completion: OpenAIChatCompletion = {
      id: 'chatcmpl-9',
      object: 'chat.completion',
      created: 1,
      model: 'gpt',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Looking it up.',
            reasoning_content: 'need weather',
            tool_calls: [
              { id: 'call_7', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
    };
    reply = { kind: 'json', status: 200, body: anthropicCodec.fromOpenAI(completion, usage, 'claude-alias') };
    const msg = await client.messages.create(params);
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(msg.content[2]).toMatchObject({ id: 'call_7', name: 'weather', input: { city: 'Oslo' } });
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.model).toBe('claude-alias');
    expect(msg.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 9 });
  });

  it('stream of text', async () => {
    reply = {
      kind: 'stream',
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({}, 'stop'),
      ],
      usage,
    };
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts).toEqual(['Hel', 'lo']);
    expect(final.content).toEqual([{ type: 'text', text: 'Hello' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 9 });
    expect(final.id).toBe('msg_chatcmpl1');
  });

  it('stream with thinking, text and two tool calls with fragmented arguments', async () => {
    reply = {
      kind: 'stream',
      chunks: [
        chunk({ role: 'assistant', reasoning_content: 'Two cities' }),
        chunk({ reasoning_content: ', two calls.' }),
        chunk({ content: 'Checking both.' }),
        chunk({
          tool_calls: [
            { index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
        chunk({
          tool_calls: [
            {
              index: 1,
              id: 'call_b',
              type: 'function',
              function: { name: 'weather', arguments: '{"city":"Rome"}' },
            },
          ],
        }),
        chunk({}, 'tool_calls'),
      ],
      usage,
    };
    const final = await client.messages.stream(params).finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'Two cities, two calls.' });
    expect(final.content[1]).toMatchObject({ type: 'text', text: 'Checking both.' });
    expect(final.content[2]).toMatchObject({ id: 'call_a', name: 'weather', input: { city: 'Oslo' } });
    expect(final.content[3]).toMatchObject({ id: 'call_b', name: 'weather', input: { city: 'Rome' } });
    expect(final.stop_reason).toBe('tool_use');
  });

  it('raises the in-stream error frame as an APIError of the right type', async () => {
    reply = {
      kind: 'stream',
      chunks: [chunk({ role: 'assistant', content: 'partial' })],
      usage: null,
      error: { status: 529, code: 'upstream_error', type: 'api_error', message: 'Overloaded' },
    };
    const err = await client.messages
      .stream(params)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as APIError).type).toBe('overloaded_error');
    expect((err as APIError).apiMessage).toBe('Overloaded');
  });

  it('error bodies map to the SDK error classes', async () => {
    const cases: [WireError, unknown][] = [
      [
        { status: 401, code: 'invalid_api_key', type: 'x', message: 'bad key' },
        Anthropic.AuthenticationError,
      ],
      [{ status: 429, code: 'rate_limit_exceeded', type: 'x', message: 'slow' }, Anthropic.RateLimitError],
      [
        { status: 400, code: 'invalid_request', type: 'x', message: 'max_tokens: Field required' },
        Anthropic.BadRequestError,
      ],
      [{ status: 404, code: 'model_not_found', type: 'x', message: 'no model' }, Anthropic.NotFoundError],
    ];
    for (const [wire, cls] of cases) {
      const { status, body } = anthropicCodec.errorBody(wire);
      reply = { kind: 'json', status, body };
      const err = await client.messages.create(params).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect((err as APIError).apiMessage).toBe(wire.message);
    }
  });
});
