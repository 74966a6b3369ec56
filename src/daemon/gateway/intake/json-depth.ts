/**
 * A cap on how deeply a request body may nest. JSON.parse takes any depth, but what comes after
 * it walks bodies recursively (token counting serialises tool schemas, the codecs convert them, an
 * alias rewrite serialises the body again), and a schema nested thousands of levels deep would
 * overflow the stack there: a 500 for a bad request. The cap sits far above anything a real
 * request nests (a tool schema 100 levels deep is about 200 JSON levels) and far below where
 * Node's stack gives out, and the 400 names the field. The check is one iterative walk over the
 * body's objects and arrays (strings are not looked into); the path is only worked out on refusal.
 */
import { BcError } from '../../../shared/errors.js';

export const MAX_JSON_DEPTH = 256;

/** Throws a 400 naming the field when `root` nests deeper than `max` levels (root = level 1). */
export function checkJsonDepth(root: object, max: number = MAX_JSON_DEPTH): void {
  if (depthWithin(root, max)) return;
  const path = deepPath(root, max);
  throw new BcError(
    'INVALID_REQUEST',
    `${path.text}: nested more than ${max} levels deep; the gateway accepts up to ${max}`,
    { param: path.field },
  );
}

function depthWithin(root: object, max: number): boolean {
  const values: object[] = [root];
  const depths: number[] = [1];
  for (;;) {
    const v = values.pop();
    const d = depths.pop();
    if (v === undefined || d === undefined) return true;
    if (d > max) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const child: unknown = v[i];
        if (child !== null && typeof child === 'object') {
          values.push(child);
          depths.push(d + 1);
        }
      }
      continue;
    }
    // for...in over a parsed object: own enumerable keys only, and no array allocated per object
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const child = o[k];
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(d + 1);
      }
    }
  }
}

/** Shown segments of a deep path; the rest is elided. */
const SHOWN_SEGMENTS = 6;

/** The path to the first value below `max` levels, e.g. `tools[0].function.parameters.properties…`. */
function deepPath(root: object, max: number): { text: string; field: string } {
  const stack: { value: object; path: string[] }[] = [{ value: root, path: [] }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.path.length >= max) {
      const shown = top.path.slice(0, SHOWN_SEGMENTS).join('').replace(/^\./, '');
      return { text: top.path.length > SHOWN_SEGMENTS ? `${shown}…` : shown, field: fieldOf(top.path) };
    }
    const entries = Array.isArray(top.value)
      ? top.value.map((v, i) => [`[${i}]`, v] as const)
      : Object.entries(top.value).map(([k, v]) => [`.${k}`, v] as const);
    for (const [seg, v] of entries) {
      if (v !== null && typeof v === 'object') stack.push({ value: v as object, path: [...top.path, seg] });
    }
  }
  return { text: 'body', field: 'body' };
}

function fieldOf(path: string[]): string {
  const first = path[0] ?? '.body';
  return first.startsWith('.') ? first.slice(1) : first;
}
