/**
 * One titled line graph: a caption with the latest value and the scale, then the plotted rows.
 * Its height is exactly `height` lines (caption included).
 */
import { Box, Text } from 'ink';
import type { Theme } from '../theme.js';
import { plot } from '../graph.js';
import { fit } from '../format.js';

export interface LineGraphProps {
  readonly title: string;
  readonly values: readonly (number | null)[];
  /** formats the latest value and the scale */
  readonly format: (v: number) => string;
  /** extra text after the latest value, e.g. "in 1.2k out 3k" */
  readonly detail?: string;
  readonly width: number;
  readonly height: number;
  readonly theme: Theme;
  readonly color?: string | undefined;
}

export function LineGraph(props: LineGraphProps) {
  const { values, width, height, theme } = props;
  const rows = Math.max(1, height - 1);
  const p = plot(values, { width, height: rows, ascii: theme.ascii });
  let last: number | null = null;
  for (let i = values.length - 1; i >= 0 && last === null; i--) last = values[i] ?? null;
  const now = last === null ? '-' : props.format(last);
  const scale = `max ${props.format(p.max)}`;
  const left = `${props.title}  ${now}${props.detail ? `  ${props.detail}` : ''}`;
  const leftWidth = Math.max(0, width - scale.length - 1);
  return (
    <Box flexDirection="column" height={height}>
      <Text wrap="truncate">
        <Text bold>{fit(left, leftWidth)}</Text>
        <Text color={theme.muted}> {scale}</Text>
      </Text>
      {p.lines.map((line, i) => (
        <Text key={i} color={props.color}>
          {line}
        </Text>
      ))}
    </Box>
  );
}
