/**
 * `bc top --once --json` output: indented like every other `--json` document, except that arrays
 * of plain numbers (the 900-second series) stay on one line each, so the document is a screenful
 * of structure rather than thousands of one-number lines. It parses back to the same value.
 */

function isFlat(v: unknown[]): boolean {
  return v.every((x) => x === null || typeof x === 'number' || typeof x === 'boolean');
}

function write(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (isFlat(v)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + write(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function toCompactJson(v: unknown): string {
  return write(v, '');
}
