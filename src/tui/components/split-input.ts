/**
 * A chunk of typed input can carry Enter presses along with text: a paste, or keys that arrive
 * faster than one read (as over SSH). Ink hands such a chunk over whole, so forms split it into
 * text runs and separate Enter presses before handling it.
 */
import type { Key } from 'ink';

export function splitEnters(input: string, key: Key): [string, Key][] {
  if (input.length <= 1 || !/[\r\n]/.test(input)) return [[input, key]];
  const out: [string, Key][] = [];
  for (const part of input.split(/(\r\n|\r|\n)/)) {
    if (part === '') continue;
    if (/^(\r\n|\r|\n)$/.test(part)) out.push(['', { ...key, return: true }]);
    else out.push([part, key]);
  }
  return out;
}
