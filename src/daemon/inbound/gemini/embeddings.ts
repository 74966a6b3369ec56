/**
 * Gemini-native embeddings (`:embedContent`, `:batchEmbedContents`) for Gemini clients. A Gemini
 * channel gets the request as sent, with the model names inside a batch renamed to the upstream's;
 * an OpenAI-protocol channel gets the same texts through `/v1/embeddings`, and its answer comes
 * back in Gemini's shape (`embedding.values`, or `embeddings[].values` in request order).
 */
import type { Usage } from '../../providers/types.js';
import { invalid, isObject, type Json } from '../validate.js';

export type EmbedAction = 'embedContent' | 'batchEmbedContents';

export interface GeminiEmbedRequest {
  /** one text per content, in order */
  texts: string[];
  /** `outputDimensionality`, when every content asks for the same one */
  dimensions?: number;
}

function contentText(content: unknown, where: string): string {
  if (!isObject(content) || !Array.isArray(content.parts) || content.parts.length === 0)
    throw invalid(`${where}.parts`, 'must be a non-empty array of parts');
  return content.parts
    .map((p: unknown, i) => {
      if (!isObject(p) || typeof p.text !== 'string')
        throw invalid(`${where}.parts[${i}].text`, 'embeddings take text parts only');
      return p.text;
    })
    .join('\n');
}

/** Checks the body and reads its texts; a bad shape is a 400 naming the field. */
export function readEmbedRequest(body: Json, action: EmbedAction): GeminiEmbedRequest {
  const requests =
    action === 'embedContent' ? [body] : Array.isArray(body.requests) ? (body.requests as unknown[]) : [];
  if (requests.length === 0) throw invalid('requests', 'must be a non-empty array');
  const dims = new Set<number>();
  const texts = requests.map((r, i) => {
    const where = action === 'embedContent' ? 'content' : `requests[${i}].content`;
    if (!isObject(r)) throw invalid(`requests[${i}]`, 'must be an object');
    if (typeof r.outputDimensionality === 'number') dims.add(r.outputDimensionality);
    return contentText(r.content, where);
  });
  const [only] = dims;
  return dims.size === 1 && only !== undefined ? { texts, dimensions: only } : { texts };
}

/** The client's body for a Gemini channel, every model name pointing at the upstream model. */
export function renameEmbedModels(body: Json, action: EmbedAction, upstreamModel: string): Buffer {
  const name = `models/${upstreamModel}`;
  const copy: Json =
    action === 'embedContent'
      ? { ...body, ...(body.model !== undefined ? { model: name } : {}) }
      : {
          ...body,
          requests: (body.requests as unknown[]).map((r) => (isObject(r) ? { ...r, model: name } : r)),
        };
  return Buffer.from(JSON.stringify(copy));
}

/** The same texts as an OpenAI embeddings request. */
export function openaiEmbedBody(req: GeminiEmbedRequest, upstreamModel: string): Buffer {
  const body: Json = { model: upstreamModel, input: req.texts, encoding_format: 'float' };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  return Buffer.from(JSON.stringify(body));
}

/** An OpenAI embeddings answer in Gemini's shape, with the usage OpenAI reported. */
export function geminiEmbedAnswer(
  openai: unknown,
  action: EmbedAction,
): { response: unknown; usage: Usage | null } {
  const o = isObject(openai) ? openai : {};
  const data = (Array.isArray(o.data) ? (o.data as unknown[]) : []).filter(isObject);
  data.sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
  const embeddings = data.map((d) => ({ values: Array.isArray(d.embedding) ? d.embedding : [] }));
  const u = isObject(o.usage) ? o.usage : undefined;
  const prompt = typeof u?.prompt_tokens === 'number' ? u.prompt_tokens : undefined;
  const usage: Usage | null =
    prompt === undefined
      ? null
      : { inputTokens: prompt, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 };
  const response =
    action === 'embedContent' ? { embedding: embeddings[0] ?? { values: [] } } : { embeddings };
  return { response, usage };
}
