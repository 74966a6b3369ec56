/**
 * A count-only o200k_base tokenizer whose tables live off the V8 heap.
 *
 * gpt-tokenizer keeps its 200k-token vocabulary as JS strings in a Map (about 60 MB of RSS, and
 * every major GC marks them). Here the vocabulary is one gunzipped buffer (data/o200k_base.bin.gz,
 * written by scripts/build-tokenizer.mjs) plus typed arrays: an open-addressing hash table from
 * token bytes to rank, and a 64K table of the two-byte tokens. Counting allocates nothing per merge.
 *
 * Counts equal gpt-tokenizer's o200k_base `countTokens` exactly, also where it differs from OpenAI's
 * tiktoken: text around a byte order mark (see `bomRank`; JS `\s` also matches U+FEFF) and
 * contractions with non-ASCII case variants such as `'ſ`. Special tokens such as `<|endoftext|>`
 * are counted as ordinary text.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

const DATA_URL = new URL('../../../../data/o200k_base.bin.gz', import.meta.url);
const MAGIC = 0x5042324f; // 'O2BP'
const VERSION = 1;

/** "no such token": larger than every rank, so the lowest-rank search skips it */
const NONE = 0x7fffffff;

/**
 * tiktoken's o200k pre-tokenizer. Its `(?i:'s|'t|'re|'ve|'m|'ll|'d)` is spelled out with character
 * classes because JS supports no inline flags before Node 23 (ASCII case folding only, as in
 * gpt-tokenizer).
 */
const CONTRACTION = String.raw`(?:'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE]))?`;
const O200K_PATTERN = [
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+${CONTRACTION}`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*${CONTRACTION}`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join('|');

interface Vocab {
  /** every token's bytes, concatenated in rank order */
  bytes: Uint8Array;
  /** token `r` is bytes[offsets[r], offsets[r + 1]) */
  offsets: Uint32Array;
  /** open addressing, two ints a slot: [hash, rank + 1]; rank + 1 === 0 marks an empty slot */
  table: Int32Array;
  /** slot index mask (slots - 1) */
  mask: number;
  /** rank of the two-byte token (b0 << 8) | b1, or NONE */
  pairs: Int32Array;
}

let vocab: Vocab | undefined;

function loadVocab(): Vocab {
  if (vocab) return vocab;
  const raw = zlib.gunzipSync(fs.readFileSync(DATA_URL));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.byteLength < 12 || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) {
    throw new Error(
      'data/o200k_base.bin.gz is not an o200k vocabulary (rebuild it with scripts/build-tokenizer.mjs)',
    );
  }
  const count = view.getUint32(8, true);
  const lengths = new Uint8Array(raw.buffer, raw.byteOffset + 12, count);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset + 12 + count, raw.byteLength - 12 - count);
  const offsets = new Uint32Array(count + 1);
  for (let r = 0; r < count; r++) offsets[r + 1] = offsets[r]! + lengths[r]!;
  if (offsets[count] !== bytes.length) throw new Error('data/o200k_base.bin.gz is truncated');

  // at most half full: short linear probes
  let slots = 1;
  while (slots < count * 2) slots *= 2;
  const mask = slots - 1;
  const table = new Int32Array(slots * 2);
  const pairs = new Int32Array(65536).fill(NONE);
  for (let r = 0; r < count; r++) {
    const start = offsets[r]!;
    const end = offsets[r + 1]!;
    const h = hashBytes(bytes, start, end);
    let slot = h & mask;
    while (table[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
    table[slot * 2] = h;
    table[slot * 2 + 1] = r + 1;
    if (end - start === 2) pairs[(bytes[start]! << 8) | bytes[start + 1]!] = r;
  }
  vocab = { bytes, offsets, table, mask, pairs };
  return vocab;
}

/** FNV-1a over buf[start, end), with the high bits folded into the low ones the table indexes by */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return (h ^ (h >>> 16)) | 0;
}

/** Scratch arrays are kept for pieces up to this many bytes; giant one-off pieces get temporary ones. */
const KEEP_SCRATCH = 1 << 16;

/** Pieces longer than this (in bytes) merge through a heap instead of rescanning all pairs per merge. */
const HEAP_ABOVE = 48;

export interface O200kCounterOptions {
  /** Byte length above which a piece merges through a heap (tests set 0 to exercise it everywhere). */
  heapAbove?: number;
}

/**
 * A function that counts o200k_base tokens of a text. Loads the vocabulary (synchronously, once
 * per process) on the first call of this factory; throws if the data file is missing or invalid.
 */
export function createO200kCounter(options: O200kCounterOptions = {}): (text: string) => number {
  const { bytes, offsets, table, mask, pairs } = loadVocab();
  const heapAbove = options.heapAbove ?? HEAP_ABOVE;
  const splitter = new RegExp(O200K_PATTERN, 'gu');

  /** the current piece as UTF-8 (lone surrogates become U+FFFD, as TextEncoder does) */
  let buf = new Uint8Array(1024);
  /** linear merge: part boundaries and the rank of each adjacent pair of parts */
  let starts = new Int32Array(256);
  let ranks = new Int32Array(256);
  /** heap merge: linked parts (by start byte), the current rank of the pair starting at each, the heap */
  let next = new Int32Array(0);
  let prev = new Int32Array(0);
  let current = new Int32Array(0);
  let heapRank = new Int32Array(0);
  let heapPos = new Int32Array(0);
  /** set by `encode` when the piece held a lone surrogate */
  let loneSurrogate = false;

  function lookup(b: Uint8Array, start: number, end: number): number {
    const h = hashBytes(b, start, end);
    const len = end - start;
    let slot = h & mask;
    for (;;) {
      const rank = table[slot * 2 + 1]! - 1;
      if (rank < 0) return NONE;
      if (table[slot * 2] === h) {
        const at = offsets[rank]!;
        if (offsets[rank + 1]! - at === len) {
          let i = 0;
          while (i < len && bytes[at + i] === b[start + i]) i++;
          if (i === len) return rank;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Rank of buf[start, end) as a merge candidate within a piece of `n` bytes. */
  function mergeRank(start: number, end: number, n: number): number {
    if (buf[start] === 0xef && end - start >= 3 && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
      return bomRank(start, end, n);
    }
    return lookup(buf, start, end);
  }

  /**
   * gpt-tokenizer looks merge candidates up by decoding them with a TextDecoder, which drops a
   * leading byte order mark: a candidate "BOM + rest" gets the rank of `rest` (if `rest` is
   * non-empty, valid UTF-8 and kept as text in its table; the nine tokens that start with a BOM are
   * not), so the BOM tokens themselves are never produced. Mirrored here for identical counts.
   */
  function bomRank(start: number, end: number, n: number): number {
    if (end - start === 3) return NONE;
    // the piece is valid UTF-8 and start is a character boundary: the candidate is valid iff end is one
    if (end < n && (buf[end]! & 0xc0) === 0x80) return NONE;
    if (end - start >= 6 && buf[start + 3] === 0xef && buf[start + 4] === 0xbb && buf[start + 5] === 0xbf) {
      return NONE;
    }
    return lookup(buf, start + 3, end);
  }

  /** UTF-8 of text[start, end) into buf; returns its byte length. */
  function encode(text: string, start: number, end: number): number {
    const worst = (end - start) * 3;
    if (worst > buf.length) {
      let size = buf.length;
      while (size < worst) size *= 2;
      buf = new Uint8Array(size);
    }
    const b = buf;
    let n = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        b[n++] = c;
      } else if (c < 0x800) {
        b[n++] = 0xc0 | (c >> 6);
        b[n++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        b[n++] = 0xe0 | (c >> 12);
        b[n++] = 0x80 | ((c >> 6) & 0x3f);
        b[n++] = 0x80 | (c & 0x3f);
      } else {
        const d = c <= 0xdbff && i + 1 < end ? text.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          b[n++] = 0xf0 | (cp >> 18);
          b[n++] = 0x80 | ((cp >> 12) & 0x3f);
          b[n++] = 0x80 | ((cp >> 6) & 0x3f);
          b[n++] = 0x80 | (cp & 0x3f);
          i++;
        } else {
          loneSurrogate = true;
          b[n++] = 0xef;
          b[n++] = 0xbf;
          b[n++] = 0xbd;
        }
      }
    }
    return n;
  }

  /** Byte-level BPE of buf[0, n): repeatedly merge the leftmost adjacent pair of lowest rank. */
  function mergeLinear(n: number): number {
    if (n + 1 > starts.length) {
      starts = new Int32Array(n + 1);
      ranks = new Int32Array(n + 1);
    }
    const s = starts;
    const rk = ranks;
    const b = buf;
    for (let i = 0; i < n; i++) {
      s[i] = i;
      rk[i] = i + 1 < n ? pairs[(b[i]! << 8) | b[i + 1]!]! : NONE;
    }
    s[n] = n;
    // parts: m; part i is buf[s[i], s[i + 1]); rk[i] ranks parts i and i + 1 together (i < m - 1)
    let m = n;
    while (m > 1) {
      let min = NONE;
      let at = -1;
      for (let i = 0; i < m - 1; i++) {
        if (rk[i]! < min) {
          min = rk[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      // parts at and at + 1 become one: drop boundary at + 1 and pair rank at + 1
      for (let i = at + 1; i < m; i++) s[i] = s[i + 1]!;
      for (let i = at + 1; i < m - 1; i++) rk[i] = rk[i + 1]!;
      m--;
      rk[at] = at + 1 < m ? mergeRank(s[at]!, s[at + 2]!, n) : NONE;
      if (at > 0) rk[at - 1] = mergeRank(s[at - 1]!, s[at + 1]!, n);
    }
    return m;
  }

  /** The same merges in O(n log n) for long pieces: parts linked by start byte, a min-heap of (rank, start). */
  function mergeHeap(n: number): number {
    let nx = next;
    let pv = prev;
    let cur = current;
    let hr = heapRank;
    let hp = heapPos;
    if (n > nx.length) {
      nx = new Int32Array(n);
      pv = new Int32Array(n);
      cur = new Int32Array(n);
      hr = new Int32Array(n * 2);
      hp = new Int32Array(n * 2);
      if (n <= KEEP_SCRATCH) {
        next = nx;
        prev = pv;
        current = cur;
        heapRank = hr;
        heapPos = hp;
      }
    }
    const b = buf;
    let size = 0;
    const push = (rank: number, pos: number): void => {
      if (size === hr.length) {
        const r2 = new Int32Array(size * 2);
        const p2 = new Int32Array(size * 2);
        r2.set(hr);
        p2.set(hp);
        hr = r2;
        hp = p2;
      }
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const pr = hr[parent]!;
        if (pr < rank || (pr === rank && hp[parent]! < pos)) break;
        hr[i] = pr;
        hp[i] = hp[parent]!;
        i = parent;
      }
      hr[i] = rank;
      hp[i] = pos;
    };
    for (let i = 0; i < n; i++) {
      nx[i] = i + 1;
      pv[i] = i - 1;
      const rank = i + 1 < n ? pairs[(b[i]! << 8) | b[i + 1]!]! : NONE;
      cur[i] = rank;
      if (rank !== NONE) push(rank, i);
    }
    let parts = n;
    while (size > 0) {
      const rank = hr[0]!;
      const pos = hp[0]!;
      // pop: sift the last entry down from the root
      size--;
      if (size > 0) {
        const lr = hr[size]!;
        const lp = hp[size]!;
        let i = 0;
        for (;;) {
          let child = i * 2 + 1;
          if (child >= size) break;
          const right = child + 1;
          if (
            right < size &&
            (hr[right]! < hr[child]! || (hr[right] === hr[child] && hp[right]! < hp[child]!))
          ) {
            child = right;
          }
          const cr = hr[child]!;
          if (cr > lr || (cr === lr && hp[child]! > lp)) break;
          hr[i] = cr;
          hp[i] = hp[child]!;
          i = child;
        }
        hr[i] = lr;
        hp[i] = lp;
      }
      // stale: the part was merged away (-1) or its pair changed since this entry was pushed
      if (cur[pos] !== rank) continue;
      const gone = nx[pos]!;
      const after = nx[gone]!;
      nx[pos] = after;
      if (after < n) pv[after] = pos;
      cur[gone] = -1;
      parts--;
      const r1 = after < n ? mergeRank(pos, nx[after]!, n) : NONE;
      cur[pos] = r1;
      if (r1 !== NONE) push(r1, pos);
      const before = pv[pos]!;
      if (before >= 0) {
        const r0 = mergeRank(before, after, n);
        cur[before] = r0;
        if (r0 !== NONE) push(r0, before);
      }
    }
    if (n <= KEEP_SCRATCH && hr.length > heapRank.length) {
      heapRank = hr;
      heapPos = hp;
    }
    return parts;
  }

  return (text: string): number => {
    let count = 0;
    splitter.lastIndex = 0;
    for (let m = splitter.exec(text); m !== null; m = splitter.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      loneSurrogate = false;
      const n = encode(text, start, end);
      if (n === 1) {
        count++;
        continue;
      }
      // the whole piece is one token, unless gpt-tokenizer's string lookup would miss it:
      // text with a lone surrogate, or a token it keeps as bytes (those starting with a BOM)
      const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
      if (!loneSurrogate && !bom && lookup(buf, 0, n) !== NONE) {
        count++;
        continue;
      }
      count += n > heapAbove ? mergeHeap(n) : mergeLinear(n);
      // do not hold on to the buffer of a giant piece
      if (buf.length > KEEP_SCRATCH * 4) buf = new Uint8Array(1024);
    }
    return count;
  };
}
