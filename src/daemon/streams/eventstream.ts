/**
 * The AWS event-stream binary framing (application/vnd.amazon.eventstream), used by Bedrock's
 * ConverseStream. Each message is a 12-byte prelude (total length, headers length, prelude CRC),
 * typed headers, a payload and a message CRC, all big-endian. The decoder is incremental: bytes
 * arrive split anywhere, so it buffers until a whole message is present, and it checks the prelude
 * CRC as soon as 12 bytes exist so that garbage fails fast instead of waiting for a bogus length.
 * Header values of every wire type are rendered as strings, which is what the converters read.
 *
 * Kept rather than AWS's `@smithy/eventstream-codec` (issue 15; measured 2026-12-07 on Node 20 with
 * `node bench/micro/aws.mjs 9`, 9 interleaved rounds on a loaded 2-core machine): over the recorded
 * ConverseStream bodies, fed one message a chunk, in 100-byte chunks and whole, both decode the
 * identical messages (the script asserts it). The codec only decodes whole messages, so it needs a
 * chunk buffer like this one around it anyway; with that, it was slower per frame (median 1.4x in
 * every chunking; round spread 0.7-2.2x), it checks the prelude CRC only once the whole message
 * has arrived, and loading it with `@smithy/util-utf8` costs about 10 MB more RSS, 1.5 MB more live
 * heap and 110 ms more import time than this file, because it pulls in `@smithy/core`.
 */
import type { EventStreamMessage } from '../providers/types.js';
import { crc32 } from './crc32.js';

const PRELUDE_LENGTH = 12;
const MIN_MESSAGE_LENGTH = 16;
/** AWS caps a message at 16 MiB of payload plus 128 KiB of headers; anything past this is corruption. */
const MAX_MESSAGE_LENGTH = 16 * 1024 * 1024 + 128 * 1024 + MIN_MESSAGE_LENGTH;

const HEADER_TYPE_STRING = 7;

export class EventStreamDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** total length of the message being assembled, once its prelude has been checked */
  private expected: number | null = null;

  /** Feeds bytes; returns every message completed by them, in order. Throws on corrupt framing. */
  push(chunk: Buffer): EventStreamMessage[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: EventStreamMessage[] = [];
    for (;;) {
      if (this.expected === null) {
        if (this.buffered < PRELUDE_LENGTH) break;
        this.expected = checkPrelude(this.peek(PRELUDE_LENGTH));
      }
      if (this.buffered < this.expected) break;
      const frame = this.take(this.expected);
      this.expected = null;
      out.push(decodeMessage(frame));
    }
    return out;
  }

  /** The stream ended: a partially received message means the upstream was cut off. */
  end(): void {
    if (this.buffered > 0) {
      throw new Error(
        `event-stream ended inside a message (${this.buffered} byte(s) pending` +
          (this.expected === null ? ')' : ` of ${this.expected})`),
      );
    }
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    return this.flatten().subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.flatten();
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return frame;
  }
}

/** Validates a 12-byte prelude and returns the message's total length. */
function checkPrelude(prelude: Buffer): number {
  const total = prelude.readUInt32BE(0);
  const headersLength = prelude.readUInt32BE(4);
  const expectedCrc = prelude.readUInt32BE(8);
  const actualCrc = crc32(prelude, 0, 8);
  if (actualCrc !== expectedCrc) {
    throw new Error(
      `event-stream prelude CRC mismatch: expected ${hex(expectedCrc)}, computed ${hex(actualCrc)}`,
    );
  }
  if (total < MIN_MESSAGE_LENGTH || total > MAX_MESSAGE_LENGTH) {
    throw new Error(`event-stream message length ${total} is impossible`);
  }
  if (headersLength > total - MIN_MESSAGE_LENGTH) {
    throw new Error(`event-stream headers length ${headersLength} exceeds message length ${total}`);
  }
  return total;
}

function decodeMessage(frame: Buffer): EventStreamMessage {
  const total = frame.length;
  const expectedCrc = frame.readUInt32BE(total - 4);
  const actualCrc = crc32(frame, 0, total - 4);
  if (actualCrc !== expectedCrc) {
    throw new Error(
      `event-stream message CRC mismatch: expected ${hex(expectedCrc)}, computed ${hex(actualCrc)}`,
    );
  }
  const headersLength = frame.readUInt32BE(4);
  const headersEnd = PRELUDE_LENGTH + headersLength;
  return {
    kind: 'eventstream',
    headers: decodeHeaders(frame.subarray(PRELUDE_LENGTH, headersEnd)),
    // A copy, so the message does not pin the (possibly large) receive buffer.
    payload: Buffer.from(frame.subarray(headersEnd, total - 4)),
  };
}

function decodeHeaders(buf: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new Error('event-stream header runs past the headers section');
  };
  while (pos < buf.length) {
    need(1);
    const nameLength = buf.readUInt8(pos);
    pos += 1;
    need(nameLength + 1);
    const name = buf.toString('utf8', pos, pos + nameLength);
    pos += nameLength;
    const type = buf.readUInt8(pos);
    pos += 1;
    const [value, size] = readHeaderValue(buf, pos, type, need);
    headers[name] = value;
    pos += size;
  }
  return headers;
}

/** One header value as a string, and how many bytes it took. */
function readHeaderValue(
  buf: Buffer,
  pos: number,
  type: number,
  need: (n: number) => void,
): [string, number] {
  switch (type) {
    case 0:
      return ['true', 0];
    case 1:
      return ['false', 0];
    case 2:
      need(1);
      return [String(buf.readInt8(pos)), 1];
    case 3:
      need(2);
      return [String(buf.readInt16BE(pos)), 2];
    case 4:
      need(4);
      return [String(buf.readInt32BE(pos)), 4];
    case 5:
      need(8);
      return [buf.readBigInt64BE(pos).toString(), 8];
    case 6:
    case HEADER_TYPE_STRING: {
      need(2);
      const length = buf.readUInt16BE(pos);
      need(2 + length);
      const raw = buf.subarray(pos + 2, pos + 2 + length);
      return [type === 6 ? raw.toString('base64') : raw.toString('utf8'), 2 + length];
    }
    case 8:
      need(8);
      return [new Date(Number(buf.readBigInt64BE(pos))).toISOString(), 8];
    case 9: {
      need(16);
      const h = buf.toString('hex', pos, pos + 16);
      return [`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, 16];
    }
    default:
      throw new Error(`event-stream header has unknown value type ${type}`);
  }
}

/** Frames one message with string headers; used by the Bedrock simulator and tests. */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    if (nameBytes.length > 255) throw new Error(`event-stream header name too long: ${name}`);
    if (valueBytes.length > 0xffff) throw new Error(`event-stream header value too long: ${name}`);
    const head = Buffer.alloc(1 + nameBytes.length + 3);
    head.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(head, 1);
    head.writeUInt8(HEADER_TYPE_STRING, 1 + nameBytes.length);
    head.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    parts.push(head, valueBytes);
  }
  const headerBytes = Buffer.concat(parts);
  const total = PRELUDE_LENGTH + headerBytes.length + payload.length + 4;
  const frame = Buffer.alloc(total);
  frame.writeUInt32BE(total, 0);
  frame.writeUInt32BE(headerBytes.length, 4);
  frame.writeUInt32BE(crc32(frame, 0, 8), 8);
  headerBytes.copy(frame, PRELUDE_LENGTH);
  payload.copy(frame, PRELUDE_LENGTH + headerBytes.length);
  frame.writeUInt32BE(crc32(frame, 0, total - 4), total - 4);
  return frame;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
