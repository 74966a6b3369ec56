/**
 * The Azure OpenAI adapter against the recordings (fixtures/azure): the non-stream cassette with
 * its content-filter annotations and reasoning usage, and the stream whose first chunk has empty
 * choices, id and model. Plus Azure's failures: 429 with `code: "429"` and `retry-after-ms`,
 * the content-filter 400 (passed back), DeploymentNotFound (try another channel), 401 (disable).
 */
import { describe, expect, it } from 'vitest';
import { azureAdapter } from '../../src/daemon/providers/azure/index.js';
import type { SseEvent, UpstreamTarget, Usage } from '../../src/daemon/providers/types.js';
import { readCassetteBodies, readChunksJsonl } from '../support/fixtures.js';
import { AZURE_429_BODY, AZURE_CONTENT_FILTER_BODY } from '../support/sim/azure-sim.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  {
    id: 3,
    name: 'azure',
    type: 'azure',
    baseUrl: 'https://resource-name.openai.azure.com',
    apiVersion: '2024-12-01-preview',
    timeoutMs: 60_000,
  },
  'azure-key',
  'gpt-5-nano',
);

function sse(data: unknown): SseEvent {
  return { kind: 'sse', event: undefined, data: typeof data === 'string' ? data : JSON.stringify(data) };
}

const streamEvents = [...readChunksJsonl('azure/chat-stream.chunks.jsonl').map(sse), sse('[DONE]')];

describe('azure adapter: recorded answers', () => {
  it('non-stream: the completion, its filter annotations and reasoning usage', () => {
    const response = readCassetteBodies('azure/chat-nonstream.cassette.yaml').find(
      (b) => b.side === 'response',
    );
    const body: unknown = JSON.parse(response?.text ?? '');
    const { completion, usage } = azureAdapter.chatResponse(body, target, { dropped: [] });
    expect(completion.choices[0]?.message.content).toMatch(/^Hi there! How can I help today\?/);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.model).toBe('gpt-5-nano-2025-08-07');
    expect(completion.prompt_filter_results).toEqual([{ content_filter_results: {}, prompt_index: 0 }]);
    expect((completion.choices[0] as unknown as Record<string, unknown>).content_filter_results).toEqual({});
    expect(usage).toEqual({
      inputTokens: 8,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 271,
      reasoningTokens: 192,
    });
    expect(azureAdapter.usageFromBody?.(body)).toEqual(usage);
  });

  it('stream: the empty-choices first chunk says nothing; text, finish and usage come through', () => {
    const conv = azureAdapter.chatStream(target, { dropped: [] });
    const chunks = streamEvents.flatMap((e) => conv.push(e));
    chunks.push(...conv.end());
    expect(chunks.every((c) => c.id === 'chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt')).toBe(true);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Capital of Denmark.');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(conv.usage()).toEqual({
      inputTokens: 15,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 78,
      reasoningTokens: 64,
    });
  });

  it('passthrough usage: only the final usage chunk counts, the first chunk is not mistaken for it', () => {
    let usage: Usage | null = null;
    const seen: (Usage | null)[] = [];
    for (const e of streamEvents) {
      usage = azureAdapter.usageFromEvent?.(e, usage) ?? null;
      seen.push(usage);
    }
    expect(seen.slice(0, -2).every((u) => u === null)).toBe(true);
    expect(usage).toMatchObject({ inputTokens: 15, outputTokens: 78, reasoningTokens: 64 });
  });
});

describe('azure adapter: failures', () => {
  it('429 code "429": retry after retry-after-ms', () => {
    const f = azureAdapter.classifyError(
      429,
      { 'retry-after-ms': '1500', 'retry-after': '2' },
      JSON.stringify(AZURE_429_BODY),
    );
    expect(f).toMatchObject({ status: 429, action: 'retry', retryAfterMs: 1500 });
    expect(f.body).toBeUndefined();
    expect(f.message).toContain('exceeded token rate limit');
  });

  it('400 content_filter: passed back unchanged, the log names the filter', () => {
    const text = JSON.stringify(AZURE_CONTENT_FILTER_BODY);
    const f = azureAdapter.classifyError(400, {}, text);
    expect(f).toMatchObject({ status: 400, action: 'reject', body: text });
    expect(f.message.startsWith('azure content_filter:')).toBe(true);
  });

  it('404 DeploymentNotFound: the channel is misconfigured, try another', () => {
    const text = JSON.stringify({
      error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' },
    });
    const f = azureAdapter.classifyError(404, {}, text);
    expect(f).toMatchObject({ status: 404, action: 'retry' });
    expect(f.body).toBeUndefined();
    expect(f.message).toContain('DeploymentNotFound');
  });

  it.each([
    [
      401,
      {
        error: {
          code: '401',
          message: 'Access denied due to invalid subscription key or wrong API endpoint.',
        },
      },
      'disable',
    ],
    [
      403,
      {
        error: {
          code: 'AuthenticationTypeDisabled',
          message: 'Key based authentication is disabled for this resource.',
        },
      },
      'disable',
    ],
    [
      400,
      { error: { code: 'BadRequest', message: 'Invalid value for messages.', param: 'messages' } },
      'reject',
    ],
    [500, { error: { code: 'InternalServerError', message: 'The server had an error.' } }, 'retry'],
    [503, { error: { code: 'ServiceUnavailable', message: 'Try again.' } }, 'retry'],
  ] as const)('%i -> %s', (status, body, action) => {
    const f = azureAdapter.classifyError(status, {}, JSON.stringify(body));
    expect(f.action).toBe(action);
    expect(f.status).toBe(status);
  });
});
