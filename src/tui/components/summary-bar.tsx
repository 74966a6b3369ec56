/**
 * The header of `bc top`: labelled figures laid out left to right and wrapped onto as many lines
 * as the width needs. The wrapping is computed here (not left to flexbox) so that callers know the
 * header's height in advance and can budget the rest of the screen.
 */
import { Box, Text } from 'ink';
import type { Theme } from '../theme.js';

export interface Figure {
  label: string;
  value: string;
  tone?: 'good' | 'warn' | 'bad' | undefined;
}

/** Greedy wrap of the figures (two spaces apart) into lines no wider than `width`. */
export function wrapFigures(figures: readonly Figure[], width: number): Figure[][] {
  const lines: Figure[][] = [];
  let line: Figure[] = [];
  let used = 0;
  for (const f of figures) {
    const w = f.label.length + 1 + f.value.length;
    if (line.length > 0 && used + 2 + w > width) {
      lines.push(line);
      line = [];
      used = 0;
    }
    used += (line.length > 0 ? 2 : 0) + w;
    line.push(f);
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

export interface SummaryBarProps {
  readonly figures: readonly Figure[];
  readonly width: number;
  readonly theme: Theme;
}

export function SummaryBar({ figures, width, theme }: SummaryBarProps) {
  return (
    <Box flexDirection="column">
      {wrapFigures(figures, width).map((line, i) => (
        <Text key={i} wrap="truncate">
          {line.map((f, j) => (
            <Text key={f.label}>
              {j > 0 ? '  ' : ''}
              <Text color={theme.muted}>{f.label} </Text>
              <Text bold color={f.tone ? theme[f.tone] : undefined}>
                {f.value}
              </Text>
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
