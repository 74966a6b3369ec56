/**
 * The answer's shape for an OpenAI client that uses the legacy function calling (`functions`
 * without `tools`) and is served by a channel of another protocol: canonicalChat sent its
 * functions as tools, so the upstream's first tool call comes back as the message's
 * `function_call` and the finish reason as `function_call`, the shape such a client reads
 * (legacy calling makes one call per turn; further calls are not part of that shape). Streams
 * are rewritten chunk by chunk; errors keep OpenAI's shape.
 */
import { openaiStreamEncoder } from './stream.js';
import { openaiChatEnded, openaiErrorBody } from './codec.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../providers/openai/types.js';
import type { InboundCodec } from '../types.js';
import { isObject, type Json } from '../validate.js';

/** Legacy calling: functions given and no tools, so the client expects `function_call` answers. */
export function usesLegacyFunctions(body: Json): boolean {
  return Array.isArray(body.functions) && body.functions.length > 0 && body.tools === undefined;
}

function legacyMessage(message: Json): Json {
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
  const { tool_calls: _t, ...rest } = message;
  const first = calls[0];
  return isObject(first?.function) ? { ...rest, function_call: first.function } : rest;
}

function legacyCompletion(completion: OpenAIChatCompletion): OpenAIChatCompletion {
  const choices = completion.choices.map((c) => ({
    ...c,
    message: legacyMessage(c.message as unknown as Json) as unknown as typeof c.message,
    finish_reason: c.finish_reason === 'tool_calls' ? ('function_call' as const) : c.finish_reason,
  }));
  return { ...completion, choices };
}

/** A tool-call delta of the first call as a function_call delta; deltas of later calls go. */
function legacyChunk(chunk: OpenAIChatChunk): OpenAIChatChunk {
  const choices = chunk.choices.map((c) => {
    const { tool_calls: calls, ...delta } = c.delta;
    const fn = calls?.find((t) => t.index === 0)?.function;
    return {
      ...c,
      delta: fn === undefined ? delta : { ...delta, function_call: fn },
      finish_reason: c.finish_reason === 'tool_calls' ? ('function_call' as const) : c.finish_reason,
    };
  });
  return { ...chunk, choices };
}

export function legacyFunctionsCodec(includeUsage: boolean): InboundCodec {
  return {
    protocol: 'openai',
    toOpenAI: () => {
      throw new Error('legacy function calling is converted by canonicalChat');
    },
    fromOpenAI: (completion) => legacyCompletion(completion),
    streamEncoder: (requestedModel) => {
      const inner = openaiStreamEncoder(requestedModel, includeUsage);
      return { ...inner, push: (chunk) => inner.push(legacyChunk(chunk)) };
    },
    errorBody: openaiErrorBody,
    streamEnded: openaiChatEnded,
  };
}
