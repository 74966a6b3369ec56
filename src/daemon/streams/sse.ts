/**
 * The one Server-Sent Events parser (WHATWG event-stream rules) and its encoder. Upstream bytes
 * arrive in arbitrary TCP-sized pieces, so the decoder works on bytes: the part of a chunk up to
 * its last line break holds whole lines only and is decoded to text in one go, which keeps
 * multi-byte UTF-8 characters split across chunks intact. An incomplete line is kept as a list of
 * pieces and joined once when it ends, so a megabyte-long `data:` line costs linear time and there
 * is no line-length limit. All three line endings are accepted (`\n`, `\r\n`, lone `\r`); Gemini
 * uses `\r\n\r\n` between events. Relayed streams go through here frame by frame, so the decoder
 * keeps to one string per chunk and one slice per field.
 *
 * Why ours and not `eventsource-parser` (the parser vercel/ai uses): behind this same interface (a
 * streaming TextDecoder in front, its events collected per chunk) it passed the same tests
 * (test/unit/sse.test.ts, every split position included), but it is not measurably faster:
 * `node bench/micro/parsers.mjs` (400 deltas per stream, 2,000 streams, interleaved rounds) gave it
 * 0.65x-1.45x our time across rounds on a loaded two-core machine, no consistent winner. Adopting it
 * would add a dependency for no gain; re-run the script on a quiet machine before revisiting.
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
  /** the event's data so far (lines joined by LF), undefined before its first data line */
  private data: string | undefined;
  private eventName: string | undefined;

  push(chunk: Buffer): SseEvent[] {
    const out: SseEvent[] = [];
    let pos = 0;
    if (this.skipLeadingLf && chunk.length > 0) {
      if (chunk[0] === LF) pos = 1;
      this.skipLeadingLf = false;
    }
    const last = Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
    if (last < pos) {
      if (pos < chunk.length) this.pending.push(chunk.subarray(pos));
      return out;
    }
    let text: string;
    if (this.pending.length > 0) {
      this.pending.push(chunk.subarray(pos, last + 1));
      text = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
    } else {
      text = chunk.toString('utf8', pos, last + 1);
    }
    if (last + 1 < chunk.length) this.pending.push(chunk.subarray(last + 1));
    else if (chunk[last] === CR) this.skipLeadingLf = true;
    this.lines(text, out);
    return out;
  }

  /** The stream ended: an unterminated last line and an event without a trailing blank line count. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.pending.length > 0) {
      this.lines(`${Buffer.concat(this.pending).toString('utf8')}\n`, out);
      this.pending = [];
    }
    this.dispatch(out);
    this.skipLeadingLf = false;
    return out;
  }

  /** `text` is whole lines, its last character a line break. */
  private lines(text: string, out: SseEvent[]): void {
    let pos = 0;
    if (this.atStreamStart) {
      this.atStreamStart = false;
      if (text.charCodeAt(0) === 0xfeff) pos = 1;
    }
    // Cached positions of the next CR and LF: re-searching both on every line would rescan the
    // rest of the text each time whenever one of them is absent.
    let nextLf = text.indexOf('\n', pos);
    let nextCr = text.indexOf('\r', pos);
    while (pos < text.length) {
      if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n', pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf('\r', pos);
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      if (end === pos) this.dispatch(out);
      else this.field(text, pos, end);
      pos = end + 1;
      if (text.charCodeAt(end) === CR && text.charCodeAt(pos) === LF) pos += 1;
    }
  }

  /** One non-empty line, text[from, to). */
  private field(text: string, from: number, to: number): void {
    if (text.charCodeAt(from) === 0x3a /* ':' comment */) return;
    let colon = text.indexOf(':', from);
    if (colon === -1 || colon > to) colon = to;
    let v = colon + 1;
    if (v < to && text.charCodeAt(v) === 0x20) v += 1;
    const value = v >= to ? '' : text.slice(v, to);
    const nameLength = colon - from;
    if (nameLength === 4 && text.startsWith('data', from)) {
      this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    } else if (nameLength === 5 && text.startsWith('event', from)) {
      this.eventName = value;
    }
    // `id` and `retry` steer browser reconnection, which a relay does not do.
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data !== undefined)
      out.push({ kind: 'sse', event: this.eventName || undefined, data: this.data });
    this.data = undefined;
    this.eventName = undefined;
  }
}

/** Encodes one SSE frame; a multi-line payload becomes several `data:` lines, as the format requires. */
export function sseFrame(data: string, event?: string): string {
  let frame = event === undefined ? '' : `event: ${event}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return frame + '\n';
}
