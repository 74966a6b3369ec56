/**
 * The fixture loader's cassette reader, checked against what the cassettes must contain: vcrpy
 * and go-vcr block bodies, the double-quoted styles (escapes, folding, CRLF inside), `!!binary`
 * bodies byte-identical to the separately extracted `.bin`, and request/response sides in order.
 */
import { describe, expect, it } from 'vitest';
import {
  cassetteResponseBodies,
  readCassetteBodies,
  readChunksJsonl,
  readFixture,
} from '../support/fixtures.js';

describe('cassette body reader', () => {
  it('keeps a vcrpy `|+` SSE body exactly, trailing blank line included', () => {
    const bodies = cassetteResponseBodies('openai/chat-stream-tool-call-include-usage.cassette.yaml');
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(body.startsWith('data: {"id":"chatcmpl-')).toBe(true);
      expect(body.endsWith('}\n\ndata: [DONE]\n\n')).toBe(true);
      const frames = body.split('\n\n').filter((f) => f !== '');
      for (const f of frames.slice(0, -1))
        expect(() => JSON.parse(f.slice('data: '.length)) as unknown).not.toThrow();
    }
  });

  it('reads go-vcr request and response bodies with their sides', () => {
    const bodies = readCassetteBodies('openai/chat-nonstream-tool-calls.cassette.yaml');
    expect(bodies.map((b) => b.side)).toEqual(['request', 'response']);
    expect(JSON.parse(bodies[0]?.text ?? '')).toMatchObject({ model: 'gpt-5-nano', tool_choice: 'auto' });
    const response = bodies[1]?.text ?? '';
    expect(response.endsWith('}')).toBe(true); // `|-` strips the final newline
    expect(JSON.parse(response)).toMatchObject({ object: 'chat.completion', usage: { total_tokens: 449 } });
    const notFound = cassetteResponseBodies('openai/error-404-model-not-found.cassette.yaml')[0] ?? '';
    expect(notFound.endsWith('}\n')).toBe(true); // `|` keeps exactly one
    expect(JSON.parse(notFound)).toMatchObject({ error: { code: 'model_not_found' } });
  });

  it('unescapes single-line double-quoted bodies (Azure)', () => {
    const [request, response] = readCassetteBodies('azure/chat-nonstream.cassette.yaml');
    expect(JSON.parse(request?.text ?? '')).toEqual({
      messages: [{ content: 'Hello!', role: 'user' }],
      model: 'gpt-5-nano',
    });
    const body = JSON.parse(response?.text ?? '') as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toContain('If you’re not sure');
  });

  it('folds multi-line double-quoted bodies and keeps escaped CRLF (Gemini)', () => {
    const body = cassetteResponseBodies('gemini/stream-sse-text.cassette.yaml')[0] ?? '';
    const frames = body.split('\r\n\r\n').filter((f) => f !== '');
    expect(frames).toHaveLength(3);
    const chunks = frames.map((f) => JSON.parse(f.slice('data: '.length)) as Record<string, unknown>);
    expect(chunks[0]).toHaveProperty('usageMetadata.promptTokenCount', 15);
    // `\\n` in YAML is an escaped backslash then n: the JSON text holds the escape, the value a newline
    expect(chunks[2]).toHaveProperty('candidates.0.content.parts.0.text', ' is Paris.\n');
    expect(chunks[2]).toHaveProperty('usageMetadata.candidatesTokenCount', 8);
    expect(body.endsWith('"w1peaMz6INOvnvgPgYfPiQY"}\r\n\r\n')).toBe(true);
  });

  it('decodes !!binary bodies to the exact recorded bytes (Bedrock)', () => {
    const [response] = readCassetteBodies(
      'bedrock/converse-stream-reasoning.eventstream.cassette.yaml',
    ).filter((b) => b.side === 'response');
    expect(response?.bytes.equals(readFixture('bedrock/converse-stream-reasoning.eventstream.bin'))).toBe(
      true,
    );
  });

  it('reads single-quoted request bodies (Bedrock)', () => {
    const [request] = readCassetteBodies('bedrock/converse-error-400.cassette.yaml');
    expect(request?.side).toBe('request');
    expect(JSON.parse(request?.text ?? '')).toMatchObject({
      messages: [{ role: 'user', content: [{ text: 'hello' }] }],
    });
  });
});

describe('readChunksJsonl', () => {
  it('parses one payload per line, with or without a final newline', () => {
    expect(readChunksJsonl('qwen/chat-stream-tool-call.chunks.jsonl')).toHaveLength(6);
    expect(readChunksJsonl('azure/chat-stream.chunks.jsonl')).toHaveLength(8);
  });
});
