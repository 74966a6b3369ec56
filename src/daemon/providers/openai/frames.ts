/**
 * Cheap questions about one OpenAI-family SSE `data:` payload, asked on the passthrough hot path
 * for every frame: does it carry usage, and is it the `choices: []` usage chunk the relay injected
 * by asking for `stream_options.include_usage`? With include_usage on, every chunk carries
 * `"usage":null` (PROTOCOLS.md 1.4), so a substring test for `"usage"` is not enough; the text is
 * scanned for a usage key whose value opens an object, and only then parsed. The adapters of
 * the OpenAI wire format (OpenAI family, Azure) read passthrough usage with the last two helpers.
 */
import type { StreamEvent, Usage } from '../types.js';
import { usageFromOpenAI } from './usage.js';

const USAGE_KEY = '"usage"';

/** Index of the first character at or after `i` that is not JSON whitespace. */
function skipSpace(s: string, i: number): number {
  let c = s.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++i);
  return i;
}

/** True when the text has an unescaped `"usage"` key followed by an object (not null). */
export function mayHoldUsage(data: string): boolean {
  let at = data.indexOf(USAGE_KEY);
  while (at !== -1) {
    // An escaped quote means the word sits inside a string value (e.g. generated text).
    if (at === 0 || data.charCodeAt(at - 1) !== 0x5c /* \ */) {
      const colon = skipSpace(data, at + USAGE_KEY.length);
      if (
        data.charCodeAt(colon) === 0x3a /* : */ &&
        data.charCodeAt(skipSpace(data, colon + 1)) === 0x7b /* { */
      )
        return true;
    }
    at = data.indexOf(USAGE_KEY, at + USAGE_KEY.length);
  }
  return false;
}

function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Usage carried by one stream payload: a chat chunk's `usage`, or a Responses API event's
 * `response.usage` (`response.completed`). null when it carries none.
 */
export function usageFromChunkData(data: string): Usage | null {
  if (data === '[DONE]' || !mayHoldUsage(data)) return null;
  const obj = parseObject(data);
  if (obj === undefined) return null;
  const direct = usageFromOpenAI(obj.usage);
  if (direct !== null) return direct;
  const response = obj.response;
  if (typeof response === 'object' && response !== null) {
    return usageFromOpenAI((response as Record<string, unknown>).usage);
  }
  return null;
}

/** The final `choices: []` chunk that only reports usage (to be dropped if the client did not ask). */
export function isUsageOnlyChunk(data: string): boolean {
  if (!mayHoldUsage(data)) return false;
  const obj = parseObject(data);
  if (obj === undefined) return false;
  return Array.isArray(obj.choices) && obj.choices.length === 0 && usageFromOpenAI(obj.usage) !== null;
}

/** Usage of a whole (non-stream) passthrough response body: its `usage` object. */
export function usageFromOpenAIBody(body: unknown): Usage | null {
  return typeof body === 'object' && body !== null
    ? usageFromOpenAI((body as Record<string, unknown>).usage)
    : null;
}

/** Usage after one passthrough stream event: the event's own, else what was known before. */
export function usageFromOpenAIEvent(event: StreamEvent, previous: Usage | null): Usage | null {
  if (event.kind !== 'sse') return previous;
  return usageFromChunkData(event.data) ?? previous;
}

/** Whether data[open..close] is the quoted name of a key whose text a chat chunk delivers. */
function isAnswerKey(data: string, open: number, close: number): boolean {
  switch (close - open - 1) {
    case 7:
      return data.startsWith('content', open + 1);
    case 9:
      return data.startsWith('arguments', open + 1);
    case 17:
      return data.startsWith('reasoning_content', open + 1);
    default:
      return false;
  }
}

/** Index of the quote closing the JSON string opened at `open`, or -1 (escapes skipped). */
function stringEnd(s: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q === -1) return -1;
    let slashes = 0;
    while (s.charCodeAt(q - 1 - slashes) === 0x5c /* \ */) slashes++;
    if (slashes % 2 === 0) return q;
    from = q + 1;
  }
}

/**
 * The answer text one chat chunk payload delivers: its `content`, `reasoning_content` and tool
 * `arguments` strings, in order. Read straight off the JSON text, walking its strings (so a key
 * quoted inside generated text is never taken for one) without building the object: the relay asks
 * this of every passthrough frame, for the output estimate of a stream that ends without usage.
 */
export function answerText(data: string): string {
  let text = '';
  let at = data.indexOf('"');
  while (at !== -1) {
    const end = stringEnd(data, at);
    if (end === -1) break;
    let next = end + 1;
    const afterKey = skipSpace(data, next);
    if (data.charCodeAt(afterKey) === 0x3a /* : */ && isAnswerKey(data, at, end)) {
      const open = skipSpace(data, afterKey + 1);
      if (data.charCodeAt(open) === 0x22 /* " */) {
        const close = stringEnd(data, open);
        if (close === -1) break;
        text += jsonString(data, open, close);
        next = close + 1;
      }
    }
    at = data.indexOf('"', next);
  }
  return text;
}

/** The JSON string literal data[open..close] as text ('' when its escapes are invalid). */
function jsonString(data: string, open: number, close: number): string {
  const raw = data.slice(open + 1, close);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(data.slice(open, close + 1)) as string;
  } catch {
    return '';
  }
}
