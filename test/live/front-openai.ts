/**
 * The live cases through the official `openai` client on the gateway's `/v1/chat/completions`:
 * a short answer, the same streamed (asking for the usage chunk, as an application that bills
 * does), and a tool round trip (a forced call to get_weather, then the turn carrying its result).
 * Requests stay tiny: 32 output tokens unless the provider's `openaiExtra` says otherwise.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { ASK, FORECAST, LIVE_TIMEOUT_MS, MAX_TOKENS, PROMPT } from './prompts.js';
import { fromOpenAI, type Answer, type FrontClient, type ToolRoundTrip } from './usage.js';

const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

export function openaiFront(
  gatewayUrl: string,
  key: string,
  extra: Record<string, unknown> = {},
): FrontClient {
  const client = new OpenAI({
    baseURL: `${gatewayUrl}/v1`,
    apiKey: key,
    maxRetries: 0,
    timeout: LIVE_TIMEOUT_MS,
  });
  const base = { max_tokens: MAX_TOKENS, ...extra };
  const ask = (model: string, messages: ChatCompletionMessageParam[], more: object = {}) =>
    client.chat.completions.create({ ...base, model, messages, ...more, stream: false });

  return {
    async text(model): Promise<Answer> {
      const res = await ask(model, [{ role: 'user', content: PROMPT }]);
      return { text: res.choices[0]?.message.content ?? '', usage: fromOpenAI(res.usage), pieces: 1 };
    },

    async stream(model): Promise<Answer> {
      const stream = await client.chat.completions.create({
        ...base,
        model,
        messages: [{ role: 'user', content: PROMPT }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let pieces = 0;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        pieces += 1;
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage: fromOpenAI(usage), pieces };
    },

    async tools(model): Promise<ToolRoundTrip> {
      const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: ASK }];
      const first = await ask(model, messages, {
        tools: [WEATHER],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      const msg = first.choices[0]?.message;
      const call = msg?.tool_calls?.[0];
      if (call?.type !== 'function') throw new Error(`no function call in ${JSON.stringify(first.choices)}`);
      const second = await ask(
        model,
        [
          ...messages,
          { role: 'assistant', content: msg?.content ?? null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: JSON.stringify(FORECAST) },
        ],
        { tools: [WEATHER] },
      );
      return {
        call: {
          name: call.function.name,
          args: JSON.parse(call.function.arguments) as Record<string, unknown>,
        },
        first: fromOpenAI(first.usage),
        answer: {
          text: second.choices[0]?.message.content ?? '',
          usage: fromOpenAI(second.usage),
          pieces: 1,
        },
      };
    },
  };
}
