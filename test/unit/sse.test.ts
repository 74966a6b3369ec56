/**
 * The SSE decoder against recorded streams cut at every byte position, the three line endings,
 * multi-byte characters split across chunks, very long lines (in linear time), comments, field
 * edge cases and end-of-stream flushing; and the encoder round-tripping through the decoder.
 */
import { describe, expect, it } from 'vitest';
import { SseDecoder, sseFrame } from '../../src/daemon/streams/sse.js';
import type { SseEvent } from '../../src/daemon/providers/types.js';
import { cassetteResponseBodies } from '../support/fixtures.js';

function decodeAll(chunks: Buffer[]): SseEvent[] {
  const d = new SseDecoder();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

const RECORDED = {
  openai: cassetteResponseBodies('openai/chat-stream-tool-call-include-usage.cassette.yaml')[1] ?? '',
  anthropic: cassetteResponseBodies('anthropic/messages-stream-text-raw-sse.cassette.yaml')[0] ?? '',
  gemini: cassetteResponseBodies('gemini/stream-sse-text.cassette.yaml')[0] ?? '',
};

describe('SseDecoder on recorded streams', () => {
  it('decodes the recorded OpenAI stream into its frames', () => {
    const events = decodeAll([b(RECORDED.openai)]);
    expect(events).toHaveLength(12);
    expect(events.at(-1)).toEqual({ kind: 'sse', event: undefined, data: '[DONE]' });
    const texts = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.data) as { choices: { delta: { content?: string } }[] });
    expect(texts.map((t) => t.choices[0]?.delta.content ?? '').join('')).toBe(
      'The capital of the UK is London.',
    );
  });

  it('decodes named Anthropic events and Gemini CRLF frames', () => {
    const anthropic = decodeAll([b(RECORDED.anthropic)]);
    expect(anthropic[0]?.event).toBe('message_start');
    expect(anthropic.at(-1)?.event).toBe('message_stop');
    for (const e of anthropic) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.event);
    expect(RECORDED.gemini).toContain('\r\n\r\n');
    const gemini = decodeAll([b(RECORDED.gemini)]);
    expect(gemini.length).toBeGreaterThan(1);
    for (const e of gemini) expect(JSON.parse(e.data)).toHaveProperty('candidates');
  });

  for (const [name, text] of Object.entries(RECORDED)) {
    it(`gives the same events for every split position of the ${name} stream`, () => {
      const whole = b(text);
      const expected = decodeAll([whole]);
      expect(expected.length).toBeGreaterThan(2);
      for (let i = 0; i <= whole.length; i++) {
        expect(decodeAll([whole.subarray(0, i), whole.subarray(i)])).toEqual(expected);
      }
      const bytes = Array.from({ length: whole.length }, (_, i) => whole.subarray(i, i + 1));
      expect(decodeAll(bytes)).toEqual(expected);
    });
  }
});

describe('SseDecoder line endings and fields', () => {
  it('accepts LF, CRLF and lone CR, including a CRLF split across chunks', () => {
    const want = [
      { kind: 'sse', event: undefined, data: 'a' },
      { kind: 'sse', event: undefined, data: 'b' },
    ];
    expect(decodeAll([b('data: a\n\ndata: b\n\n')])).toEqual(want);
    expect(decodeAll([b('data: a\r\n\r\ndata: b\r\n\r\n')])).toEqual(want);
    expect(decodeAll([b('data: a\r\rdata: b\r\r')])).toEqual(want);
    expect(decodeAll([b('data: a\r'), b('\n\r'), b('\ndata: b\r\n'), b('\r\n')])).toEqual(want);
    expect(decodeAll([b('data: a\r'), b('\r'), b('data: b\r\n\n')])).toEqual(want);
  });

  it('joins multi-line data, keeps event names, ignores comments and unknown fields', () => {
    const text =
      ': keep-alive\nevent: delta\ndata: one\ndata:two\ndata:  three\nid: 7\nretry: 10\nfoo: bar\n\n';
    expect(decodeAll([b(text)])).toEqual([{ kind: 'sse', event: 'delta', data: 'one\ntwo\n three' }]);
  });

  it('treats a field without a colon as an empty value and a blank-only event as nothing', () => {
    expect(decodeAll([b('data\n\n')])).toEqual([{ kind: 'sse', event: undefined, data: '' }]);
    expect(decodeAll([b('event: ping\n\n: only a comment\n\n\n\n')])).toEqual([]);
    // the event name does not leak into the next event
    expect(decodeAll([b('event: x\n\ndata: y\n\n')])).toEqual([{ kind: 'sse', event: undefined, data: 'y' }]);
  });

  it('flushes a final event that has no trailing blank line, terminated or not', () => {
    expect(decodeAll([b('data: a\n\ndata: last')])).toEqual([
      { kind: 'sse', event: undefined, data: 'a' },
      { kind: 'sse', event: undefined, data: 'last' },
    ]);
    expect(decodeAll([b('event: e\ndata: last\n')])).toEqual([{ kind: 'sse', event: 'e', data: 'last' }]);
    const d = new SseDecoder();
    expect(d.push(b('data: x'))).toEqual([]);
    expect(d.end()).toEqual([{ kind: 'sse', event: undefined, data: 'x' }]);
  });

  it('strips a UTF-8 byte order mark at the start of the stream only', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(decodeAll([bom, b('data: a\n\n')])).toEqual([{ kind: 'sse', event: undefined, data: 'a' }]);
  });
});

describe('SseDecoder bytes', () => {
  it('keeps multi-byte characters intact at every split position', () => {
    const text = 'data: 5 € and 🚀 and 中文\n\n';
    const whole = b(text);
    for (let i = 0; i <= whole.length; i++) {
      for (let j = i; j <= whole.length; j += 3) {
        const events = decodeAll([whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)]);
        expect(events).toEqual([{ kind: 'sse', event: undefined, data: '5 € and 🚀 and 中文' }]);
      }
    }
  });

  it('decodes a 1 MB single data line delivered in small pieces', () => {
    const payload = 'x€'.repeat(262_144); // 1 MiB of UTF-8
    const whole = b(`data: ${payload}\n\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < whole.length; i += 1000) chunks.push(whole.subarray(i, i + 1000));
    const events = decodeAll(chunks);
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(payload.length);
    expect(events[0]?.data).toBe(payload);
  });

  it('stays linear on a long line: 8 MB in 1 KB pieces', () => {
    const piece = Buffer.alloc(1024, 0x61);
    const d = new SseDecoder();
    const started = performance.now();
    expect(d.push(b('data: '))).toEqual([]);
    let early = 0;
    for (let i = 0; i < 8 * 1024; i++) early += d.push(piece).length;
    const events = d.push(b('\n\n'));
    const elapsed = performance.now() - started;
    expect(early).toBe(0);
    expect(events[0]?.data.length).toBe(8 * 1024 * 1024);
    // A decoder that re-joined or re-scanned its buffer per chunk would copy ~32 GB here (tens of
    // seconds); measured 58-235 ms on a 2-core machine running two mutation jobs
    expect(elapsed).toBeLessThan(2000);
  });
});

describe('sseFrame', () => {
  it('encodes data and event name, splitting multi-line data', () => {
    expect(sseFrame('{"a":1}')).toBe('data: {"a":1}\n\n');
    expect(sseFrame('x', 'message_stop')).toBe('event: message_stop\ndata: x\n\n');
    expect(sseFrame('a\nb\r\nc')).toBe('data: a\ndata: b\ndata: c\n\n');
  });

  it('round-trips through the decoder', () => {
    const cases: [string, string | undefined][] = [
      ['plain', undefined],
      ['line1\nline2\n', 'multi'],
      [' leading space', undefined],
      ['', 'empty'],
    ];
    const wire = cases.map(([d, e]) => sseFrame(d, e)).join('');
    expect(decodeAll([b(wire)])).toEqual(cases.map(([data, event]) => ({ kind: 'sse', event, data })));
  });
});
