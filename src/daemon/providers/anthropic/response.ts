/**
 * Anthropic Message -> OpenAI chat.completion (PROTOCOLS 7.2-7.4): text blocks joined into
 * `content`, tool_use blocks into `tool_calls`, thinking into `reasoning_content`, the stop reason
 * mapped, usage normalized to OpenAI semantics. The json_tool_call forced for `response_format`
 * is unwrapped back into plain content with finish_reason `stop`.
 */
import { BcError } from '../../../shared/errors.js';
import type { Usage } from '../types.js';
import type { OpenAIChatCompletion, OpenAIToolCall } from '../openai/types.js';
import type { AnthropicMessage } from './types.js';
import { JSON_TOOL_NAME, isRecord } from './types.js';
import { asAnthropicUsage, toOpenAIUsage, usageFromAnthropic } from './usage.js';
import { finishReasonFromAnthropic } from './stop-reason.js';

export function parseMessage(body: unknown): AnthropicMessage {
  if (!isRecord(body) || !Array.isArray(body.content)) {
    throw new BcError('UPSTREAM_ERROR', 'anthropic: response is not a Message object');
  }
  return body as unknown as AnthropicMessage;
}

export function messageToCompletion(
  msg: AnthropicMessage,
  fallbackModel: string,
): { completion: OpenAIChatCompletion; usage: Usage | null } {
  let text = '';
  let reasoning = '';
  let jsonAnswer = false;
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of msg.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'thinking') reasoning += block.thinking;
    else if (block.type === 'tool_use' && block.name === JSON_TOOL_NAME) {
      text += JSON.stringify(block.input ?? {});
      jsonAnswer = true;
    } else if (block.type === 'tool_use') {
      const args = JSON.stringify(block.input ?? {});
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    }
  }
  const raw = asAnthropicUsage(msg.usage);
  const usage = raw ? usageFromAnthropic(raw) : null;
  const finish = jsonAnswer && toolCalls.length === 0 ? 'stop' : finishReasonFromAnthropic(msg.stop_reason);
  const message: OpenAIChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text.length > 0 || toolCalls.length === 0 ? text : null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  const completion: OpenAIChatCompletion = {
    id: typeof msg.id === 'string' ? msg.id : '',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof msg.model === 'string' ? msg.model : fallbackModel,
    choices: [{ index: 0, message, finish_reason: finish }],
  };
  if (usage) completion.usage = toOpenAIUsage(usage);
  return { completion, usage };
}
