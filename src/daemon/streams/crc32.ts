/**
 * CRC-32 (IEEE 802.3 / zlib polynomial, reflected) for the AWS event-stream framing, which guards
 * every message's prelude and body with it. Table-driven so the per-byte cost stays one lookup;
 * implemented here rather than through zlib because `zlib.crc32` is missing from older Node 20s.
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes[start, end)`, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) {
    // Both indexes are in range by construction; the fallbacks only satisfy noUncheckedIndexedAccess.
    crc = (TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
