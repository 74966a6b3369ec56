/**
 * The OpenAI simulator's answers for the endpoints other than chat: embeddings (float or base64,
 * as the official client asks for base64 by default), legacy completions, moderations, images,
 * speech (binary), transcriptions (multipart, parsed so a broken boundary is noticed), rerank
 * and the model list (the Responses API is openai-sim-responses.ts). Shapes are minimal but
 * real; usage is deterministic like the chat answers.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ChatPlan } from './openai-sim-chat.js';
import { answers, simPromptTokens, usageOf } from './openai-sim-chat.js';
import { embeddingVector } from './sim-common.js';

type Json = Record<string, unknown>;

export const DEFAULT_SIM_MODELS = [
  'gpt-4o-mini',
  'gpt-4.1-nano',
  'gpt-5-nano',
  'text-embedding-3-small',
  'omni-moderation-latest',
  'gpt-image-1',
  'tts-1',
  'whisper-1',
];

export class SimBadRequest extends Error {}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function inputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input)) return input.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  throw new SimBadRequest("'input' is a required property");
}

export function embeddings(body: Json): Json {
  const texts = inputs(body.input);
  const dims = typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : 8;
  const base64 = body.encoding_format === 'base64';
  const prompt = texts.reduce((n, t) => n + Math.max(1, Math.ceil(Buffer.byteLength(t) / 4)), 0);
  return {
    object: 'list',
    data: texts.map((t, index) => {
      const v = embeddingVector(t, dims);
      const embedding = base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
      return { object: 'embedding', index, embedding };
    }),
    model: body.model,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
}

export function completion(plan: ChatPlan): Json {
  const usage = usageOf(plan, 'qwen');
  return {
    id: plan.id.replace('chatcmpl-', 'cmpl-'),
    object: 'text_completion',
    created: plan.created,
    model: plan.model,
    choices: answers(plan, (index) => ({
      text: plan.content.join(''),
      index,
      logprobs: null,
      finish_reason: plan.finish,
    })),
    usage: {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.total_tokens,
    },
  };
}

const MODERATION_CATEGORIES = ['harassment', 'hate', 'illicit', 'self-harm', 'sexual', 'violence'];

export function moderation(body: Json): Json {
  const texts = inputs(body.input);
  return {
    id: `modr-${randomBytes(8).toString('hex')}`,
    model: typeof body.model === 'string' ? body.model : 'omni-moderation-latest',
    results: texts.map((t) => {
      const flagged = /\bkill\b/i.test(t);
      return {
        flagged,
        categories: Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, flagged && c === 'violence'])),
        category_scores: Object.fromEntries(
          MODERATION_CATEGORIES.map((c) => [c, flagged && c === 'violence' ? 0.9 : 0.0001]),
        ),
      };
    }),
  };
}

/** 1x1 transparent PNG */
const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

export function images(body: Json): Json {
  const n = typeof body.n === 'number' && body.n > 0 ? body.n : 1;
  const input = simPromptTokens({ prompt: body.prompt });
  return {
    created: now(),
    data: Array.from({ length: n }, () => ({ b64_json: PNG_1X1 })),
    usage: {
      input_tokens: input,
      output_tokens: 272 * n,
      total_tokens: input + 272 * n,
      input_tokens_details: { text_tokens: input, image_tokens: 0 },
    },
  };
}

/** Fake MP3 bytes: an ID3 header then a deterministic payload sized by the input. */
export function speech(body: Json): Buffer {
  const text = typeof body.input === 'string' ? body.input : '';
  const payload = createHash('sha256').update(text).digest();
  const repeats = Math.max(1, Math.ceil(text.length / 8));
  return Buffer.concat([
    Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'),
    ...Array<Buffer>(repeats).fill(payload),
  ]);
}

interface Part {
  name: string;
  filename: string | undefined;
  data: Buffer;
}

function parseMultipart(body: Buffer, contentType: string): Part[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) throw new SimBadRequest('expected multipart/form-data with a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') return parts;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const section = body.subarray(start + 2, next - 2); // drop CRLF after the delimiter and before the next
    const headEnd = section.indexOf('\r\n\r\n');
    if (headEnd === -1) throw new SimBadRequest('malformed multipart part');
    const head = section.subarray(0, headEnd).toString('utf8');
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    parts.push({ name, filename, data: section.subarray(headEnd + 4) });
    pos = next;
  }
  throw new SimBadRequest('multipart body has no closing boundary');
}

export function transcription(body: Buffer, contentType: string): Json {
  const parts = parseMultipart(body, contentType);
  const file = parts.find((p) => p.name === 'file');
  const model = parts.find((p) => p.name === 'model')?.data.toString('utf8');
  if (file === undefined || model === undefined) throw new SimBadRequest("'file' and 'model' are required");
  const text = `simulated transcription of ${file.filename ?? 'audio'} (${file.data.length} bytes)`;
  const input = Math.max(1, Math.ceil(file.data.length / 100));
  const output = Math.max(1, Math.ceil(text.length / 4));
  return {
    text,
    usage: { type: 'tokens', input_tokens: input, output_tokens: output, total_tokens: input + output },
  };
}

export function rerank(body: Json): Json {
  const query = typeof body.query === 'string' ? body.query.toLowerCase().split(/\W+/).filter(Boolean) : [];
  if (!Array.isArray(body.documents)) throw new SimBadRequest("'documents' is a required property");
  const docs = body.documents.map((d: unknown) => {
    if (typeof d === 'string') return d;
    const text = typeof d === 'object' && d !== null ? (d as Json).text : undefined;
    return typeof text === 'string' ? text : '';
  });
  const scored = docs.map((text, index) => {
    const words = new Set(text.toLowerCase().split(/\W+/));
    const hits = query.filter((w) => words.has(w)).length;
    return { index, relevance_score: query.length === 0 ? 0 : hits / query.length, document: { text } };
  });
  scored.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const topN = typeof body.top_n === 'number' ? body.top_n : scored.length;
  const tokens = simPromptTokens({ input: [body.query, ...docs] });
  return {
    id: `rerank-${randomBytes(8).toString('hex')}`,
    model: body.model,
    results: scored.slice(0, topN),
    usage: { total_tokens: tokens },
  };
}

export function modelList(models: string[]): Json {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })),
  };
}
