#!/usr/bin/env node
/**
 * Builds data/o200k_base.bin.gz, the vocabulary of the offline token counter
 * (src/daemon/gateway/tokens/bpe.ts), from the o200k_base ranks shipped in the `gpt-tokenizer` dev dependency.
 *
 * gpt-tokenizer stores rank i as entry i of an array: a string when the token's bytes are valid UTF-8
 * (its bytes are then the string's UTF-8 encoding), else the bytes as an array of numbers.
 *
 * Payload (little-endian, then gzip):
 *   u32 magic 'O2BP' | u32 version | u32 N (token count) | u8 length[N] | the N tokens' bytes, concatenated
 * Rank i is the i-th token; offsets are the prefix sums of the lengths (no token is longer than 255 bytes).
 *
 * Usage: node scripts/build-tokenizer.mjs [--out <file>]   (default: data/o200k_base.bin.gz)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const MAGIC = 0x5042324f; // 'O2BP' read as a little-endian u32
export const VERSION = 1;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = path.join(ROOT, 'data', 'o200k_base.bin.gz');

/** @returns {Promise<Uint8Array[]>} token bytes by rank */
async function readRanks() {
  const mod = await import('gpt-tokenizer/esm/bpeRanks/o200k_base');
  /** @type {(string | number[])[]} */
  const entries = mod.default;
  const encoder = new TextEncoder();
  const tokens = [];
  for (let rank = 0; rank < entries.length; rank++) {
    if (!(rank in entries)) throw new Error(`o200k_base has no token for rank ${rank}`);
    const entry = entries[rank];
    if (typeof entry === 'string') {
      if (!entry.isWellFormed()) throw new Error(`rank ${rank} is not well-formed text`);
      tokens.push(encoder.encode(entry));
    } else {
      if (!entry.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
        throw new Error(`rank ${rank} holds a value that is not a byte`);
      }
      tokens.push(Uint8Array.from(entry));
    }
  }
  return tokens;
}

/** @param {Uint8Array[]} tokens */
function payload(tokens) {
  const seen = new Set();
  let total = 0;
  for (const [rank, t] of tokens.entries()) {
    if (t.length === 0 || t.length > 255) throw new Error(`rank ${rank} is ${t.length} bytes long`);
    const key = Buffer.from(t).toString('latin1');
    if (seen.has(key)) throw new Error(`rank ${rank} repeats an earlier token`);
    seen.add(key);
    total += t.length;
  }
  const out = Buffer.alloc(12 + tokens.length + total);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(tokens.length, 8);
  let lenAt = 12;
  let byteAt = 12 + tokens.length;
  for (const t of tokens) {
    out[lenAt++] = t.length;
    out.set(t, byteAt);
    byteAt += t.length;
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 && args[outIdx + 1] ? path.resolve(args[outIdx + 1]) : DEFAULT_OUT;
  const tokens = await readRanks();
  const raw = payload(tokens);
  const gz = zlib.gzipSync(raw, { level: 9 });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, gz);
  console.log(
    `${path.relative(process.cwd(), out)}: ${tokens.length} tokens, ${raw.length} bytes, ${gz.length} gzipped`,
  );
}

await main();
