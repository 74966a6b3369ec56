/**
 * What the Bedrock simulator answers: the request checks Converse itself makes, the plan of an
 * answer (text, a toolUse, reasoning) from the request and the `x-sim-*` knobs, the Converse JSON
 * body, and the ConverseStream event frames shaped like the recordings (`"p"` padding with keys
 * sorted, no contentBlockStart for text blocks, `metadata` after `messageStop`).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { delegatedBySim, header, intHeader } from './sim-common.js';
import { encodeEventStreamMessage } from '../../../src/daemon/streams/eventstream.js';

export type Json = Record<string, unknown>;

export const DEFAULT_BEDROCK_SIM_TEXT = 'Bonjour from the Bedrock simulator: 5 € and a 🚀.';
const REASONING_TEXT = 'The user wants a short answer; a friendly greeting fits.';
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

type Message = { role?: unknown; content?: unknown };
type Block = Record<string, unknown>;

/** The checks Converse itself makes that a broken conversion would trip. */
export function bodyProblem(body: Json | undefined, modelId: string): string | undefined {
  if (modelId.includes('does-not-exist')) return 'The provided model identifier is invalid.';
  if (!body) return 'Malformed input request, please reformat your input and try again.';
  const messages = body.messages as Message[] | undefined;
  if (!Array.isArray(messages) || messages.length === 0)
    return 'The messages field is required and must not be empty.';
  let usesTools = false;
  for (const [i, m] of messages.entries()) {
    if (m.role !== (i % 2 === 0 ? 'user' : 'assistant')) {
      return 'A conversation must start with a user message and alternate between user and assistant roles.';
    }
    const blocks = m.content as Block[] | undefined;
    if (!Array.isArray(blocks) || blocks.length === 0) return `messages.${i}.content must not be empty.`;
    for (const b of blocks) {
      if ('text' in b && String(b.text).trim() === '')
        return 'The text field in the ContentBlock object is blank.';
      if ('toolUse' in b || 'toolResult' in b) usesTools = true;
    }
  }
  if (usesTools && !body.toolConfig)
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  return thinkingProblem(body, messages);
}

/**
 * Claude with extended thinking on: the final assistant turn that used a tool must open with its
 * signed reasoning block, else Bedrock relays Anthropic's refusal (recorded in several issues).
 */
function thinkingProblem(body: Json, messages: Message[]): string | undefined {
  const extra = body.additionalModelRequestFields as { thinking?: { type?: string } } | undefined;
  if (extra?.thinking?.type !== 'enabled') return undefined;
  const i = messages.map((m) => m.role).lastIndexOf('assistant');
  const blocks = (messages[i]?.content ?? []) as Block[];
  if (i < 0 || !blocks.some((b) => 'toolUse' in b) || 'reasoningContent' in (blocks[0] ?? {}))
    return undefined;
  const found = Object.keys(blocks[0] ?? {})[0] === 'text' ? 'text' : 'tool_use';
  return `The model returned the following errors: messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`;
}

export interface Plan {
  reasoning: string[];
  text: string[];
  tool: { toolUseId: string; name: string; input: Json } | null;
  inputTokens: number;
  cachedTokens: number;
}

function pieces(text: string, n: number): string[] {
  const cps = Array.from(text);
  const count = Math.max(1, Math.min(n, cps.length));
  return Array.from({ length: count }, (_, i) =>
    cps.slice(Math.floor((i * cps.length) / count), Math.floor(((i + 1) * cps.length) / count)).join(''),
  );
}

/** An input a model would give: the required properties (all when none are named), enums' first value. */
function inputFor(schema: unknown): Json {
  const s = (schema ?? {}) as { properties?: Record<string, Json>; required?: unknown };
  const props = s.properties ?? {};
  const keys = Array.isArray(s.required) ? (s.required as string[]) : Object.keys(props);
  const out: Json = {};
  for (const k of keys) {
    const p = props[k] ?? {};
    out[k] = Array.isArray(p.enum)
      ? p.enum[0]
      : p.type === 'number' || p.type === 'integer'
        ? 1
        : p.type === 'boolean'
          ? true
          : k === 'city' || k === 'location'
            ? 'Paris'
            : `sim-${k}`;
  }
  return out;
}

export function plan(body: Json, req: http.IncomingMessage): Plan {
  let text = header(req.headers, 'x-sim-text');
  try {
    text = text === undefined ? undefined : decodeURIComponent(text);
  } catch {
    /* not percent-encoded: use as is */
  }
  const deltas = Math.max(1, intHeader(req.headers, 'x-sim-deltas', 5));
  const messages = body.messages as Message[];
  const last = messages[messages.length - 1]?.content as Block[];
  const toolConfig = body.toolConfig as
    | {
        tools?: { toolSpec: { name: string; inputSchema?: { json?: unknown } } }[];
        toolChoice?: { tool?: { name: string } };
      }
    | undefined;
  const tools = toolConfig?.tools ?? [];
  let tool: Plan['tool'] = null;
  const texts = messages
    .filter((m) => m.role === 'user')
    .flatMap((m) => (m.content as Block[]).flatMap((b) => (typeof b.text === 'string' ? [b.text] : [])));
  if (tools.length > 0 && !last.some((b) => 'toolResult' in b) && !delegatedBySim(texts)) {
    const spec = tools.find((t) => t.toolSpec.name === toolConfig?.toolChoice?.tool?.name) ?? tools[0];
    tool = {
      toolUseId: `tooluse_${randomBytes(16).toString('base64url').slice(0, 22)}`,
      name: spec?.toolSpec.name ?? '',
      input: inputFor(spec?.toolSpec.inputSchema?.json),
    };
  }
  const extra = body.additionalModelRequestFields as
    { thinking?: { type?: string }; reasoning_config?: unknown } | undefined;
  const thinking = extra?.thinking?.type === 'enabled' || extra?.reasoning_config !== undefined;
  return {
    reasoning: thinking ? pieces(REASONING_TEXT, 3) : [],
    text: tool ? [] : pieces(text ?? DEFAULT_BEDROCK_SIM_TEXT, deltas),
    tool,
    inputTokens: Math.ceil(Buffer.byteLength(JSON.stringify(body.messages)) / 4),
    cachedTokens: intHeader(req.headers, 'x-sim-cached-tokens', 0),
  };
}

function usageOf(p: Plan): Json {
  const output = p.reasoning.length + p.text.length + (p.tool ? 2 : 0);
  const input = p.inputTokens;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output + p.cachedTokens,
    cacheReadInputTokens: p.cachedTokens,
    cacheWriteInputTokens: 0,
    serverToolUsage: {},
  };
}

export function converseBody(p: Plan): Json {
  const content: Json[] = [];
  if (p.reasoning.length > 0)
    content.push({
      reasoningContent: { reasoningText: { text: p.reasoning.join(''), signature: 'sim-signature' } },
    });
  if (p.text.length > 0) content.push({ text: p.text.join('') });
  if (p.tool) content.push({ toolUse: p.tool });
  return {
    metrics: { latencyMs: 42 },
    output: { message: { role: 'assistant', content } },
    stopReason: p.tool ? 'tool_use' : 'end_turn',
    usage: usageOf(p),
  };
}

/** One event frame; keys sorted and a random-length `"p"` pad, as the recordings show. */
function frame(type: string, payload: Json): Buffer {
  const padded: Json = { ...payload, p: PADDING.slice(0, 1 + Math.floor(Math.random() * PADDING.length)) };
  const sorted = Object.fromEntries(Object.entries(padded).sort(([a], [b]) => (a < b ? -1 : 1)));
  return encodeEventStreamMessage(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify(sorted)),
  );
}

export function streamFrames(p: Plan): Buffer[] {
  const frames = [frame('messageStart', { role: 'assistant' })];
  let index = 0;
  if (p.reasoning.length > 0) {
    for (const r of p.reasoning)
      frames.push(
        frame('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text: r } } }),
      );
    frames.push(
      frame('contentBlockDelta', {
        contentBlockIndex: index,
        delta: { reasoningContent: { signature: 'sim-signature' } },
      }),
    );
    frames.push(frame('contentBlockStop', { contentBlockIndex: index++ }));
  }
  for (const t of p.text)
    frames.push(frame('contentBlockDelta', { contentBlockIndex: index, delta: { text: t } }));
  if (p.text.length > 0) frames.push(frame('contentBlockStop', { contentBlockIndex: index++ }));
  if (p.tool) {
    const args = JSON.stringify(p.tool.input);
    const cut = Math.floor(args.length / 2);
    frames.push(
      frame('contentBlockStart', {
        contentBlockIndex: index,
        start: { toolUse: { name: p.tool.name, toolUseId: p.tool.toolUseId } },
      }),
    );
    for (const piece of [args.slice(0, cut), args.slice(cut)])
      frames.push(
        frame('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }),
      );
    frames.push(frame('contentBlockStop', { contentBlockIndex: index }));
  }
  frames.push(frame('messageStop', { stopReason: p.tool ? 'tool_use' : 'end_turn' }));
  frames.push(frame('metadata', { usage: usageOf(p), metrics: { latencyMs: 42 } }));
  return frames;
}
