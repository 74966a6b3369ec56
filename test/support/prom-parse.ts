/**
 * A small, strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on
 * anything a real scraper would reject or that hides a bug (bad names, bad escapes, a sample
 * before its TYPE, a family split in two, duplicate series, non-cumulative histogram buckets, a
 * +Inf bucket that disagrees with _count), and gives the samples back for counting.
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: PromType;
  help: string;
  samples: PromSample[];
}

export interface PromText {
  families: Map<string, PromFamily>;
  /** the sum of every sample called `name` whose labels include `match` */
  sum(name: string, match?: Record<string, string>): number;
  /** samples called `name` whose labels include `match` */
  find(name: string, match?: Record<string, string>): PromSample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<PromType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(lineNo: number, msg: string): never {
  throw new Error(`prometheus text line ${lineNo}: ${msg}`);
}

function parseValue(s: string, lineNo: number): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) fail(lineNo, `bad value "${s}"`);
  return Number(s);
}

/** Reads `{a="x",b="y"}` starting at `i` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, i: number, lineNo: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) fail(lineNo, 'label without =');
    const name = line.slice(i, eq);
    if (!LABEL.test(name)) fail(lineNo, `bad label name "${name}"`);
    if (name in labels) fail(lineNo, `duplicate label "${name}"`);
    if (line[eq + 1] !== '"') fail(lineNo, 'label value must be quoted');
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = line[j];
      if (c === undefined) fail(lineNo, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const e = line[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else fail(lineNo, `bad escape \\${e ?? ''}`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail(lineNo, 'expected , or } after a label');
  }
  return [labels, i + 1];
}

function familyOf(sample: string, families: Map<string, PromFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const f = families.get(base);
    if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
  }
  return sample;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, PromSample[]>();
  for (const s of f.samples) {
    if (!s.name.endsWith('_bucket')) continue;
    if (!('le' in s.labels)) throw new Error(`${f.name}: bucket without le`);
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, buckets] of groups) {
    let prev = -Infinity;
    let prevLe = -Infinity;
    for (const b of buckets) {
      const le = parseValue(b.labels.le ?? '', 0);
      if (le <= prevLe) throw new Error(`${f.name}${key}: le not increasing`);
      if (b.value < prev) throw new Error(`${f.name}${key}: buckets not cumulative`);
      prev = b.value;
      prevLe = le;
    }
    if (prevLe !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    const labels = JSON.parse(key) as Record<string, string>;
    const count = f.samples.find((s) => s.name === `${f.name}_count` && sameLabels(s.labels, labels));
    if (!count || count.value !== prev) throw new Error(`${f.name}${key}: _count disagrees with +Inf bucket`);
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function includes(labels: Record<string, string>, match: Record<string, string>): boolean {
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

export function parsePrometheus(text: string): PromText {
  if (!text.endsWith('\n')) throw new Error('prometheus text must end with a newline');
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, idx) => {
    const lineNo = idx + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return;
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC.test(name)) fail(lineNo, `bad metric name "${name}"`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest as PromType)) fail(lineNo, `bad type "${rest}"`);
        const f = families.get(name);
        if (f?.samples.length) fail(lineNo, `TYPE of ${name} after its samples`);
        if (f && f.type !== 'untyped') fail(lineNo, `second TYPE for ${name}`);
        families.set(name, { name, type: rest as PromType, help: f?.help ?? '', samples: [] });
      } else {
        const f = families.get(name);
        if (f) f.help = rest;
        else families.set(name, { name, type: 'untyped', help: rest, samples: [] });
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(lineNo, 'sample without a value');
    const name = line.slice(0, nameEnd);
    if (!METRIC.test(name)) fail(lineNo, `bad metric name "${name}"`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, lineNo);
    if (line[i] !== ' ') fail(lineNo, 'expected a space before the value');
    const parts = line.slice(i + 1).split(' ');
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') fail(lineNo, 'expected value [timestamp]');
    const value = parseValue(parts[0] ?? '', lineNo);
    const fam = familyOf(name, families);
    if (fam !== current) {
      if (current !== null) closed.add(current);
      if (closed.has(fam)) fail(lineNo, `samples of ${fam} are not contiguous`);
      current = fam;
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) fail(lineNo, `duplicate series ${id}`);
    seen.add(id);
    let f = families.get(fam);
    if (!f) {
      f = { name: fam, type: 'untyped', help: '', samples: [] };
      families.set(fam, f);
    }
    if (f.type === 'counter' && !(value >= 0)) fail(lineNo, `counter ${name} is ${value}`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  const find = (name: string, match: Record<string, string> = {}): PromSample[] => {
    const f = families.get(familyOf(name, families));
    return (f?.samples ?? []).filter((s) => s.name === name && includes(s.labels, match));
  };
  return {
    families,
    find,
    sum: (name, match) => find(name, match).reduce((acc, s) => acc + s.value, 0),
  };
}
