/**
 * Azure OpenAI request building with whole expected values: the method and the exact headers of
 * a non-stream and a stream chat request (accept, content type, api-key) and of an embeddings
 * request, so a changed header or method is caught, not only the URL and body.
 */
import { describe, expect, it } from 'vitest';
import { azureAdapter } from '../../src/daemon/providers/azure/index.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'az', type: 'azure', baseUrl: 'https://r.openai.azure.com', apiVersion: null, timeoutMs: 1000 },
  'az-secret',
  'dep',
);

describe('azure request headers', () => {
  it('a non-stream chat request asks for JSON; a stream for SSE', () => {
    const plain = azureAdapter.chatRequest(
      { model: 'm', messages: [{ role: 'user', content: 'q' }] },
      target,
      {
        dropped: [],
      },
    );
    expect(plain.method).toBe('POST');
    expect(plain.headers).toEqual({
      'api-key': 'az-secret',
      'content-type': 'application/json',
      accept: 'application/json',
    });
    const streamed = azureAdapter.chatRequest(
      { model: 'm', messages: [{ role: 'user', content: 'q' }], stream: true },
      target,
      { dropped: [] },
    );
    expect(streamed.headers.accept).toBe('text/event-stream');
  });

  it('an embeddings request is a JSON POST with the api key', () => {
    const up = azureAdapter.embeddingsRequest?.({ input: 'x' }, target, { dropped: [] });
    expect(up?.method).toBe('POST');
    expect(up?.headers).toEqual({ 'api-key': 'az-secret', 'content-type': 'application/json' });
  });
});
