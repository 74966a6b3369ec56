/**
 * Normalises an OpenAI-compatible chat stream into clean OpenAI chunks for the conversion paths
 * (a client that is not an OpenAI client on an OpenAI-family channel). Real servers differ in
 * small ways that break naive consumers (PROTOCOLS.md 2-3): Azure opens with an empty-choices
 * filter chunk, Qwen repeats `"id":""` on continuation tool deltas and adds an empty trailing
 * delta, some gateways number tool calls from 1, Gemini's compat endpoint sends empty ids, and
 * usage arrives in a separate `choices: []` chunk. Out of this come chunks where a tool call
 * starts exactly once with a real id, indexes count from 0, and usage is kept aside for usage().
 */
import { randomBytes } from 'node:crypto';
import type { ChatStreamConverter, ConvertContext, StreamEvent, UpstreamTarget, Usage } from '../types.js';
import { UpstreamStreamError } from '../types.js';
import type { OpenAIChatChunk, OpenAIChunkToolCall, OpenAIFinishReason } from './types.js';
import { parseOpenAIErrorMessage } from './errors.js';
import { usageFromOpenAI } from './usage.js';

type Json = Record<string, unknown>;
type ChunkChoice = OpenAIChatChunk['choices'][number];
type Delta = ChunkChoice['delta'];

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

const FINISH: Record<string, OpenAIFinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  function_call: 'function_call',
  // seen from OpenAI-compatible servers fronting other models
  eos: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
};

function streamFailure(message: string, status = 502): UpstreamStreamError {
  return new UpstreamStreamError({ status, action: 'retry', message });
}

/** Tool-call bookkeeping for one choice: upstream index (or position) -> our call. */
interface ChoiceState {
  calls: Map<number, { index: number; id: string }>;
}

class OpenAIStreamConverter implements ChatStreamConverter {
  private done = false;
  private finished = false;
  private lastUsage: Usage | null = null;
  private id: string | undefined;
  private created: number | undefined;
  private model: string;
  private readonly choices = new Map<number, ChoiceState>();

  constructor(target: UpstreamTarget) {
    this.model = target.upstreamModel;
  }

  push(event: StreamEvent): OpenAIChatChunk[] {
    if (event.kind !== 'sse' || this.done) return [];
    const data = event.data.trim();
    if (data === '') return [];
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    const chunk = this.parse(data, event.event);
    const usage = usageFromOpenAI(chunk.usage);
    if (usage !== null) this.lastUsage = usage;
    const rawChoices = Array.isArray(chunk.choices) ? chunk.choices : [];
    // Azure's opening filter chunk and the final usage chunk have no choices: nothing to say.
    if (rawChoices.length === 0) return [];
    this.remember(chunk);
    const choices: ChunkChoice[] = [];
    for (const raw of rawChoices) {
      const choice = this.choice(obj(raw) ?? {});
      if (choice !== undefined) choices.push(choice);
    }
    if (choices.length === 0) return [];
    return [
      {
        // once chosen, an id stays: clients expect every chunk of a response to share it
        id: (this.id ??= `chatcmpl-${randomBytes(12).toString('base64url')}`),
        object: 'chat.completion.chunk',
        created: this.created ?? Math.floor(Date.now() / 1000),
        model: this.model,
        choices,
      },
    ];
  }

  end(): OpenAIChatChunk[] {
    // A stream that stops with neither [DONE] nor a finish reason was cut off upstream.
    if (!this.done && !this.finished) {
      throw streamFailure('upstream stream ended before the response was complete');
    }
    return [];
  }

  usage(): Usage | null {
    return this.lastUsage;
  }

  private parse(data: string, eventName: string | undefined): Json {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      const excerpt = data.length > 80 ? `${data.slice(0, 80)}…` : data;
      throw streamFailure(`upstream sent an unparseable stream event: ${JSON.stringify(excerpt)}`);
    }
    const chunk = obj(parsed);
    if (chunk === undefined) throw streamFailure('upstream sent a stream event that is not a JSON object');
    if (chunk.error !== undefined || eventName === 'error') {
      const err = obj(chunk.error);
      const code = typeof err?.code === 'number' ? err.code : Number(err?.code);
      const status = Number.isInteger(code) && code >= 400 && code < 600 ? code : 502;
      throw streamFailure(`upstream stream error: ${parseOpenAIErrorMessage(data)}`, status);
    }
    return chunk;
  }

  private remember(chunk: Json): void {
    if (this.id === undefined && typeof chunk.id === 'string' && chunk.id !== '') this.id = chunk.id;
    if (this.created === undefined && typeof chunk.created === 'number' && chunk.created > 0) {
      this.created = chunk.created;
    }
    if (typeof chunk.model === 'string' && chunk.model !== '') this.model = chunk.model;
  }

  private choice(raw: Json): ChunkChoice | undefined {
    const index = typeof raw.index === 'number' ? raw.index : 0;
    const state = this.choices.get(index) ?? { calls: new Map() };
    this.choices.set(index, state);
    const delta = this.delta(obj(raw.delta) ?? {}, state);
    // own keys only: a reason named like an Object property (`toString`) is an unknown reason
    const reason = raw.finish_reason;
    const finish =
      typeof reason === 'string' ? (Object.hasOwn(FINISH, reason) ? FINISH[reason]! : 'stop') : null;
    if (finish !== null) this.finished = true;
    if (Object.keys(delta).length === 0 && finish === null) return undefined;
    // Some compatible servers end a tool-calling turn with "stop"; clients key off tool_calls.
    const finishReason = finish === 'stop' && state.calls.size > 0 ? 'tool_calls' : finish;
    return { index, delta, finish_reason: finishReason };
  }

  private delta(raw: Json, state: ChoiceState): Delta {
    const delta: Delta = {};
    if (raw.role === 'assistant') delta.role = 'assistant';
    if (typeof raw.content === 'string' && (raw.content !== '' || delta.role !== undefined)) {
      delta.content = raw.content;
    }
    // `reasoning` is the vLLM / OpenRouter spelling of reasoning_content.
    const reasoning = typeof raw.reasoning_content === 'string' ? raw.reasoning_content : raw.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') delta.reasoning_content = reasoning;
    if (typeof raw.refusal === 'string' && raw.refusal !== '') delta.refusal = raw.refusal;
    if (Array.isArray(raw.tool_calls)) {
      const calls = this.toolCalls(raw.tool_calls, state);
      if (calls.length > 0) delta.tool_calls = calls;
    }
    return delta;
  }

  private toolCalls(raw: unknown[], state: ChoiceState): OpenAIChunkToolCall[] {
    const out: OpenAIChunkToolCall[] = [];
    raw.forEach((item, position) => {
      const tc = obj(item) ?? {};
      const fn = obj(tc.function) ?? {};
      const key = typeof tc.index === 'number' ? tc.index : position;
      const args = typeof fn.arguments === 'string' ? fn.arguments : '';
      const known = state.calls.get(key);
      if (known === undefined) {
        // Numbering by order of appearance turns 1-based (or gappy) upstream indexes into 0,1,2...
        const call = {
          index: state.calls.size,
          id: typeof tc.id === 'string' && tc.id !== '' ? tc.id : newToolCallId(),
        };
        state.calls.set(key, call);
        const name = typeof fn.name === 'string' ? fn.name : '';
        out.push({ index: call.index, id: call.id, type: 'function', function: { name, arguments: args } });
      } else if (args !== '') {
        out.push({ index: known.index, function: { arguments: args } });
      }
    });
    return out;
  }
}

export function createOpenAIStreamConverter(
  target: UpstreamTarget,
  _ctx: ConvertContext,
): ChatStreamConverter {
  return new OpenAIStreamConverter(target);
}
