/**
 * The AWS event-stream decoder over the two recorded ConverseStream bodies (compared with their
 * decoded .jsonl), fed whole, split at every byte offset and byte by byte; CRC and length
 * corruption rejected; every header value type decoded; and the encoder reproducing real frames.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/daemon/streams/crc32.js';
import { EventStreamDecoder, encodeEventStreamMessage } from '../../src/daemon/streams/eventstream.js';
import type { EventStreamMessage } from '../../src/daemon/providers/types.js';
import { readChunksJsonl, readFixture } from '../support/fixtures.js';

const RECORDINGS = ['converse-stream-tool-use', 'converse-stream-reasoning'];

interface DecodedLine {
  headers: Record<string, string>;
  payload: unknown;
}

function simplify(messages: EventStreamMessage[]): DecodedLine[] {
  return messages.map((m) => ({
    headers: m.headers,
    payload: JSON.parse(m.payload.toString('utf8')) as unknown,
  }));
}

function decodeAll(chunks: Buffer[]): EventStreamMessage[] {
  const d = new EventStreamDecoder();
  const out: EventStreamMessage[] = [];
  for (const c of chunks) out.push(...d.push(c));
  d.end();
  return out;
}

describe('crc32', () => {
  it('matches the IEEE check value and zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    expect(crc32(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xcbf43926);
  });
});

describe.each(RECORDINGS)('EventStreamDecoder over %s', (name) => {
  const bin = readFixture(`bedrock/${name}.eventstream.bin`);
  const expected = readChunksJsonl(`bedrock/${name}.eventstream.decoded.jsonl`) as DecodedLine[];

  it('decodes the whole body into the recorded messages', () => {
    expect(expected.length).toBeGreaterThan(5);
    expect(simplify(decodeAll([bin]))).toEqual(expected);
  });

  it('gives the same messages when split at every byte offset', () => {
    const want = JSON.stringify(simplify(decodeAll([bin])));
    expect(JSON.parse(want)).toEqual(expected);
    let mismatches = 0;
    for (let k = 0; k <= bin.length; k++) {
      const got = decodeAll([bin.subarray(0, k), bin.subarray(k)]);
      if (JSON.stringify(simplify(got)) !== want) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('gives the same messages fed one byte at a time', () => {
    const bytes = Array.from({ length: bin.length }, (_, i) => bin.subarray(i, i + 1));
    expect(simplify(decodeAll(bytes))).toEqual(expected);
  });

  it('re-encoding each decoded message reproduces the recorded bytes', () => {
    const reencoded = Buffer.concat(
      decodeAll([bin]).map((m) => encodeEventStreamMessage(m.headers, m.payload)),
    );
    expect(reencoded.equals(bin)).toBe(true);
  });

  it('rejects a corrupted prelude CRC, message CRC, payload byte and length', () => {
    const firstLength = bin.readUInt32BE(0);
    const flip = (at: number) => {
      const copy = Buffer.from(bin);
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return copy;
    };
    expect(() => decodeAll([flip(9)])).toThrow(/prelude CRC mismatch/);
    expect(() => decodeAll([flip(3)])).toThrow(/prelude CRC mismatch/);
    expect(() => decodeAll([flip(firstLength - 2)])).toThrow(/message CRC mismatch/);
    expect(() => decodeAll([flip(firstLength - 10)])).toThrow(/message CRC mismatch/);
    // Corruption in a later message is caught after the earlier ones were returned.
    const d = new EventStreamDecoder();
    expect(() => d.push(flip(firstLength + 20))).toThrow(/CRC mismatch/);
  });

  it('end() throws when the body stops inside a message', () => {
    const d = new EventStreamDecoder();
    const firstLength = bin.readUInt32BE(0);
    expect(d.push(bin.subarray(0, firstLength + 5))).toHaveLength(1);
    expect(() => d.end()).toThrow(/ended inside a message/);
  });
});

function prelude(total: number, headersLength: number): Buffer {
  const p = Buffer.alloc(12);
  p.writeUInt32BE(total, 0);
  p.writeUInt32BE(headersLength, 4);
  p.writeUInt32BE(crc32(p, 0, 8), 8);
  return p;
}

/** A message with raw (already typed) header bytes, CRCs computed. */
function frame(headerBytes: Buffer, payload: Buffer): Buffer {
  const total = 12 + headerBytes.length + payload.length + 4;
  const body = Buffer.concat([prelude(total, headerBytes.length), headerBytes, payload, Buffer.alloc(4)]);
  body.writeUInt32BE(crc32(body, 0, total - 4), total - 4);
  return body;
}

function header(name: string, type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from([type]), value]);
}

describe('EventStreamDecoder framing edge cases', () => {
  it('decodes every header value type to a string', () => {
    const i16 = Buffer.alloc(2);
    i16.writeInt16BE(-300);
    const i32 = Buffer.alloc(4);
    i32.writeInt32BE(70000);
    const i64 = Buffer.alloc(8);
    i64.writeBigInt64BE(-9007199254740993n);
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(1_700_000_000_123n);
    const lenPrefixed = (b: Buffer) => Buffer.concat([Buffer.from([0, b.length]), b]);
    const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const headers = Buffer.concat([
      header('t', 0, Buffer.alloc(0)),
      header('f', 1, Buffer.alloc(0)),
      header('b', 2, Buffer.from([0xfe])),
      header('s', 3, i16),
      header('i', 4, i32),
      header('l', 5, i64),
      header('y', 6, lenPrefixed(Buffer.from([1, 2, 3]))),
      header('str', 7, lenPrefixed(Buffer.from('héllo'))),
      header('ts', 8, ts),
      header('u', 9, uuid),
    ]);
    const [msg] = new EventStreamDecoder().push(frame(headers, Buffer.from('{}')));
    expect(msg?.headers).toEqual({
      t: 'true',
      f: 'false',
      b: '-2',
      s: '-300',
      i: '70000',
      l: '-9007199254740993',
      y: 'AQID',
      str: 'héllo',
      ts: '2023-11-14T22:13:20.123Z',
      u: '00112233-4455-6677-8899-aabbccddeeff',
    });
    expect(msg?.payload.toString()).toBe('{}');
  });

  it('rejects an unknown header type and a header running past its section', () => {
    expect(() =>
      new EventStreamDecoder().push(frame(header('x', 42, Buffer.alloc(0)), Buffer.alloc(0))),
    ).toThrow(/unknown value type 42/);
    expect(() =>
      new EventStreamDecoder().push(frame(header('x', 7, Buffer.from([0, 9, 65])), Buffer.alloc(0))),
    ).toThrow(/runs past/);
  });

  it('rejects impossible lengths as soon as the prelude is in', () => {
    expect(() => new EventStreamDecoder().push(prelude(8, 0))).toThrow(/length 8 is impossible/);
    expect(() => new EventStreamDecoder().push(prelude(0xffffffff, 0))).toThrow(/impossible/);
    expect(() => new EventStreamDecoder().push(prelude(40, 30))).toThrow(/headers length 30 exceeds/);
  });

  it('returns several messages arriving in one chunk, and empty payloads', () => {
    const a = encodeEventStreamMessage({ ':event-type': 'a' }, Buffer.from('{"x":1}'));
    const b = encodeEventStreamMessage({}, Buffer.alloc(0));
    const c = encodeEventStreamMessage({ ':event-type': 'c', k: 'v' }, Buffer.from('payload'));
    const d = new EventStreamDecoder();
    const got = d.push(Buffer.concat([a, b, c.subarray(0, 5)]));
    expect(got.map((m) => m.headers[':event-type'])).toEqual(['a', undefined]);
    expect(got[1]?.payload.length).toBe(0);
    const rest = d.push(c.subarray(5));
    expect(rest[0]?.headers).toEqual({ ':event-type': 'c', k: 'v' });
    expect(rest[0]?.payload.toString()).toBe('payload');
    expect(() => d.end()).not.toThrow();
  });
});
