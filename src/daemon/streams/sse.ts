/**
 * The one Server-Sent Events parser (WHATWG event-stream rules) and its encoder. Upstream bytes
 * arrive in arbitrary TCP-sized pieces, so the decoder works on bytes: it only turns a line into
 * text once the whole line has arrived, which keeps multi-byte UTF-8 characters split across
 * chunks intact. An incomplete line is kept as a list of pieces and joined once when it ends, so a
 * megabyte-long `data:` line costs linear time and there is no line-length limit. All three line
 * endings are accepted (`\n`, `\r\n`, lone `\r`); Gemini uses `\r\n\r\n` between events.
 */
import type { SseEvent } from '../providers/types.js';

const LF = 0x0a;
const CR = 0x0d;

export class SseDecoder {
  /** bytes of the current, not yet terminated line */
  private pending: Buffer[] = [];
  /** the previous chunk ended in CR, so a leading LF in the next one belongs to that CR */
  private skipLeadingLf = false;
  private atStreamStart = true;
  private dataLines: string[] = [];
  private sawData = false;
  private eventName: string | undefined;

  push(chunk: Buffer): SseEvent[] {
    const out: SseEvent[] = [];
    let pos = 0;
    if (this.skipLeadingLf && chunk.length > 0) {
      if (chunk[0] === LF) pos = 1;
      this.skipLeadingLf = false;
    }
    // Cached positions of the next CR and LF: re-searching both on every line would rescan the
    // rest of the chunk each time whenever one of them is absent.
    let nextLf = chunk.indexOf(LF, pos);
    let nextCr = chunk.indexOf(CR, pos);
    while (pos < chunk.length) {
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      if (end === -1) {
        this.pending.push(chunk.subarray(pos));
        break;
      }
      this.takeLine(chunk.subarray(pos, end), out);
      pos = end + 1;
      if (chunk[end] === CR) {
        if (pos < chunk.length) {
          if (chunk[pos] === LF) pos += 1;
        } else {
          this.skipLeadingLf = true;
        }
      }
    }
    return out;
  }

  /** The stream ended: an unterminated last line and an event without a trailing blank line count. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.pending.length > 0) this.takeLine(Buffer.alloc(0), out);
    this.dispatch(out);
    this.skipLeadingLf = false;
    return out;
  }

  private takeLine(tail: Buffer, out: SseEvent[]): void {
    let bytes = tail;
    if (this.pending.length > 0) {
      this.pending.push(tail);
      bytes = Buffer.concat(this.pending);
      this.pending = [];
    }
    if (this.atStreamStart) {
      this.atStreamStart = false;
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
      }
    }
    if (bytes.length === 0) {
      this.dispatch(out);
      return;
    }
    this.field(bytes.toString('utf8'));
  }

  private field(line: string): void {
    if (line.charCodeAt(0) === 0x3a /* ':' comment */) return;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (name === 'data') {
      this.dataLines.push(value);
      this.sawData = true;
    } else if (name === 'event') {
      this.eventName = value;
    }
    // `id` and `retry` steer browser reconnection, which a relay does not do.
  }

  private dispatch(out: SseEvent[]): void {
    if (this.sawData) {
      out.push({ kind: 'sse', event: this.eventName || undefined, data: this.dataLines.join('\n') });
    }
    this.dataLines = [];
    this.sawData = false;
    this.eventName = undefined;
  }
}

/** Encodes one SSE frame; a multi-line payload becomes several `data:` lines, as the format requires. */
export function sseFrame(data: string, event?: string): string {
  let frame = event === undefined ? '' : `event: ${event}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return frame + '\n';
}
