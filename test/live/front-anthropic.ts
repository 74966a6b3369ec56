/**
 * The live cases through the official `@anthropic-ai/sdk` on the gateway's `/v1/messages`: a
 * short answer, the same through the SDK's stream helper (whose final message merges
 * message_start's usage with message_delta's, as applications read it), and a tool round trip
 * (a forced get_weather call, then the turn carrying its tool_result). 32 output tokens each.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { ASK, FORECAST, LIVE_TIMEOUT_MS, MAX_TOKENS, PROMPT } from './prompts.js';
import { fromAnthropic, type Answer, type FrontClient, type ToolRoundTrip } from './usage.js';

const WEATHER: Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

function textOf(content: Anthropic.ContentBlock[]): string {
  return content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

export function anthropicFront(gatewayUrl: string, key: string): FrontClient {
  const client = new Anthropic({ baseURL: gatewayUrl, apiKey: key, maxRetries: 0, timeout: LIVE_TIMEOUT_MS });

  return {
    async text(model): Promise<Answer> {
      const msg = await client.messages.create({
        model,
        max_tokens: MAX_TOKENS,
        messages: [{ role: 'user', content: PROMPT }],
      });
      return { text: textOf(msg.content), usage: fromAnthropic(msg.usage), pieces: 1 };
    },

    async stream(model): Promise<Answer> {
      const stream = client.messages.stream({
        model,
        max_tokens: MAX_TOKENS,
        messages: [{ role: 'user', content: PROMPT }],
      });
      let pieces = 0;
      stream.on('streamEvent', () => (pieces += 1));
      const msg = await stream.finalMessage();
      return { text: textOf(msg.content), usage: fromAnthropic(msg.usage), pieces };
    },

    async tools(model): Promise<ToolRoundTrip> {
      const messages: MessageParam[] = [{ role: 'user', content: ASK }];
      const first = await client.messages.create({
        model,
        max_tokens: MAX_TOKENS,
        messages,
        tools: [WEATHER],
        tool_choice: { type: 'tool', name: 'get_weather' },
      });
      const use = first.content.find((b) => b.type === 'tool_use');
      if (use?.type !== 'tool_use') throw new Error(`no tool_use block in ${JSON.stringify(first.content)}`);
      const second = await client.messages.create({
        model,
        max_tokens: MAX_TOKENS,
        tools: [WEATHER],
        messages: [
          ...messages,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: use.id, content: JSON.stringify(FORECAST) }],
          },
        ],
      });
      return {
        call: { name: use.name, args: use.input as Record<string, unknown> },
        first: fromAnthropic(first.usage),
        answer: { text: textOf(second.content), usage: fromAnthropic(second.usage), pieces: 1 },
      };
    },
  };
}
