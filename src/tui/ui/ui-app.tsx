/**
 * `bc ui`: the management TUI. A tab bar (monitor, channels, keys, prices, logs, users) over the
 * current screen and a help line, sized to the terminal minus one line like `bc top`. The metrics
 * stream runs for the whole session so every tab can show live figures; while a screen has a form
 * or a question open, the app leaves every key to it (so typing `q` or `3` in a form is just text).
 */
import { useCallback, useRef, useState } from 'react';
import { Box, useApp, useInput } from 'ink';
import type { ManagementClient } from '../client.js';
import type { Theme } from '../theme.js';
import { HelpLine } from '../components/help-line.js';
import { Tabs } from '../components/tabs.js';
import type { FollowOptions } from '../hooks/follow-metrics.js';
import { useMetricsStream } from '../hooks/use-metrics-stream.js';
import { useTerminalSize, type TerminalSize } from '../hooks/use-terminal-size.js';
import { ChannelsScreen } from './channels-screen.js';
import { KeysScreen } from './keys-screen.js';
import { LogsScreen } from './logs-screen.js';
import { MonitorScreen } from './monitor-screen.js';
import { PricesScreen } from './prices-screen.js';
import { UsersScreen } from './users-screen.js';
import type { ScreenProps } from './screen.js';

// users came last so that the older tabs keep their digits
export const UI_TABS = ['monitor', 'channels', 'keys', 'prices', 'logs', 'users'] as const;
const SCREENS = [MonitorScreen, ChannelsScreen, KeysScreen, PricesScreen, LogsScreen, UsersScreen] as const;

export interface UiAppProps {
  readonly client: ManagementClient;
  readonly theme: Theme;
  readonly size?: Partial<TerminalSize>;
  readonly follow?: FollowOptions;
  readonly initialTab?: number;
}

export function UiApp(props: UiAppProps) {
  const { theme } = props;
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const stream = useMetricsStream(props.client, props.follow);
  const [tab, setTab] = useState(props.initialTab ?? 0);
  const captured = useRef(false);
  const onCapture = useCallback((c: boolean) => {
    captured.current = c;
  }, []);

  useInput((input, key) => {
    if (key.ctrl && input === 'c') return exit();
    if (captured.current) return;
    if (input === 'q') return exit();
    const n = UI_TABS.length;
    if (key.tab) {
      captured.current = false;
      return setTab((t) => (t + (key.shift ? n - 1 : 1)) % n);
    }
    const digit = Number(input);
    if (/^[1-9]$/.test(input) && digit <= n) setTab(digit - 1);
  });

  const width = size.columns;
  const height = Math.max(4, size.rows - 1);
  const Screen = SCREENS[tab] ?? MonitorScreen;
  const screenProps: ScreenProps = {
    client: props.client,
    snapshot: stream.snapshot,
    theme,
    width,
    height: height - 2,
    onCapture,
  };
  const dots = theme.ascii ? '...' : '…';
  const note =
    stream.connection === 'live'
      ? 'live'
      : stream.connection === 'connecting'
        ? `connecting${dots}`
        : `reconnecting${dots}`;
  const noteColor =
    stream.connection === 'live' ? theme.good : stream.connection === 'connecting' ? theme.warn : theme.bad;
  const keys: (readonly [string, string])[] = [
    ['q', 'quit'],
    [`Tab/1-${UI_TABS.length}`, 'switch tab'],
    [theme.ascii ? 'j/k' : '↑↓', 'select'],
  ];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Tabs tabs={UI_TABS} current={tab} note={note} noteColor={noteColor} width={width} theme={theme} />
      <Screen key={tab} {...screenProps} />
      <HelpLine keys={keys} width={width} theme={theme} />
    </Box>
  );
}
