/**
 * The bottom line of a screen: its keys, as `key action` pairs, cut to the width.
 */
import { Text } from 'ink';
import type { Theme } from '../theme.js';

export interface HelpLineProps {
  readonly keys: readonly (readonly [string, string])[];
  readonly width: number;
  readonly theme: Theme;
}

export function HelpLine({ keys, width, theme }: HelpLineProps) {
  const fits = fitKeys(keys, width);
  return (
    <Text wrap="truncate">
      {fits.map(([k, action], i) => (
        <Text key={k}>
          {i > 0 ? '  ' : ''}
          <Text bold color={theme.accent}>
            {k}
          </Text>
          <Text color={theme.muted}> {action}</Text>
        </Text>
      ))}
    </Text>
  );
}

/** The leading pairs that fit in `width` columns, so the line never wraps. */
export function fitKeys(
  keys: readonly (readonly [string, string])[],
  width: number,
): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  let used = 0;
  for (const pair of keys) {
    const w = (out.length > 0 ? 2 : 0) + pair[0].length + 1 + pair[1].length;
    if (used + w > width) break;
    used += w;
    out.push(pair);
  }
  return out;
}
