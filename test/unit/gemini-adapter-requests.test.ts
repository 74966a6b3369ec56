/**
 * The URLs, headers and bodies the Gemini adapter builds: chat (generateContent or
 * streamGenerateContent?alt=sse, key in x-goog-api-key), passthrough of a Gemini client's path
 * (its own ?key= removed), and embeddings through batchEmbedContents, floats or base64 back.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import { geminiEmbeddingsResponse } from '../../src/daemon/providers/gemini/embeddings.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { upstreamTarget } from '../support/upstream-target.js';

function target(
  baseUrl = 'https://generativelanguage.googleapis.com',
  model = 'gemini-2.5-flash',
): UpstreamTarget {
  return upstreamTarget({ name: 'g', type: 'gemini', baseUrl, timeoutMs: 1000 }, 'AIza-secret', model);
}

describe('adapter requests', () => {
  const req: OpenAIChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'hi' }] };

  it('chat: generateContent or streamGenerateContent?alt=sse, key in x-goog-api-key', () => {
    const plain = geminiAdapter.chatRequest(req, target(), { dropped: [] });
    expect(plain.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    );
    expect(plain.headers).toEqual({ 'content-type': 'application/json', 'x-goog-api-key': 'AIza-secret' });
    expect(JSON.parse(String(plain.body))).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    const streamed = geminiAdapter.chatRequest(
      { ...req, stream: true },
      target('https://proxy.test/v1beta/', 'models/gemini-x'),
      {
        dropped: [],
      },
    );
    expect(streamed.url).toBe('https://proxy.test/v1beta/models/gemini-x:streamGenerateContent?alt=sse');
    expect(geminiAdapter.defaultBaseUrl('gemini')).toBe('https://generativelanguage.googleapis.com');
  });

  it('passthrough keeps the client path and query but never its ?key=', () => {
    const body = Buffer.from('{"contents":[]}');
    const p = geminiAdapter.passthroughRequest?.(
      '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=sk-bc-clientkey',
      body,
      target(),
      'application/json',
    );
    expect(p?.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(p?.headers['x-goog-api-key']).toBe('AIza-secret');
    expect(p?.body).toBe(body);
    const untyped = geminiAdapter.passthroughRequest?.(
      '/v1beta/models/m:generateContent',
      body,
      target(),
      '',
    );
    expect(untyped?.headers['content-type']).toBe('application/json');
    const versioned = geminiAdapter.passthroughRequest?.(
      '/v1beta/models/m:generateContent?key=k',
      body,
      target('http://127.0.0.1:9/v1beta'),
      'application/json',
    );
    expect(versioned?.url).toBe('http://127.0.0.1:9/v1beta/models/m:generateContent');
  });

  it('embeddings: batchEmbedContents out, OpenAI list (floats or base64) back', () => {
    const ctx = { dropped: [] as string[] };
    const up = geminiAdapter.embeddingsRequest?.(
      { model: 'alias', input: ['a', 'b'], dimensions: 3 },
      target(undefined, 'text-embedding-004'),
      ctx,
    );
    expect(up?.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:batchEmbedContents',
    );
    expect(JSON.parse(String(up?.body))).toEqual({
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] }, outputDimensionality: 3 },
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] }, outputDimensionality: 3 },
      ],
    });
    expect(() => geminiAdapter.embeddingsRequest?.({ input: [[1, 2]] }, target(), ctx)).toThrow(BcError);
    const answer = { embeddings: [{ values: [0.5, -1] }, { values: [0.25, 2] }] };
    const floats = geminiAdapter.embeddingsResponse?.(answer, target(undefined, 'text-embedding-004'));
    expect(floats?.response).toMatchObject({
      object: 'list',
      model: 'text-embedding-004',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1] },
        { object: 'embedding', index: 1, embedding: [0.25, 2] },
      ],
    });
    expect(floats?.usage).toBeNull();
    // through the adapter alone: the wish made in the request is honoured in the response
    const t = target();
    geminiAdapter.embeddingsRequest?.({ input: 'x', encoding_format: 'base64' }, t, ctx);
    const viaAdapter = geminiAdapter.embeddingsResponse?.(answer, t).response as {
      data: { embedding: unknown }[];
    };
    expect(typeof viaAdapter.data[0]?.embedding).toBe('string');
    expect(
      Array.isArray(
        (geminiAdapter.embeddingsResponse?.(answer, target()).response as typeof viaAdapter).data[0]
          ?.embedding,
      ),
    ).toBe(true);
    const b64 = geminiEmbeddingsResponse(answer, target(), { encoding_format: 'base64' }).response as {
      data: { embedding: string }[];
    };
    const buf = Buffer.from(b64.data[1]?.embedding ?? '', 'base64');
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))).toEqual([0.25, 2]);
  });
});
