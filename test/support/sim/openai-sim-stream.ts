/**
 * Streaming Chat Completions frames of the OpenAI simulator, exactly as PROTOCOLS.md 1.4
 * describes the recordings: a role delta first, content (or tool-call) deltas, a finish chunk,
 * then, only when the request asked with `stream_options.include_usage`, every chunk carries
 * `"usage":null` and a final `choices: []` chunk holds the usage; `data: [DONE]` ends it. With
 * `n` answers each choice index gets its own frames, one after the other. The `qwen` flavour
 * adds DashScope's quirks: continuation tool deltas repeating `"id":""` and `"type"`, an
 * empty-arguments delta without finish_reason, and reasoning_content deltas.
 */
import { randomBytes } from 'node:crypto';
import type { ChatPlan, Flavour } from './openai-sim-chat.js';
import { argFragments, usageOf } from './openai-sim-chat.js';

type Json = Record<string, unknown>;

export const DONE_FRAME = 'data: [DONE]\n\n';

export const MID_STREAM_ERROR_FRAME = `data: ${JSON.stringify({
  error: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
})}\n\n`;

function frame(obj: Json): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

class ChunkMaker {
  constructor(
    private readonly plan: ChatPlan,
    private readonly flavour: Flavour,
    private readonly withUsage: boolean,
  ) {}

  /** one chunk; `choice` is the whole choice object so quirky shapes can be expressed */
  make(choices: Json[], usage?: Json): string {
    const usageField = usage ?? (this.withUsage ? null : undefined);
    if (this.flavour === 'qwen') {
      return frame({
        choices,
        object: 'chat.completion.chunk',
        ...(usageField === undefined ? {} : { usage: usageField }),
        created: this.plan.created,
        system_fingerprint: null,
        model: this.plan.model,
        id: this.plan.id,
      });
    }
    return frame({
      id: this.plan.id,
      object: 'chat.completion.chunk',
      created: this.plan.created,
      model: this.plan.model,
      service_tier: 'default',
      system_fingerprint: 'fp_sim0000001',
      choices,
      ...(usageField === undefined ? {} : { usage: usageField }),
      // random padding, as OpenAI sends; consumers must ignore it
      obfuscation: randomBytes(6)
        .toString('base64url')
        .slice(0, 1 + ((randomBytes(1)[0] ?? 0) % 8)),
    });
  }

  delta(delta: Json, finish: string | null = null, index = 0): string {
    return this.make([{ index, delta, logprobs: null, finish_reason: finish }]);
  }
}

function toolFrames(m: ChunkMaker, plan: ChatPlan, flavour: Flavour, choice: number): string[] {
  const frames: string[] = [];
  plan.tools.forEach((tool, index) => {
    const start = { index, id: tool.id, type: 'function', function: { name: tool.name, arguments: '' } };
    frames.push(
      index === 0
        ? m.delta(
            flavour === 'qwen'
              ? { content: null, tool_calls: [start], role: 'assistant' }
              : { role: 'assistant', content: null, tool_calls: [start], refusal: null },
            null,
            choice,
          )
        : m.delta({ tool_calls: [start] }, null, choice),
    );
    for (const args of argFragments(tool.args)) {
      const cont =
        flavour === 'qwen'
          ? {
              content: null,
              tool_calls: [{ index, id: '', type: 'function', function: { arguments: args } }],
            }
          : { tool_calls: [{ index, function: { arguments: args } }] };
      frames.push(m.delta(cont, null, choice));
    }
    if (flavour === 'qwen') {
      // DashScope's extra delta: empty arguments, no finish_reason, no logprobs.
      const empty = { function: { arguments: '' }, index, id: '', type: 'function' };
      frames.push(m.make([{ delta: { tool_calls: [empty] }, index: choice }]));
    }
  });
  return frames;
}

function textFrames(m: ChunkMaker, plan: ChatPlan, choice: number): string[] {
  const frames = [m.delta({ role: 'assistant', content: '', refusal: null }, null, choice)];
  for (const r of plan.reasoning) frames.push(m.delta({ content: null, reasoning_content: r }, null, choice));
  for (const c of plan.content) frames.push(m.delta({ content: c }, null, choice));
  return frames;
}

/** Every frame of one streamed answer, `data: [DONE]` included. */
export function chatStreamFrames(plan: ChatPlan, flavour: Flavour, withUsage: boolean): string[] {
  const m = new ChunkMaker(plan, flavour, withUsage);
  const frames: string[] = [];
  for (let choice = 0; choice < plan.choices; choice++) {
    frames.push(
      ...(plan.tools.length > 0 ? toolFrames(m, plan, flavour, choice) : textFrames(m, plan, choice)),
    );
    frames.push(
      flavour === 'qwen'
        ? m.make([{ finish_reason: plan.finish, delta: {}, index: choice, logprobs: null }])
        : m.delta({}, plan.finish, choice),
    );
  }
  if (withUsage) frames.push(m.make([], usageOf(plan, flavour)));
  frames.push(DONE_FRAME);
  return frames;
}

/** Legacy `/v1/completions` stream: text_completion chunks, same usage rule. */
export function completionStreamFrames(plan: ChatPlan, withUsage: boolean): string[] {
  const base = {
    id: plan.id.replace('chatcmpl-', 'cmpl-'),
    object: 'text_completion',
    created: plan.created,
  };
  const usageField = withUsage ? { usage: null } : {};
  const chunk = (text: string, index: number, finish: string | null): string =>
    frame({
      ...base,
      choices: [{ text, index, logprobs: null, finish_reason: finish }],
      model: plan.model,
      ...usageField,
    });
  const frames: string[] = [];
  for (let index = 0; index < plan.choices; index++) {
    for (const text of plan.content) frames.push(chunk(text, index, null));
    frames.push(chunk('', index, plan.finish));
  }
  if (withUsage)
    frames.push(frame({ ...base, choices: [], model: plan.model, usage: usageOf(plan, 'qwen') }));
  frames.push(DONE_FRAME);
  return frames;
}
