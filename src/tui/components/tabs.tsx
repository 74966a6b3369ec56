/**
 * The tab bar of `bc ui`: every tab's number and name, the current one highlighted (bracketed
 * when there is no colour), and a right-aligned note such as the connection state.
 */
import { Text } from 'ink';
import type { Theme } from '../theme.js';

export interface TabsProps {
  readonly tabs: readonly string[];
  readonly current: number;
  readonly note: string;
  readonly noteColor?: string | undefined;
  readonly width: number;
  readonly theme: Theme;
}

export function Tabs(props: TabsProps) {
  const { tabs, current, theme } = props;
  const labels = tabs.map((t, i) => (i === current ? `[${i + 1} ${t}]` : ` ${i + 1} ${t} `));
  const used = 'bc ui '.length + labels.join('').length;
  const pad = Math.max(1, props.width - used - props.note.length);
  return (
    <Text wrap="truncate">
      <Text bold color={theme.accent}>
        bc ui{' '}
      </Text>
      {labels.map((l, i) => (
        <Text key={l} bold={i === current} inverse={i === current && theme.color}>
          {l}
        </Text>
      ))}
      {' '.repeat(pad)}
      <Text color={props.noteColor}>{props.note}</Text>
    </Text>
  );
}
