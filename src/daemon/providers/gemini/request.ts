/**
 * OpenAI chat request -> Gemini generateContent body (PROTOCOLS.md 7.5). System messages become
 * `systemInstruction`; assistant turns become role `model`; tool calls become `functionCall`
 * parts and tool results `functionResponse` parts, whose function name is looked up from the
 * earlier call's id because OpenAI results carry only the id. Gemini wants roles to alternate,
 * so consecutive contents of one role are merged. What Gemini cannot express is named in
 * ctx.dropped for the log row.
 */
import { BcError } from '../../../shared/errors.js';
import type { OpenAIChatRequest, OpenAIMessage, OpenAITool, OpenAIToolChoice } from '../openai/types.js';
import type { ConvertContext } from '../types.js';
import { contentToParts, textOf } from './parts.js';
import { toGeminiParameters, toGeminiSchema } from './schema.js';
import { thinkingConfigFor } from './thinking.js';
import { signatureOf } from './thought-signature.js';
import type {
  GeminiContent,
  GeminiFunctionCallingConfig,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
  GeminiTool,
} from './types.js';

/** Request fields this conversion carries (or that only steer the relay). */
const HANDLED = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'seed',
  'tools',
  'tool_choice',
  'response_format',
  'reasoning_effort',
  'parallel_tool_calls',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseArgs(args: string, dropped: string[]): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    if (isRecord(v)) return v;
  } catch {
    // fall through: Gemini needs an object, the model's broken JSON cannot be carried
  }
  dropped.push('tool_calls.function.arguments');
  return {};
}

/** Tool output that is a JSON object goes as is; anything else is wrapped, as LiteLLM does. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v)) return v;
  } catch {
    // plain text
  }
  return { content: text };
}

class ContentBuilder {
  readonly contents: GeminiContent[] = [];
  readonly system: string[] = [];
  /** tool call id -> function name, for the results that follow */
  private readonly names = new Map<string, string>();

  constructor(private readonly dropped: string[]) {}

  add(m: OpenAIMessage, i: number): void {
    switch (m.role) {
      case 'system':
      case 'developer':
        this.system.push(textOf(m.content));
        return;
      case 'user':
        this.push('user', contentToParts(m.content, this.dropped));
        return;
      case 'assistant':
        this.push('model', this.assistantParts(m));
        return;
      case 'tool':
        this.push('user', [this.toolResult(m, i)]);
        return;
      default:
        this.dropped.push(`messages[${i}]`);
    }
  }

  private push(role: 'user' | 'model', parts: GeminiPart[]): void {
    if (parts.length === 0) return;
    const last = this.contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else this.contents.push({ role, parts });
  }

  private assistantParts(m: Extract<OpenAIMessage, { role: 'assistant' }>): GeminiPart[] {
    const parts: GeminiPart[] = [];
    const text = textOf(m.content);
    if (text !== '') parts.push({ text });
    for (const call of m.tool_calls ?? []) {
      this.names.set(call.id, call.function.name);
      const part: GeminiPart = {
        functionCall: { name: call.function.name, args: parseArgs(call.function.arguments, this.dropped) },
      };
      const sig = signatureOf(call);
      if (sig !== undefined) part.thoughtSignature = sig;
      parts.push(part);
    }
    return parts;
  }

  private toolResult(m: Extract<OpenAIMessage, { role: 'tool' }>, i: number): GeminiPart {
    const name = this.names.get(m.tool_call_id);
    if (name === undefined) {
      throw new BcError(
        'INVALID_REQUEST',
        `messages[${i}].tool_call_id: no earlier assistant tool call has the id ${JSON.stringify(m.tool_call_id)}`,
        { param: `messages[${i}].tool_call_id` },
      );
    }
    return { functionResponse: { name, response: toolResponse(textOf(m.content)) } };
  }
}

function convertTools(tools: OpenAITool[] | undefined): GeminiTool[] | undefined {
  const fns = (tools ?? []).filter((t) => t.type === 'function');
  if (fns.length === 0) return undefined;
  const functionDeclarations = fns.map((t) => {
    const parameters = toGeminiParameters(t.function.parameters);
    return {
      name: t.function.name,
      ...(t.function.description === undefined ? {} : { description: t.function.description }),
      ...(parameters === undefined ? {} : { parameters }),
    };
  });
  return [{ functionDeclarations }];
}

function convertToolChoice(choice: OpenAIToolChoice | undefined): GeminiFunctionCallingConfig | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [choice.function.name] };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function outputConfig(req: OpenAIChatRequest, g: GeminiGenerationConfig, dropped: string[]): void {
  const format = req.response_format;
  if (format?.type === 'json_object') {
    g.responseMimeType = 'application/json';
  } else if (format?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    if (format.json_schema.schema !== undefined) g.responseSchema = toGeminiSchema(format.json_schema.schema);
  }
  const thinking = thinkingConfigFor(req.reasoning_effort, req.model);
  if (thinking.config !== undefined) g.thinkingConfig = thinking.config;
  if (thinking.dropped) dropped.push('reasoning_effort');
}

function generationConfig(req: OpenAIChatRequest, dropped: string[]): GeminiGenerationConfig {
  const g: GeminiGenerationConfig = {};
  const max = num(req.max_completion_tokens) ?? num(req.max_tokens);
  if (max !== undefined) g.maxOutputTokens = max;
  const temperature = num(req.temperature);
  if (temperature !== undefined) g.temperature = temperature;
  const topP = num(req.top_p);
  if (topP !== undefined) g.topP = topP;
  const topK = num(req.top_k);
  if (topK !== undefined) g.topK = topK;
  const seed = num(req.seed);
  if (seed !== undefined) g.seed = seed;
  if (typeof req.stop === 'string') g.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) g.stopSequences = req.stop;
  outputConfig(req, g, dropped);
  return g;
}

/** A field counts as sent when it would change the answer: false, null and zero penalties do not. */
function noteDropped(req: OpenAIChatRequest, dropped: string[]): void {
  for (const [key, value] of Object.entries(req)) {
    if (HANDLED.has(key) || value === undefined || value === null || value === false) continue;
    if ((key === 'presence_penalty' || key === 'frequency_penalty') && value === 0) continue;
    if (key === 'n' && value === 1) continue;
    dropped.push(key);
  }
}

export function toGeminiRequest(req: OpenAIChatRequest, ctx: ConvertContext): GeminiRequest {
  const builder = new ContentBuilder(ctx.dropped);
  req.messages.forEach((m, i) => builder.add(m, i));
  const out: GeminiRequest = { contents: builder.contents };
  const system = builder.system.filter((s) => s !== '').join('\n\n');
  // Gemini refuses empty contents; a request that is only a system prompt becomes the user turn.
  if (builder.contents.length === 0 && system !== '')
    out.contents = [{ role: 'user', parts: [{ text: system }] }];
  else if (system !== '') out.systemInstruction = { parts: [{ text: system }] };
  const tools = convertTools(req.tools);
  if (tools !== undefined) out.tools = tools;
  const functionCallingConfig = convertToolChoice(req.tool_choice);
  if (functionCallingConfig !== undefined) out.toolConfig = { functionCallingConfig };
  const g = generationConfig(req, ctx.dropped);
  if (Object.keys(g).length > 0) out.generationConfig = g;
  noteDropped(req, ctx.dropped);
  return out;
}
