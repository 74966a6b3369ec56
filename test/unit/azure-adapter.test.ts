/**
 * Azure OpenAI requests: the deployment URL with api-version (the channel's or the default),
 * the api-key header, the OpenAI body with Azure's adjustments (max_completion_tokens, usage on
 * streams, no foreign reasoning_content), passthrough paths mapped to deployment URLs, embeddings.
 */
import { describe, expect, it } from 'vitest';
import { AZURE_DEFAULT_API_VERSION, azureAdapter } from '../../src/daemon/providers/azure/index.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { upstreamTarget } from '../support/upstream-target.js';

function target(baseUrl: string, apiVersion: string | null, deployment = 'prod-4o'): UpstreamTarget {
  return upstreamTarget(
    { name: 'az', type: 'azure', baseUrl, apiVersion, timeoutMs: 1000 },
    'az-secret',
    deployment,
  );
}

const req: OpenAIChatRequest = {
  model: 'gpt-4o',
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello', reasoning_content: 'from another provider' },
    { role: 'user', content: 'again' },
  ],
  max_tokens: 50,
  stream: true,
};

describe('azure chat request', () => {
  it('goes to the deployment with the default api-version and the api-key header', () => {
    const ctx = { dropped: [] as string[] };
    const up = azureAdapter.chatRequest(req, target('https://res.openai.azure.com/', null), ctx);
    expect(up.method).toBe('POST');
    expect(up.url).toBe(
      `https://res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`,
    );
    expect(AZURE_DEFAULT_API_VERSION).toBe('2024-10-21');
    expect(up.headers).toMatchObject({
      'api-key': 'az-secret',
      'content-type': 'application/json',
      accept: 'text/event-stream',
    });
    expect(up.headers.authorization).toBeUndefined();
    const body = JSON.parse(String(up.body)) as Record<string, unknown>;
    expect(body.model).toBe('prod-4o');
    expect(body.max_completion_tokens).toBe(50);
    expect(body.max_tokens).toBeUndefined();
    expect(body.stream_options).toEqual({ include_usage: true });
    expect((body.messages as Record<string, unknown>[])[1]).toEqual({ role: 'assistant', content: 'hello' });
    expect(ctx.dropped).toEqual(['messages[].reasoning_content']);
  });

  it("uses the channel's api-version and tolerates an endpoint that already ends in /openai", () => {
    const up = azureAdapter.chatRequest(
      { ...req, stream: false },
      target('https://res.openai.azure.com/openai', '2025-01-01-preview', 'my dep'),
      {
        dropped: [],
      },
    );
    expect(up.url).toBe(
      'https://res.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2025-01-01-preview',
    );
    expect((JSON.parse(String(up.body)) as Record<string, unknown>).stream_options).toBeUndefined();
    expect(azureAdapter.defaultBaseUrl('azure')).toBeNull();
    expect(azureAdapter.passthrough).toBe('openai');
  });
});

describe('azure passthrough and embeddings', () => {
  it.each([
    ['/v1/chat/completions', '/openai/deployments/d1/chat/completions'],
    ['/v1/completions', '/openai/deployments/d1/completions'],
    ['/v1/embeddings', '/openai/deployments/d1/embeddings'],
    ['/v1/images/generations', '/openai/deployments/d1/images/generations'],
    ['/v1/audio/speech', '/openai/deployments/d1/audio/speech'],
    ['/v1/audio/transcriptions?x=1', '/openai/deployments/d1/audio/transcriptions'],
    ['/v1/responses', '/openai/responses'],
  ])('%s -> %s', (path, expected) => {
    const body = Buffer.from('--boundary');
    const up = azureAdapter.passthroughRequest?.(
      path,
      body,
      target('http://127.0.0.1:1', '2024-06-01', 'd1'),
      'multipart/form-data; boundary=b',
    );
    expect(up?.url).toBe(`http://127.0.0.1:1${expected}?api-version=2024-06-01`);
    expect(up?.headers).toEqual({
      'api-key': 'az-secret',
      'content-type': 'multipart/form-data; boundary=b',
    });
    expect(up?.body).toBe(body);
  });

  it('embeddings go to the deployment; usage is read from the answer', () => {
    const up = azureAdapter.embeddingsRequest?.(
      { model: 'alias', input: 'x' },
      target('https://r.openai.azure.com', null, 'emb'),
      { dropped: [] },
    );
    expect(up?.url).toBe(
      'https://r.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21',
    );
    expect(JSON.parse(String(up?.body))).toEqual({ model: 'emb', input: 'x' });
    const res = azureAdapter.embeddingsResponse?.(
      { data: [], usage: { prompt_tokens: 4, total_tokens: 4 } },
      target('x', null),
    );
    expect(res?.usage?.inputTokens).toBe(4);
  });
});
