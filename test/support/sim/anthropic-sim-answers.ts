/**
 * What the Anthropic simulator answers: a plan (blocks of deltas, stop reason, usage) built from
 * the request and the recorded fixtures, rendered either as one Message or as the named SSE
 * events of a stream, with the pings and the JSON padding spaces of the real wire.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { delegatedBySim, header, intHeader } from './sim-common.js';
import { readChunksJsonl, readFixtureJson } from '../fixtures.js';

type Json = Record<string, unknown>;

const DEFAULT_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]?.text as string;

function fixtureDeltas(rel: string, type: string, field: string): string[] {
  return (readChunksJsonl(rel) as Json[])
    .map((c) => c.delta as Json | undefined)
    .filter((d): d is Json => d?.type === type)
    .map((d) => String(d[field]));
}
const TOOL_JSON = fixtureDeltas(
  'anthropic/messages-stream-tool-use.chunks.jsonl',
  'input_json_delta',
  'partial_json',
);
const THINKING = fixtureDeltas(
  'anthropic/messages-stream-thinking.chunks.jsonl',
  'thinking_delta',
  'thinking',
);
const SIGNATURE = fixtureDeltas(
  'anthropic/messages-stream-thinking.chunks.jsonl',
  'signature_delta',
  'signature',
)[0];

export function simInputTokens(body: Json): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(body.messages ?? [])) / 4));
}

export type Block =
  | { type: 'text'; pieces: string[] }
  | { type: 'thinking'; pieces: string[]; signature: string }
  | { type: 'tool_use'; id: string; name: string; pieces: string[] };

export interface Plan {
  id: string;
  model: string;
  blocks: Block[];
  stopReason: string;
  stopSequence: string | null;
  usage: { input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number };
  outputTokens: number;
}

function splitPieces(text: string, n: number): string[] {
  const cps = Array.from(text);
  const count = Math.max(1, Math.min(n, cps.length));
  return Array.from({ length: count }, (_, i) =>
    cps.slice(Math.floor((i * cps.length) / count), Math.floor(((i + 1) * cps.length) / count)).join(''),
  );
}

/** The conversation's turns without mid-conversation system messages, which no model answers. */
function turns(body: Json): Json[] {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  return messages.filter((m) => m.role !== 'system');
}

/**
 * Whether the model should answer in text rather than call a tool: the last turn hands tool
 * results back (as the other simulators do), or the conversation is a sub-agent's whose task the
 * simulator itself wrote (see delegatedBySim).
 */
function answersInText(body: Json): boolean {
  const all = turns(body);
  const last = all[all.length - 1];
  const content = Array.isArray(last?.content) ? (last.content as Json[]) : [];
  if (last?.role === 'user' && content.some((b) => b.type === 'tool_result')) return true;
  const texts = all
    .filter((m) => m.role === 'user')
    .flatMap((m) =>
      typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as Json[]),
    )
    .flatMap((b) => (b.type === 'text' && typeof b.text === 'string' ? [b.text] : []));
  return delegatedBySim(texts);
}

/** A value of the schema's type, as a model would fill it in (the first enum value when there is one). */
function sampleValue(schema: Json, name: string): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'number':
    case 'integer':
      return 21;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return toolInput(schema);
    default:
      return `sim-${name}`;
  }
}

function toolInput(schema: Json): Json {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : Object.keys(props);
  return Object.fromEntries(required.map((k) => [k, sampleValue(props[k] ?? {}, k)]));
}

/**
 * The input deltas of the tool call: the recording's (`{"location": "San Francisco, CA"}`) when
 * the tool asks for a location, otherwise an input that satisfies the tool's schema (a structured
 * output asked through a forced tool must parse against it).
 */
function toolPieces(body: Json, name: string): string[] {
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const schema = (tools.find((t) => t.name === name)?.input_schema ?? {}) as Json;
  const input = toolInput(schema);
  const keys = Object.keys(input);
  if (keys.length === 0 || (keys.length === 1 && keys[0] === 'location')) return TOOL_JSON;
  return splitPieces(JSON.stringify(input), 3);
}

function toolName(body: Json): string | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const choice = (body.tool_choice ?? {}) as Json;
  if (tools.length === 0 || choice.type === 'none' || answersInText(body)) return undefined;
  return typeof choice.name === 'string' ? choice.name : String(tools[0]?.name);
}

/** Applies stop_sequences and max_tokens (one delta = one token) to the text pieces. */
function limitText(body: Json, pieces: string[]): { pieces: string[]; stop: string; seq: string | null } {
  const text = pieces.join('');
  const stops = Array.isArray(body.stop_sequences) ? (body.stop_sequences as string[]) : [];
  const hit = stops.map((s) => ({ s, at: text.indexOf(s) })).find((x) => x.s.length > 0 && x.at >= 0);
  if (hit)
    return { pieces: [text.slice(0, hit.at)].filter((p) => p.length > 0), stop: 'stop_sequence', seq: hit.s };
  const max = typeof body.max_tokens === 'number' ? body.max_tokens : Infinity;
  if (pieces.length > max) return { pieces: pieces.slice(0, max), stop: 'max_tokens', seq: null };
  return { pieces, stop: 'end_turn', seq: null };
}

export function plan(body: Json, req: http.IncomingMessage): Plan {
  const blocks: Block[] = [];
  const tool = toolName(body);
  let stopReason = 'tool_use';
  let stopSequence: string | null = null;
  if (tool !== undefined) {
    blocks.push({
      type: 'tool_use',
      id: `toolu_sim${randomBytes(8).toString('hex')}`,
      name: tool,
      pieces: toolPieces(body, tool),
    });
  } else {
    const thinking = (body.thinking as Json | undefined)?.type;
    if (thinking === 'enabled' || thinking === 'adaptive') {
      blocks.push({ type: 'thinking', pieces: THINKING, signature: SIGNATURE ?? '' });
    }
    const raw = header(req.headers, 'x-sim-text');
    const text = raw === undefined ? DEFAULT_TEXT : decodeURIComponent(raw);
    const limited = limitText(body, splitPieces(text, intHeader(req.headers, 'x-sim-deltas', 3)));
    blocks.push({ type: 'text', pieces: limited.pieces });
    stopReason = limited.stop;
    stopSequence = limited.seq;
  }
  return {
    id: `msg_sim${randomBytes(10).toString('hex')}`,
    model: String(body.model),
    blocks,
    stopReason,
    stopSequence,
    usage: {
      input_tokens: simInputTokens(body),
      cache_creation_input_tokens: intHeader(req.headers, 'x-sim-cache-write', 0),
      cache_read_input_tokens: intHeader(req.headers, 'x-sim-cache-read', 0),
    },
    outputTokens: blocks.reduce((n, b) => n + b.pieces.length, 0),
  };
}

export function messageBody(p: Plan): Json {
  const content = p.blocks.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.pieces.join('') }
      : b.type === 'thinking'
        ? { type: 'thinking', thinking: b.pieces.join(''), signature: b.signature }
        : {
            type: 'tool_use',
            id: b.id,
            name: b.name,
            input: JSON.parse(b.pieces.join('') || '{}') as unknown,
          },
  );
  return {
    model: p.model,
    id: p.id,
    type: 'message',
    role: 'assistant',
    content,
    stop_reason: p.stopReason,
    stop_sequence: p.stopSequence,
    usage: { ...p.usage, output_tokens: p.outputTokens, service_tier: 'standard' },
  };
}

/** One SSE frame, with the spaces Anthropic puts before the closing brace. */
function frame(data: Json, pad = 6): string {
  const json = JSON.stringify(data);
  return `event: ${String(data.type)}\ndata: ${json.slice(0, -1)}${' '.repeat(pad)}}\n\n`;
}
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

function blockFrames(b: Block, index: number): string[] {
  const start =
    b.type === 'text'
      ? { type: 'text', text: '' }
      : b.type === 'thinking'
        ? { type: 'thinking', thinking: '', signature: '' }
        : { type: 'tool_use', id: b.id, name: b.name, input: {} };
  const deltaOf = (piece: string): Json =>
    b.type === 'text'
      ? { type: 'text_delta', text: piece }
      : b.type === 'thinking'
        ? { type: 'thinking_delta', thinking: piece }
        : { type: 'input_json_delta', partial_json: piece };
  const out = [frame({ type: 'content_block_start', index, content_block: start }, 8), PING];
  for (const piece of b.pieces)
    out.push(frame({ type: 'content_block_delta', index, delta: deltaOf(piece) }));
  if (b.type === 'thinking') {
    out.push(
      frame({
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: b.signature },
      }),
    );
  }
  out.push(frame({ type: 'content_block_stop', index }, 8));
  return out;
}

export function streamFrames(p: Plan): string[] {
  const { content: _content, stop_reason: _s, usage: _u, ...rest } = messageBody(p);
  const startUsage = {
    ...p.usage,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  };
  const message = { ...rest, content: [], stop_reason: null, stop_sequence: null };
  const out = [
    frame(
      {
        type: 'message_start',
        message: { ...message, usage: { ...startUsage, output_tokens: 1, service_tier: 'standard' } },
      },
      12,
    ),
  ];
  p.blocks.forEach((b, i) => out.push(...blockFrames(b, i)));
  out.push(PING);
  const delta = { stop_reason: p.stopReason, stop_sequence: p.stopSequence };
  out.push(frame({ type: 'message_delta', delta, usage: { ...p.usage, output_tokens: p.outputTokens } }, 7));
  out.push(frame({ type: 'message_stop' }, 4));
  return out;
}

/** The checks Anthropic makes before looking at the request: a key and a version header. */
