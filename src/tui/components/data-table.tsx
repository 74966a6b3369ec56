/**
 * A fixed-height table: aligned columns, one flexible column that takes the width left over, a
 * selection marker, and scrolling that keeps the selected row in view. Rows are plain strings per
 * cell (optionally coloured), so the table's height is exactly `height` lines whatever the data.
 */
import { Box, Text } from 'ink';
import type { Theme } from '../theme.js';
import { fit } from '../format.js';

export interface Column<R> {
  title: string;
  /** fixed width; omitted = flexible (shares what is left) */
  width?: number;
  align?: 'left' | 'right';
  value: (row: R) => string;
  color?: (row: R, theme: Theme) => string | undefined;
}

export interface DataTableProps<R> {
  readonly columns: readonly Column<R>[];
  readonly rows: readonly R[];
  readonly width: number;
  /** lines, header included */
  readonly height: number;
  readonly theme: Theme;
  readonly selected?: number | undefined;
  readonly empty?: string;
  readonly rowKey: (row: R) => string;
}

export function columnWidths<R>(columns: readonly Column<R>[], width: number): number[] {
  // one column of gutter for the selection marker, one space between columns
  const avail = width - 1 - (columns.length - 1);
  const fixed = columns.reduce((a, c) => a + (c.width ?? 0), 0);
  const flex = columns.filter((c) => c.width === undefined).length;
  const share = flex > 0 ? Math.max(4, Math.floor((avail - fixed) / flex)) : 0;
  return columns.map((c) => c.width ?? share);
}

export function DataTable<R>(props: DataTableProps<R>) {
  const { columns, rows, width, height, theme, selected } = props;
  const widths = columnWidths(columns, width);
  const visible = Math.max(0, height - 1);
  const sel = selected === undefined ? -1 : Math.min(selected, rows.length - 1);
  const offset = sel >= visible ? sel - visible + 1 : 0;
  const shown = rows.slice(offset, offset + visible);
  const header = columns.map((c, i) => fit(c.title, widths[i] ?? 0, c.align)).join(' ');
  const marker = theme.ascii ? '>' : '›';
  const blank = height - 1 - Math.max(shown.length, rows.length === 0 && props.empty ? 1 : 0);
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text bold>{fit(` ${header}`, width)}</Text>
      {rows.length === 0 && props.empty && visible > 0 ? (
        <Text color={theme.muted}>{fit(` ${props.empty}`, width)}</Text>
      ) : null}
      {shown.map((row, i) => {
        const isSel = offset + i === sel;
        return (
          <Text key={props.rowKey(row)} inverse={isSel && theme.color} wrap="truncate">
            {isSel ? marker : ' '}
            {columns.map((c, ci) => (
              <Text key={c.title} color={c.color?.(row, theme)}>
                {fit(c.value(row), widths[ci] ?? 0, c.align) + (ci < columns.length - 1 ? ' ' : '')}
              </Text>
            ))}
          </Text>
        );
      })}
      {blank > 0 ? <Box height={blank} /> : null}
    </Box>
  );
}
