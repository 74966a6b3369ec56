/**
 * The OpenAI client's side of a converted stream: canonical chunks out as `data:` frames, the
 * usage chunk only when the client asked for it (stream_options.include_usage), `[DONE]` last,
 * and the in-stream error event openai-node understands.
 */
import type { InboundStreamEncoder, WireError } from '../types.js';
import type { OpenAIChatChunk } from '../../providers/openai/types.js';
import { openAIUsage } from '../../providers/openai/usage.js';
import type { Usage } from '../../providers/types.js';

export function openaiStreamEncoder(model: string, includeUsage: boolean): InboundStreamEncoder {
  let id = '';
  let created = Math.floor(Date.now() / 1000);
  return {
    push(chunk: OpenAIChatChunk): string[] {
      if (chunk.id) id = chunk.id;
      if (chunk.created) created = chunk.created;
      return [`data: ${JSON.stringify(chunk)}\n\n`];
    },
    end(usage: Usage | null): string[] {
      const frames: string[] = [];
      if (includeUsage && usage) {
        const last: OpenAIChatChunk = {
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [],
          usage: openAIUsage(usage),
        };
        frames.push(`data: ${JSON.stringify(last)}\n\n`);
      }
      frames.push('data: [DONE]\n\n');
      return frames;
    },
    error(err: WireError): string[] {
      const body = {
        error: { message: err.message, type: err.type, code: err.code, param: err.param ?? null },
      };
      return [`data: ${JSON.stringify(body)}\n\n`];
    },
  };
}
