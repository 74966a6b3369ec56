// The off-heap o200k counter (src/daemon/gateway/tokens/bpe.ts) against gpt-tokenizer's o200k_base
// countTokens: same counts on fixtures, prose, code, JSON, many scripts, emoji, whitespace runs,
// contractions, a 100 KB text and seeded pseudo-random strings; the committed vocabulary file is
// what the generator writes now; special tokens in text are plain text.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { createO200kCounter } from '../../src/daemon/gateway/tokens/bpe.js';
import { countTextTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { FIXTURES_ROOT } from '../support/fixtures.js';
import { seededRandom } from '../support/seeded.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** gpt-tokenizer with special tokens counted as text (its default throws on them) */
const reference = (text: string): number => countTokens(text, { disallowedSpecial: new Set() });
const count = createO200kCounter();
/** the heap merge path for every piece, not only long ones */
const countViaHeap = createO200kCounter({ heapAbove: 0 });

/** Texts whose counts differ, with both counts (empty when all agree). */
function mismatches(
  texts: Iterable<string>,
  counter = count,
): { text: string; ours: number; theirs: number }[] {
  const out: { text: string; ours: number; theirs: number }[] = [];
  for (const text of texts) {
    const ours = counter(text);
    const theirs = reference(text);
    if (ours !== theirs)
      out.push({ text: text.length > 200 ? `${text.slice(0, 200)}...` : text, ours, theirs });
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      collectStrings(v, out);
    }
  }
}

/** Every fixture file's text, and every JSON string value in it (whole JSON files, JSON lines, and
 *  JSON embedded in YAML cassettes or SSE `data:` lines, found by parsing each line that looks like JSON). */
function fixtureTexts(): string[] {
  const out: string[] = [];
  const tryJson = (s: string): void => {
    const t = s.trim();
    if (!t.startsWith('{') && !t.startsWith('[') && !t.startsWith('"')) return;
    try {
      const parsed: unknown = JSON.parse(t);
      collectStrings(parsed, out);
      // cassettes often hold JSON bodies as JSON strings
      if (typeof parsed === 'string') tryJson(parsed);
    } catch {
      // not JSON
    }
  };
  for (const file of walk(FIXTURES_ROOT)) {
    const buf = fs.readFileSync(file);
    const text = buf.toString('utf8');
    out.push(text);
    tryJson(text);
    for (const line of text.split(/\r?\n/)) {
      tryJson(line);
      const body = /^\s*(?:data:|body:|string:|-)\s*(.*)$/.exec(line)?.[1];
      if (body !== undefined) tryJson(body);
    }
  }
  return out;
}

const PROSE = [
  'The quick brown fox jumps over the lazy dog.',
  "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
  'Budget reservations are settled against the upstream usage when the reply completes; if the upstream reports none, the gateway estimates it from the text it relayed.',
  "Mr. O'Neil said: \"We'll meet at 10:30 a.m. on Tuesday, 3 March 2026 — don't be late!\" (p. 42, §7.1)",
  'Naïve café owners in São Paulo, Zürich and Kraków serve crème brûlée; façade, coöperate, jalapeño.',
  'Prices: $1,299.99 (USD), €1.049,00, ¥120000, 12.5%, 3/4 cup, 1e-9, 0x1F, v2.3.4-rc.1',
  'URLs like https://example.com/path?query=a&b=c#frag and e-mails like jane.doe+tag@example.org.',
];

const CODE = [
  'function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\n',
  'def main():\n    for i in range(10):\n        print(f"{i:>4d} {i**2:08.3f}")\n\nif __name__ == "__main__":\n    main()\n',
  '#include <stdio.h>\nint main(void) {\n\tprintf("hello, world\\n");\n\treturn 0;\n}\n',
  'SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 100 GROUP BY u.id;',
  '<div class="card"><img src="/a.png" alt=""/><p>Hi &amp; bye</p></div>\n',
  "const re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$/i;",
  '\uFEFFusing System;\r\nnamespace Demo\r\n{\r\n\tclass P { static void Main() {} }\r\n}\r\n',
  '\uFEFF// header\n\uFEFF#pragma once\n\uFEFF\n\n\uFEFF\uFEFF\n\uFEFFname\uFEFFspace',
];

const JSON_TEXTS = [
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello!' }], temperature: 0.2 }),
  JSON.stringify({ a: [1, 2, 3, { b: null, c: true, d: 'x"y\\z' }], e: '\u00e9\u4e2d' }, null, 2),
  '{"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}',
];

const SCRIPTS = [
  '人工智能正在改变世界。我们今天去公园散步吧，天气很好！',
  '東京都は日本の首都です。ひらがな、カタカナ、漢字を混ぜて書きます。',
  '대한민국의 수도는 서울입니다. 안녕하세요, 만나서 반갑습니다.',
  'اللغة العربية جميلة جداً، وهي لغة القرآن الكريم. مرحبا بالعالم!',
  'हिन्दी भारत की राजभाषा है। नमस्ते दुनिया, आप कैसे हैं?',
  'Ελληνικά: Γειά σου Κόσμε! Русский: Привет, мир! Українська: Привіт, світе!',
  'עברית: שלום עולם. ไทย: สวัสดีชาวโลก. Tiếng Việt: Xin chào thế giới.',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ — combining: e\u0301 a\u0308 n\u0303 \u0301\u0302\u0303 alone',
];

const EMOJI = ['😀😃😄😁 👍🏻👍🏼👍🏽👍🏾👍🏿 ❤️ ✨🔥', '👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🧑🏿‍🤝‍🧑🏻 👁️‍🗨️ 🇺🇸🇯🇵🇪🇺', 'ok👌done✅ next➡️ 1️⃣2️⃣#️⃣ ©️®️™️'];

const DIGITS = [
  '0',
  '12',
  '123',
  '1234',
  '12345',
  '123456789012345678901234567890',
  '3.14159265358979',
  '٠١٢٣٤٥',
  '१२३४',
  '½ ⅓ ² ³ Ⅻ',
];

const WHITESPACE = [
  ' '.repeat(1),
  ' '.repeat(7),
  ' '.repeat(300),
  '\t'.repeat(40),
  'a' + ' '.repeat(1000) + 'b',
  '\r\n'.repeat(50),
  ' \t \r\n \n\n\t\t  \r \u00a0\u3000 x \n',
  'end with spaces   ',
  '\n\n\n   \t\t\r\n    \r\r\n\t \n' + ' '.repeat(65) + '\r\n\t'.repeat(33) + 'z',
  '\u2028\u2029\u0085\u000b\u000c mixed separators',
];

const CONTRACTIONS = [
  "I'm, you're, he's, she'll, we've, they'd, it's, don't, can't, won't",
  "I'M, YOU'RE, HE'S, SHE'LL, WE'VE, THEY'D, IT'S, DON'T, CAN'T, WON'T",
  "It'S we'Ll they'rE you'Ve I'M he'D 'S 'LL 're 'T ' s's 'x",
  'it’s ’twas rock ’n’ roll',
  "ſ 'ſ I'ſ K Kelvin's",
];

const SPECIALS = [
  '<|endoftext|>',
  'before <|endoftext|> after',
  '<|im_start|>user\nhi<|im_end|><|im_sep|><|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|>',
  '<|endoftext|><|endoftext|>',
];

/** code points for the random corpus, as [from, to] ranges, weighted by repetition */
const RANGES: [number, number][] = [
  [0x61, 0x7a],
  [0x61, 0x7a],
  [0x41, 0x5a],
  [0x30, 0x39],
  [0x20, 0x2f],
  [0x3a, 0x40],
  [0x5b, 0x60],
  [0x7b, 0x7e],
  [0x20, 0x20],
  [0x20, 0x20],
  [0x09, 0x0d],
  [0x00, 0x1f],
  [0x80, 0xff],
  [0x100, 0x24f],
  [0x300, 0x36f],
  [0x370, 0x3ff],
  [0x400, 0x4ff],
  [0x590, 0x5ff],
  [0x600, 0x6ff],
  [0x900, 0x97f],
  [0xe00, 0xe7f],
  [0x1100, 0x11ff],
  [0x2000, 0x206f],
  [0x20a0, 0x20cf],
  [0x2190, 0x23ff],
  [0x2500, 0x27bf],
  [0x3000, 0x303f],
  [0x3040, 0x30ff],
  [0x4e00, 0x9fff],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
  [0xd800, 0xdfff],
  [0xe000, 0xf8ff],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xff00, 0xffef],
  [0xfff0, 0xffff],
  [0x1f300, 0x1f5ff],
  [0x1f600, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x1f3fb, 0x1f3ff],
  [0x200d, 0x200d],
  [0x1d400, 0x1d7ff],
  [0x20000, 0x2a6df],
  [0x10000, 0x10ffff],
];

/** fragments spliced into random strings: common tokens, contractions, BOM-prefixed words, specials */
const FRAGMENTS = [
  "'s",
  "'LL",
  "'re",
  "'Ve",
  ' the',
  'ing',
  '\uFEFF',
  '\uFEFFusing',
  '\uFEFFnamespace',
  '\uFEFF\n\n',
  '\uFEFF//',
  '\uFEFF#',
  '\uFEFF\uFEFF',
  '\uFEFF소리마',
  '<|endoftext|>',
  '\r\n',
  '    ',
  '```',
  '://',
  '👍🏽',
  '👩‍💻',
  'é',
  'e\u0301',
];

function randomText(rand: () => number, maxLen: number): string {
  const len = 1 + Math.floor(rand() * maxLen);
  let s = '';
  for (let i = 0; i < len; i++) {
    if (rand() < 0.1) {
      s += FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]!;
      continue;
    }
    const [from, to] = RANGES[Math.floor(rand() * RANGES.length)]!;
    const cp = from + Math.floor(rand() * (to - from + 1));
    // surrogate code units on purpose: lone surrogates must count like TextEncoder's U+FFFD
    s += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return s;
}

function randomCorpus(seed: number, n: number, maxLen: number): string[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => randomText(rand, maxLen));
}

/** About `bytes` of English prose and TypeScript source: this repository's own sources and README. */
function proseAndCode(bytes: number): string {
  const files = [
    path.join(REPO_ROOT, 'README.md'),
    ...walk(path.join(REPO_ROOT, 'src')).filter((f) => f.endsWith('.ts')),
  ];
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += fs.readFileSync(files[i % files.length]!, 'utf8') + '\n';
  return text.slice(0, bytes);
}

describe('o200k counter matches gpt-tokenizer', () => {
  it('on every text and JSON string value in ../shared/fixtures', () => {
    const texts = fixtureTexts();
    expect(texts.length).toBeGreaterThan(500);
    expect(mismatches(texts)).toEqual([]);
  });

  it('on prose, code, JSON, scripts, emoji, digits, whitespace and contractions', () => {
    const texts = [
      ...PROSE,
      ...CODE,
      ...JSON_TEXTS,
      ...SCRIPTS,
      ...EMOJI,
      ...DIGITS,
      ...WHITESPACE,
      ...CONTRACTIONS,
    ];
    expect(mismatches(texts)).toEqual([]);
    expect(mismatches(texts, countViaHeap)).toEqual([]);
    // and the pieces joined, as one long text
    expect(count(texts.join('\n'))).toBe(reference(texts.join('\n')));
  });

  it('on long single pieces (heap merges): CJK runs, whitespace runs, punctuation runs', () => {
    const texts = [
      SCRIPTS[0]!.repeat(200).replace(/[。，！ ]/g, ''),
      '東京都は日本の首都です'.repeat(300),
      ' '.repeat(10_000),
      '\n'.repeat(5000),
      '=-'.repeat(3000),
      '\uFEFF'.repeat(500) + 'using',
      '😀👍🏽'.repeat(400),
      'ﷺ'.repeat(700),
    ];
    expect(mismatches(texts)).toEqual([]);
  });

  it('on a 100 KB text of prose and code', () => {
    const text = proseAndCode(100 * 1024);
    expect(text.length).toBe(100 * 1024);
    const n = count(text);
    expect(n).toBeGreaterThan(10_000);
    expect(n).toBe(reference(text));
  });

  it('on 4000 seeded pseudo-random strings over many code point ranges (seed 20261126)', () => {
    const texts = randomCorpus(20261126, 4000, 80);
    expect(mismatches(texts)).toEqual([]);
    expect(mismatches(texts, countViaHeap)).toEqual([]);
  });

  it('on 200 longer seeded pseudo-random strings (seed 7)', () => {
    expect(mismatches(randomCorpus(7, 200, 2000))).toEqual([]);
  });

  it('counts nothing for empty text', () => {
    expect(count('')).toBe(0);
  });
});

describe('special tokens', () => {
  it('are counted as ordinary text and never throw', async () => {
    for (const text of SPECIALS) {
      expect(() => count(text)).not.toThrow();
      expect(count(text)).toBe(reference(text));
    }
    // gpt-tokenizer's default countTokens throws on these; the gateway's count must not
    expect(() => countTokens('<|endoftext|>')).toThrow();
    expect(await countTextTokens('a <|endoftext|> b'.repeat(10))).toBe(
      reference('a <|endoftext|> b'.repeat(10)),
    );
  });
});

describe('data/o200k_base.bin.gz', () => {
  it('holds what scripts/build-tokenizer.mjs generates from the installed gpt-tokenizer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-bpe-'));
    try {
      const out = path.join(dir, 'o200k_base.bin.gz');
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build-tokenizer.mjs'), '--out', out], {
        cwd: REPO_ROOT,
        stdio: 'pipe',
      });
      // compare the payloads: gzip bytes may differ between zlib builds
      const fresh = zlib.gunzipSync(fs.readFileSync(out));
      const committed = zlib.gunzipSync(fs.readFileSync(path.join(REPO_ROOT, 'data/o200k_base.bin.gz')));
      expect(fresh.length).toBeGreaterThan(1_000_000);
      expect(committed.equals(fresh)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
