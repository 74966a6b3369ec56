/**
 * Canonical chat chunks -> an OpenAI Responses event stream: `response.created` and
 * `response.in_progress`, then per output item `response.output_item.added`, its deltas
 * (`response.reasoning_summary_text.delta`, `response.output_text.delta`,
 * `response.function_call_arguments.delta`) and its closing `.done` events, and last
 * `response.completed` (or `response.incomplete`) carrying the whole Response with usage. Every
 * event is named and numbered (`sequence_number`), as OpenAI sends them. A call of a custom tool
 * arrives as chat arguments (`{"input": ...}`), which can only be unwrapped whole, so its
 * `response.custom_tool_call_input.delta` comes once, when the call is complete.
 */
import type { Usage } from '../../providers/types.js';
import type {
  OpenAIChatChunk,
  OpenAIChunkToolCall,
  OpenAIFinishReason,
} from '../../providers/openai/types.js';
import { sseFrame } from '../../streams/sse.js';
import type { InboundStreamEncoder, WireError } from '../types.js';
import type { Json } from '../validate.js';
import {
  itemId,
  messageItem,
  outputText,
  reasoningItem,
  responseObject,
  toolCallItem,
  type ResponseEcho,
  type ResponseHead,
} from './response.js';
import { customInput, type ToolMap } from './tools.js';

interface OpenItem {
  kind: 'reasoning' | 'message' | 'function_call' | 'custom_tool_call';
  id: string;
  index: number;
  text: string;
  /** the tool call's index in the chat stream, and its id and name */
  toolIndex?: number;
  callId?: string;
  name?: string;
}

export class ResponsesStreamEncoder implements InboundStreamEncoder {
  private seq = 0;
  private head: ResponseHead | null = null;
  private open: OpenItem | null = null;
  private readonly done: Json[] = [];
  private readonly seenTools = new Set<number>();
  private finish: OpenAIFinishReason | null = null;

  constructor(
    private readonly model: string,
    private readonly echo: ResponseEcho,
    private readonly tools: ToolMap,
  ) {}

  push(chunk: OpenAIChatChunk): string[] {
    const out = this.head ? [] : this.start(chunk.id, chunk.created);
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta;
    if (d.reasoning_content) {
      out.push(...this.ensure('reasoning'));
      this.open!.text += d.reasoning_content;
      out.push(this.reasoningEvent('response.reasoning_summary_text.delta', { delta: d.reasoning_content }));
    }
    if (d.content) {
      out.push(...this.ensure('message'));
      this.open!.text += d.content;
      out.push(this.textEvent('response.output_text.delta', { delta: d.content, logprobs: [] }));
    }
    for (const tc of d.tool_calls ?? []) out.push(...this.toolDelta(tc));
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(usage: Usage | null): string[] {
    const out = this.head ? [] : this.start(undefined, undefined);
    out.push(...this.close());
    const finish = this.finish ?? 'stop';
    const response = responseObject(this.head!, this.done, usage, finish);
    const type = response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    out.push(this.event(type, { response }));
    return out;
  }

  /**
   * As OpenAI ends a failed stream: an `error` event (the error nested, which the official client
   * throws on, and flat, as its types describe it), then `response.failed` with what was produced.
   */
  error(err: WireError): string[] {
    const error = { type: err.type, code: err.code, message: err.message, param: err.param ?? null };
    this.head ??= this.newHead(undefined, undefined);
    const response = {
      ...responseObject(this.head, this.done, null, null),
      status: 'failed',
      error: { code: err.code, message: err.message },
    };
    return [
      this.event('error', { code: err.code, message: err.message, param: err.param ?? null, error }),
      this.event('response.failed', { response }),
    ];
  }

  private event(type: string, fields: Json): string {
    const data = JSON.stringify({ type, ...fields, sequence_number: this.seq++ });
    return sseFrame(data, type);
  }

  private newHead(upstreamId: string | undefined, created: number | undefined): ResponseHead {
    return {
      id: itemId('resp', upstreamId),
      createdAt: created ?? Math.floor(Date.now() / 1000),
      model: this.model,
      echo: this.echo,
    };
  }

  private start(upstreamId: string | undefined, created: number | undefined): string[] {
    this.head = this.newHead(upstreamId, created);
    const response = responseObject(this.head, [], null, 'in_progress');
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  private textEvent(type: string, fields: Json): string {
    const o = this.open!;
    return this.event(type, { item_id: o.id, output_index: o.index, content_index: 0, ...fields });
  }

  private reasoningEvent(type: string, fields: Json): string {
    const o = this.open!;
    return this.event(type, { item_id: o.id, output_index: o.index, summary_index: 0, ...fields });
  }

  private openItem(item: OpenItem, added: Json): string[] {
    const out = this.close();
    item.index = this.done.length;
    this.open = item;
    out.push(this.event('response.output_item.added', { output_index: item.index, item: added }));
    return out;
  }

  private ensure(kind: 'reasoning' | 'message'): string[] {
    if (this.open?.kind === kind) return [];
    if (kind === 'reasoning') {
      const id = itemId('rs');
      const out = this.openItem({ kind, id, index: 0, text: '' }, { id, type: 'reasoning', summary: [] });
      out.push(this.reasoningEvent('response.reasoning_summary_part.added', { part: summaryPart('') }));
      return out;
    }
    const id = itemId('msg');
    const out = this.openItem({ kind, id, index: 0, text: '' }, messageItem(id, '', 'in_progress'));
    out.push(this.textEvent('response.content_part.added', { part: outputText('') }));
    return out;
  }

  /** Chat streams send one tool call after another, keyed by index; each becomes an item. */
  private toolDelta(tc: OpenAIChunkToolCall): string[] {
    const out: string[] = [];
    const isOpen = this.open?.toolIndex === tc.index && this.open.kind !== 'message';
    if (!isOpen) {
      if (this.seenTools.has(tc.index)) return out;
      this.seenTools.add(tc.index);
      const call = { id: tc.id ?? itemId('fc'), name: tc.function?.name ?? '', arguments: '' };
      const kind = this.tools.lookup(call.name).kind === 'custom' ? 'custom_tool_call' : 'function_call';
      const id = itemId(kind === 'custom_tool_call' ? 'ctc' : 'fc');
      const item: OpenItem = {
        kind,
        id,
        index: 0,
        text: '',
        toolIndex: tc.index,
        callId: call.id,
        name: call.name,
      };
      out.push(...this.openItem(item, toolCallItem(id, call, this.tools, 'in_progress')));
    }
    const args = tc.function?.arguments;
    if (args) {
      const o = this.open!;
      o.text += args;
      // a custom tool's input is inside the JSON arguments: it is sent whole when the call closes
      if (o.kind === 'function_call')
        out.push(
          this.event('response.function_call_arguments.delta', {
            item_id: o.id,
            output_index: o.index,
            delta: args,
          }),
        );
    }
    return out;
  }

  private close(): string[] {
    const o = this.open;
    if (!o) return [];
    this.open = null;
    const out: string[] = [];
    let item: Json;
    const at = { item_id: o.id, output_index: o.index };
    if (o.kind === 'reasoning') {
      out.push(this.event('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: o.text }));
      out.push(
        this.event('response.reasoning_summary_part.done', {
          ...at,
          summary_index: 0,
          part: summaryPart(o.text),
        }),
      );
      item = reasoningItem(o.id, o.text);
    } else if (o.kind === 'message') {
      out.push(
        this.event('response.output_text.done', { ...at, content_index: 0, text: o.text, logprobs: [] }),
      );
      out.push(
        this.event('response.content_part.done', { ...at, content_index: 0, part: outputText(o.text) }),
      );
      item = messageItem(o.id, o.text, 'completed');
    } else {
      const call = { id: o.callId!, name: o.name!, arguments: o.text };
      if (o.kind === 'custom_tool_call') {
        const input = customInput(o.text);
        out.push(this.event('response.custom_tool_call_input.delta', { ...at, delta: input }));
        out.push(this.event('response.custom_tool_call_input.done', { ...at, input }));
      } else out.push(this.event('response.function_call_arguments.done', { ...at, arguments: o.text }));
      item = toolCallItem(o.id, call, this.tools, 'completed');
    }
    this.done.push(item);
    out.push(this.event('response.output_item.done', { output_index: o.index, item }));
    return out;
  }
}

function summaryPart(text: string): Json {
  return { type: 'summary_text', text };
}
