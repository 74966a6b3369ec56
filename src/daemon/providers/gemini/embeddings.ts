/**
 * OpenAI embeddings <-> Gemini `:batchEmbedContents`. One request per input string; the answer's
 * `embeddings[].values` become OpenAI's list shape. Gemini reports no token usage here, so usage
 * is null and the relay counts locally. OpenAI clients (the official SDK by default) may ask for
 * `encoding_format: base64`, which means little-endian float32 bytes. The relay gives
 * embeddingsResponse only the upstream body and the attempt's target (a fresh object per
 * attempt), so the wish is remembered against that target; an explicit request argument wins.
 */
import { BcError } from '../../../shared/errors.js';
import type { ConvertContext, UpstreamRequest, UpstreamTarget, Usage } from '../types.js';
import { geminiHeaders, modelUrl } from './urls.js';

const wantsBase64 = new WeakSet<UpstreamTarget>();

function inputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((s): s is string => typeof s === 'string')) {
    return input;
  }
  throw new BcError('INVALID_REQUEST', 'input: Gemini embeddings take a string or an array of strings', {
    param: 'input',
  });
}

export function geminiEmbeddingsRequest(
  body: Record<string, unknown>,
  target: UpstreamTarget,
  ctx: ConvertContext,
): UpstreamRequest {
  const model = `models/${target.upstreamModel.replace(/^models\//, '')}`;
  const dims = typeof body.dimensions === 'number' ? body.dimensions : undefined;
  const requests = inputs(body.input).map((text) => ({
    model,
    content: { parts: [{ text }] },
    ...(dims === undefined ? {} : { outputDimensionality: dims }),
  }));
  if (typeof body.user === 'string') ctx.dropped.push('user');
  if (body.encoding_format === 'base64') wantsBase64.add(target);
  else wantsBase64.delete(target);
  return {
    method: 'POST',
    url: modelUrl(target, 'batchEmbedContents'),
    headers: geminiHeaders(target),
    body: JSON.stringify({ requests }),
  };
}

function values(e: unknown): number[] {
  const v = typeof e === 'object' && e !== null ? (e as { values?: unknown }).values : undefined;
  return Array.isArray(v) ? v.filter((n): n is number => typeof n === 'number') : [];
}

function base64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

export function geminiEmbeddingsResponse(
  body: unknown,
  target: UpstreamTarget,
  request?: Record<string, unknown>,
): { response: unknown; usage: Usage | null } {
  const list =
    typeof body === 'object' && body !== null ? (body as { embeddings?: unknown }).embeddings : undefined;
  const asBase64 = request === undefined ? wantsBase64.has(target) : request.encoding_format === 'base64';
  const data = (Array.isArray(list) ? list : []).map((e, index) => {
    const vector = values(e);
    return { object: 'embedding', index, embedding: asBase64 ? base64(vector) : vector };
  });
  return {
    response: {
      object: 'list',
      data,
      model: target.upstreamModel,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    },
    usage: null,
  };
}
