/**
 * Loads the recorded provider fixtures in `../shared/fixtures` (beside the repository, in CI too)
 * for tests and simulators. Cassettes are YAML and no YAML package is installed, so this holds a
 * small reader that extracts only request/response bodies from the two recorders in use (vcrpy:
 * `body: {string: ...}`, go-vcr: `body: ...`), in the scalar styles they write: block (`|`, `|-`,
 * `|+`), `!!binary` base64, double-quoted with escapes and line folding, single-quoted and plain.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// BC_FIXTURES_ROOT: for a copy of the repository elsewhere (StrykerJS's sandbox under .stryker-tmp/)
export const FIXTURES_ROOT = process.env.BC_FIXTURES_ROOT ?? path.resolve(REPO_ROOT, '../shared/fixtures');

export function fixturePath(rel: string): string {
  return path.join(FIXTURES_ROOT, rel);
}

export function readFixture(rel: string): Buffer {
  return fs.readFileSync(fixturePath(rel));
}

export function readFixtureText(rel: string): string {
  return fs.readFileSync(fixturePath(rel), 'utf8');
}

export function readFixtureJson<T = unknown>(rel: string): T {
  return JSON.parse(readFixtureText(rel)) as T;
}

/** One parsed JSON payload per non-empty line (vercel/ai recorder format, SSE framing stripped). */
export function readChunksJsonl(rel: string): unknown[] {
  return readFixtureText(rel)
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

export interface CassetteBody {
  side: 'request' | 'response';
  /** the body text (for `!!binary` bodies: the bytes decoded as latin1, see `bytes`) */
  text: string;
  bytes: Buffer;
}

/** Every request/response body of a cassette, in file order. */
export function readCassetteBodies(rel: string): CassetteBody[] {
  const lines = readFixtureText(rel).split(/\r?\n/);
  const out: CassetteBody[] = [];
  let side: CassetteBody['side'] = 'request';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const sideMatch = /^\s*(?:-\s+)?(request|response):\s*$/.exec(line);
    if (sideMatch) {
      side = sideMatch[1] === 'response' ? 'response' : 'request';
      continue;
    }
    const m = /^(\s*)(body|string):\s*(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[3] ?? '';
    // vcrpy writes `body:` then `string: ...` on the next line; go-vcr puts the value after `body:`.
    if (rest === '') continue;
    const parsed = parseScalar(lines, i, (m[1] ?? '').length, rest);
    out.push({ side, text: parsed.text, bytes: parsed.bytes });
    i = parsed.next - 1;
  }
  return out;
}

export function cassetteResponseBodies(rel: string): string[] {
  return readCassetteBodies(rel)
    .filter((b) => b.side === 'response')
    .map((b) => b.text);
}

interface Scalar {
  text: string;
  bytes: Buffer;
  /** index of the first line after the scalar */
  next: number;
}

function textScalar(text: string, next: number): Scalar {
  return { text, bytes: Buffer.from(text, 'utf8'), next };
}

function parseScalar(lines: string[], at: number, keyIndent: number, rest: string): Scalar {
  const binary = rest.startsWith('!!binary');
  const value = binary ? rest.slice('!!binary'.length).trim() : rest;
  const block = /^[|>]([-+]?)\d*([-+]?)\s*$/.exec(value);
  if (block) {
    const chomp = (block[1] || block[2] || '') as '' | '-' | '+';
    const { text, next } = blockScalar(lines, at + 1, keyIndent, chomp);
    if (binary) {
      const bytes = Buffer.from(text.replace(/\s+/g, ''), 'base64');
      return { text: bytes.toString('latin1'), bytes, next };
    }
    return textScalar(text, next);
  }
  if (value.startsWith('"')) return quoted(lines, at, value, '"');
  if (value.startsWith("'")) return quoted(lines, at, value, "'");
  return textScalar(value.trim(), at + 1);
}

function blockScalar(lines: string[], from: number, keyIndent: number, chomp: '' | '-' | '+') {
  let indent = -1;
  const content: string[] = [];
  let i = from;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      content.push('');
      continue;
    }
    const lead = line.length - line.trimStart().length;
    if (indent === -1) indent = lead;
    if (lead < indent || lead <= keyIndent) break;
    content.push(line.slice(indent));
  }
  let trailing = 0;
  while (content.length > 0 && content[content.length - 1] === '') {
    content.pop();
    trailing++;
  }
  // A kept block owns its trailing blank lines; the line that ends the block is not one of them.
  const body = content.join('\n');
  if (chomp === '-') return { text: body, next: i };
  if (chomp === '+') return { text: body + '\n' + '\n'.repeat(trailing), next: i };
  return { text: body === '' ? '' : body + '\n', next: i };
}

/** A flow scalar spanning lines: gather raw text up to the closing quote, then fold and unescape. */
function quoted(lines: string[], at: number, first: string, q: '"' | "'"): Scalar {
  const raw: string[] = [];
  let current = first.slice(1);
  let i = at;
  for (;;) {
    const close = findClose(current, q);
    if (close !== -1) {
      raw.push(current.slice(0, close));
      break;
    }
    raw.push(current);
    i++;
    if (i >= lines.length) throw new Error(`unterminated quoted scalar starting at line ${at + 1}`);
    current = lines[i] ?? '';
  }
  const folded = fold(raw, q);
  return textScalar(q === '"' ? unescapeDouble(folded) : folded.replace(/''/g, "'"), i + 1);
}

function findClose(s: string, q: '"' | "'"): number {
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (q === '"' && c === '\\') {
      k++;
      continue;
    }
    if (c === q) {
      if (q === "'" && s[k + 1] === "'") {
        k++;
        continue;
      }
      return k;
    }
  }
  return -1;
}

/**
 * YAML flow folding: a line break between non-empty lines is a space, each empty line is a
 * newline, and (double-quoted only) a backslash at the end of a line joins without a space.
 */
function fold(raw: string[], q: '"' | "'"): string {
  let out = raw[0] ?? '';
  let pendingBreaks = 0;
  for (let k = 1; k < raw.length; k++) {
    const line = (raw[k] ?? '').trim();
    if (line === '' && k < raw.length - 1) {
      pendingBreaks++;
      continue;
    }
    const escapedBreak = q === '"' && /(^|[^\\])(\\\\)*\\$/.test(out.trimEnd());
    if (escapedBreak) {
      out = out.trimEnd().slice(0, -1);
    } else {
      out = out.trimEnd() + (pendingBreaks > 0 ? '\n'.repeat(pendingBreaks) : ' ');
    }
    pendingBreaks = 0;
    out += line;
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

function unescapeDouble(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_m, esc: string) => {
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) return simple;
    if (esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
    throw new Error(`unknown YAML escape \\${esc}`);
  });
}
