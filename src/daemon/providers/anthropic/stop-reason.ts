/**
 * Stop/finish reason tables between Anthropic and OpenAI (PROTOCOLS 7.3), in both directions:
 * the outbound adapter reads Anthropic reasons, the inbound codec writes them.
 */
import type { OpenAIFinishReason } from '../openai/types.js';
import type { AnthropicStopReason } from './types.js';

const TO_OPENAI: Record<string, OpenAIFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const TO_ANTHROPIC: Record<OpenAIFinishReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** Unknown future reasons become `stop`: the answer is complete as far as a client can tell. */
export function finishReasonFromAnthropic(reason: string | null | undefined): OpenAIFinishReason {
  return (reason && TO_OPENAI[reason]) || 'stop';
}

export function stopReasonFromOpenAI(reason: OpenAIFinishReason | null | undefined): AnthropicStopReason {
  return reason ? TO_ANTHROPIC[reason] : 'end_turn';
}
