/**
 * OpenAI chat request -> Bedrock Converse request body (PROTOCOLS.md 7.6). Converse wants strict
 * user/assistant alternation starting with a user turn, system text outside the messages, tool
 * results as user content, images as inline bytes, and a toolConfig whenever the history mentions
 * tools. What Converse cannot carry (seed, penalties, logprobs, ...) is named in ctx.dropped.
 */
import { BcError } from '../../../shared/errors.js';
import type { ConvertContext } from '../types.js';
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAIToolCall,
  OpenAIToolChoice,
} from '../openai/types.js';
import type {
  ConverseContentBlock,
  ConverseImageBlock,
  ConverseMessage,
  ConverseRequest,
  ConverseToolChoice,
  ConverseToolSpec,
} from './converse-types.js';
import { anthropicEffort, claudeEffort, usesAdaptiveThinking } from '../anthropic/thinking.js';

/** Fields Converse has no place for; listed in ctx.dropped when the client set them. */
const UNSUPPORTED_FIELDS = [
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'logprobs',
  'top_logprobs',
  'logit_bias',
] as const;

/** Claude extended-thinking budgets per OpenAI reasoning_effort (1024 is Anthropic's minimum). */
const THINKING_BUDGET: Record<string, number> = { minimal: 1024, low: 1024, medium: 2048, high: 4096 };

const IMAGE_FORMATS: Record<string, ConverseImageBlock['image']['format']> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

export function toConverseRequest(
  req: OpenAIChatRequest,
  upstreamModel: string,
  ctx: ConvertContext,
): ConverseRequest {
  const out: ConverseRequest = { messages: convertMessages(req.messages, ctx) };
  const system = systemBlocks(req.messages);
  if (system.length > 0) out.system = system;

  const inference = inferenceConfig(req);
  const additional: Record<string, unknown> = {};
  if (typeof req.top_k === 'number') additional.top_k = req.top_k;
  applyReasoning(req, upstreamModel, out.messages, inference, additional, ctx);
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;
  if (Object.keys(additional).length > 0) out.additionalModelRequestFields = additional;

  const toolConfig = buildToolConfig(req, out.messages, ctx);
  if (toolConfig) out.toolConfig = toolConfig;

  for (const field of UNSUPPORTED_FIELDS) {
    if (req[field] !== undefined && req[field] !== null && req[field] !== false) ctx.dropped.push(field);
  }
  if (typeof req.n === 'number' && req.n > 1) ctx.dropped.push('n');
  if (req.response_format && req.response_format.type !== 'text') ctx.dropped.push('response_format');
  if (req.parallel_tool_calls === false) ctx.dropped.push('parallel_tool_calls');
  return out;
}

function textOf(content: string | { type: string; text?: string }[] | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

function systemBlocks(messages: OpenAIMessage[]): { text: string }[] {
  const blocks: { text: string }[] = [];
  for (const m of messages) {
    if (m.role !== 'system' && m.role !== 'developer') continue;
    const text = textOf(m.content);
    if (text.trim() !== '') blocks.push({ text });
  }
  return blocks;
}

function convertMessages(messages: OpenAIMessage[], ctx: ConvertContext): ConverseMessage[] {
  const out: ConverseMessage[] = [];
  for (const m of messages) {
    let role: ConverseMessage['role'];
    let content: ConverseContentBlock[];
    if (m.role === 'user') {
      role = 'user';
      content = userBlocks(m.content, ctx);
    } else if (m.role === 'assistant') {
      role = 'assistant';
      content = assistantBlocks(textOf(m.content), m.tool_calls ?? []);
    } else if (m.role === 'tool') {
      role = 'user';
      content = [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text: textOf(m.content) }] } }];
    } else {
      continue; // system and developer turns went to `system`
    }
    if (content.length === 0) continue;
    // Converse rejects two turns of the same role in a row, so they become one turn.
    const last = out[out.length - 1];
    if (last?.role === role) last.content.push(...content);
    else out.push({ role, content });
  }
  return out;
}

function userBlocks(content: string | OpenAIContentPart[], ctx: ConvertContext): ConverseContentBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const blocks: ConverseContentBlock[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (typeof part.text === 'string' && part.text !== '') blocks.push({ text: part.text });
    } else if (part.type === 'image_url') {
      blocks.push(imageBlock(part.image_url.url));
    } else {
      ctx.dropped.push(`messages.content.${part.type}`);
    }
  }
  return blocks;
}

/** Converse takes image bytes only (or S3 locations), so only data URLs can be carried. */
function imageBlock(url: string): ConverseImageBlock {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  const format = match?.[1] === undefined ? undefined : IMAGE_FORMATS[match[1].toLowerCase()];
  if (!match || format === undefined) {
    throw new BcError(
      'INVALID_REQUEST',
      'Bedrock accepts images only as base64 data URLs of PNG, JPEG, GIF or WebP',
      {
        param: 'messages',
      },
    );
  }
  return { image: { format, source: { bytes: match[2] ?? '' } } };
}

function assistantBlocks(text: string, toolCalls: OpenAIToolCall[]): ConverseContentBlock[] {
  const blocks: ConverseContentBlock[] = [];
  // Converse rejects blank text blocks, which OpenAI clients send alongside tool calls.
  if (text.trim() !== '') blocks.push({ text });
  for (const call of toolCalls) {
    blocks.push({
      toolUse: {
        toolUseId: call.id,
        name: call.function.name,
        input: parseArguments(call.function.arguments),
      },
    });
  }
  return blocks;
}

function parseArguments(args: string): unknown {
  if (args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? parsed
      : { value: parsed };
  } catch {
    throw new BcError('INVALID_REQUEST', 'assistant tool_calls arguments must be a JSON object', {
      param: 'messages',
    });
  }
}

function inferenceConfig(req: OpenAIChatRequest): NonNullable<ConverseRequest['inferenceConfig']> {
  const cfg: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (typeof maxTokens === 'number') cfg.maxTokens = maxTokens;
  if (typeof req.temperature === 'number') cfg.temperature = req.temperature;
  if (typeof req.top_p === 'number') cfg.topP = req.top_p;
  if (typeof req.stop === 'string') cfg.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) cfg.stopSequences = req.stop;
  return cfg;
}

/** reasoning_effort becomes Claude's extended thinking; other Bedrock models have no common knob. */
function applyReasoning(
  req: OpenAIChatRequest,
  upstreamModel: string,
  messages: ConverseMessage[],
  inference: NonNullable<ConverseRequest['inferenceConfig']>,
  additional: Record<string, unknown>,
  ctx: ConvertContext,
): void {
  const effort = claudeEffort(req.reasoning_effort);
  if (effort === undefined) return;
  const budget = THINKING_BUDGET[effort];
  // With thinking on, Claude requires the last assistant turn that used a tool to open with its
  // signed reasoning, which is never carried back here: such a turn is sent without thinking.
  if (!upstreamModel.includes('anthropic.claude') || budget === undefined || lastTurnUsedTool(messages)) {
    ctx.dropped.push('reasoning_effort');
    return;
  }
  if (usesAdaptiveThinking(upstreamModel)) {
    // Claude 4.6 and later think adaptively; Opus 4.7 and later refuse a fixed budget.
    additional.thinking = { type: 'adaptive' };
    additional.output_config = { effort: anthropicEffort(effort) };
  } else {
    additional.thinking = { type: 'enabled', budget_tokens: budget };
    // Claude requires max_tokens above the thinking budget.
    inference.maxTokens = budget + (inference.maxTokens ?? 4096);
  }
  // Claude refuses temperature/top_p with thinking.
  if (inference.temperature !== undefined) {
    delete inference.temperature;
    ctx.dropped.push('temperature');
  }
  if (inference.topP !== undefined) {
    delete inference.topP;
    ctx.dropped.push('top_p');
  }
}

function lastTurnUsedTool(messages: ConverseMessage[]): boolean {
  const last = [...messages].reverse().find((m) => m.role === 'assistant');
  return last?.content.some((b) => 'toolUse' in b) ?? false;
}

function buildToolConfig(
  req: OpenAIChatRequest,
  messages: ConverseMessage[],
  ctx: ConvertContext,
): ConverseRequest['toolConfig'] {
  const tools: ConverseToolSpec[] = (req.tools ?? []).map((t) => ({
    toolSpec: {
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      inputSchema: { json: t.function.parameters ?? { type: 'object', properties: {} } },
    },
  }));
  const historyNames = toolNamesInHistory(messages);
  // Converse refuses toolUse/toolResult history without a toolConfig, so declare what the history used.
  for (const name of historyNames) {
    if (!tools.some((t) => t.toolSpec.name === name)) {
      tools.push({ toolSpec: { name, inputSchema: { json: { type: 'object', properties: {} } } } });
    }
  }
  const historyUsesTools = messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b));
  const choice = req.tool_choice;
  if (tools.length === 0) return undefined;
  if (choice === 'none') {
    if (!historyUsesTools) return undefined;
    ctx.dropped.push('tool_choice');
    return { tools };
  }
  const toolChoice = mapToolChoice(choice);
  return toolChoice ? { tools, toolChoice } : { tools };
}

function toolNamesInHistory(messages: ConverseMessage[]): string[] {
  const names = new Set<string>();
  for (const m of messages) {
    for (const b of m.content) if ('toolUse' in b) names.add(b.toolUse.name);
  }
  return [...names];
}

function mapToolChoice(choice: OpenAIToolChoice | undefined): ConverseToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { auto: {} };
  if (choice === 'required') return { any: {} };
  if (choice === 'none') return undefined;
  return { tool: { name: choice.function.name } };
}
