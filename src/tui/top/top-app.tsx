/**
 * `bc top`: the live monitor. A status line (connection, window, sort, filter, pause), the
 * dashboard, and a help line, sized to the terminal minus one line so Ink can redraw in place
 * without clearing the screen. Data comes from useMetricsStream, which reconnects by itself; a
 * pause freezes what is shown while the stream keeps running underneath.
 */
import { useReducer, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, type Key } from 'ink';
import type { MetricsSnapshot } from '../../shared/metrics-types.js';
import type { MetricsSource, UserBalanceSource } from '../client.js';
import type { Theme } from '../theme.js';
import { HelpLine } from '../components/help-line.js';
import { splitEnters } from '../components/split-input.js';
import { fit, fmtSpan } from '../format.js';
import { useMetricsStream, type MetricsStreamState } from '../hooks/use-metrics-stream.js';
import type { FollowOptions } from '../hooks/follow-metrics.js';
import { useTerminalSize, type TerminalSize } from '../hooks/use-terminal-size.js';
import { useUserBalances } from '../hooks/use-user-balances.js';
import { viewRows } from './columns.js';
import { scopeLabel } from './scope.js';
import { Dashboard, Waiting } from './dashboard.js';
import { INITIAL_TOP_STATE, reduceTop, topKeys, topActionForKey, type TopState } from './top-state.js';

export interface TopAppProps {
  /** `users` (the real client has it) gives the users view its balances */
  readonly client: MetricsSource & Partial<UserBalanceSource>;
  readonly theme: Theme;
  /** fixes the size instead of reading the terminal (tests) */
  readonly size?: Partial<TerminalSize>;
  readonly follow?: FollowOptions;
}

function rowCount(s: MetricsSnapshot | null, state: TopState): number {
  if (!s) return 0;
  const rows = viewRows(s, state.view);
  const f = state.filter.toLowerCase();
  return f ? rows.filter((r) => r.name.toLowerCase().includes(f)).length : rows.length;
}

function connectionText(stream: MetricsStreamState, theme: Theme): [string, string | undefined] {
  const dots = theme.ascii ? '...' : '…';
  if (stream.connection === 'live') return ['live', theme.good];
  if (stream.connection === 'connecting') return [`connecting${dots}`, theme.warn];
  return [`reconnecting${dots}`, theme.bad];
}

function StatusLine(props: {
  stream: MetricsStreamState;
  state: TopState;
  shown: MetricsSnapshot | null;
  width: number;
  theme: Theme;
}) {
  const { stream, state, theme } = props;
  const [conn, connColor] = connectionText(stream, theme);
  const scope = scopeLabel(props.shown);
  const scopeText = scope ? `  ${scope.text}` : '';
  const sort = `sort ${state.sort}${state.descending ? '-' : '+'}`;
  const parts = [`window ${fmtSpan(state.windowS)}`, sort, state.view];
  if (state.filter) parts.push(`filter "${state.filter}"`);
  const time = props.shown ? new Date(props.shown.time).toTimeString().slice(0, 8) : '';
  const left = `  ${parts.join('  ')}${state.paused ? '  PAUSED' : ''}`;
  const room = Math.max(0, props.width - 'bc top '.length - conn.length - scopeText.length - time.length - 1);
  return (
    <Text wrap="truncate">
      <Text bold color={theme.accent}>
        bc top{' '}
      </Text>
      <Text color={connColor}>{conn}</Text>
      {scope ? (
        <Text bold color={scope.warn ? theme.warn : theme.accent}>
          {scopeText}
        </Text>
      ) : null}
      <Text bold={state.paused}>{fit(left, room)}</Text>
      <Text color={theme.muted}> {time}</Text>
    </Text>
  );
}

function HelpScreen(props: { height: number; theme: Theme }) {
  const lines: [string, string][] = [
    ['q, Ctrl-C', 'quit'],
    ['1-5, Tab', 'overview, channels, models, keys, users'],
    ['w', 'graph window: 1, 5 or 15 minutes'],
    ['s / r', 'sort by rpm, errors, p50, in-flight, name / reverse'],
    ['/', 'filter rows by name (Enter applies, Esc clears)'],
    ['p, space', 'pause or resume the display'],
    ['up/down, j/k', 'move the selection'],
    ['?, Esc', 'close this help'],
  ];
  return (
    <Box flexDirection="column" height={props.height}>
      {lines.map(([k, v]) => (
        <Text key={k}>
          <Text bold color={props.theme.accent}>
            {fit(k, 14)}
          </Text>
          {v}
        </Text>
      ))}
    </Box>
  );
}

export function TopApp(props: TopAppProps) {
  const { theme } = props;
  const { exit } = useApp();
  const size = useTerminalSize(props.size);
  const stream = useMetricsStream(props.client, props.follow);
  const [state, dispatch] = useReducer(reduceTop, INITIAL_TOP_STATE);
  const [frozen, setFrozen] = useState<MetricsSnapshot | null>(null);
  const shown = state.paused ? (frozen ?? stream.snapshot) : stream.snapshot;
  const balances = useUserBalances(props.client, state.view === 'users');

  // Ink may call a handler registered before the latest render: read the newest values from a ref
  const latest = useRef({ state, shown, live: stream.snapshot });
  latest.current = { state, shown, live: stream.snapshot };
  useInput((input, key) => {
    for (const [part, k] of splitEnters(input, key)) onKey(part, k);
  });
  function onKey(input: string, key: Key): void {
    const now = latest.current;
    const action = topActionForKey(input, key, now.state);
    if (!action) return;
    if (action.type === 'quit') return exit();
    if (action.type === 'pause') setFrozen(now.state.paused ? null : now.live);
    if (action.type === 'move')
      return dispatch({ ...action, max: Math.max(0, rowCount(now.shown, now.state) - 1) });
    dispatch(action);
  }

  const width = size.columns;
  const height = Math.max(3, size.rows - 1);
  const body = height - 2;
  const waiting =
    stream.connection === 'reconnecting'
      ? `the daemon is not answering (${stream.reason ?? ''}); retrying`
      : 'waiting for the daemon';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <StatusLine stream={stream} state={state} shown={shown} width={width} theme={theme} />
      {state.help ? (
        <HelpScreen height={body} theme={theme} />
      ) : shown ? (
        <Dashboard
          snapshot={shown}
          state={state}
          width={width}
          height={body}
          theme={theme}
          balances={balances}
        />
      ) : (
        <Waiting height={body} text={waiting} theme={theme} />
      )}
      {state.draft !== null ? (
        <Text wrap="truncate">
          <Text bold>filter: </Text>
          {state.draft}
          <Text inverse> </Text>
        </Text>
      ) : (
        <HelpLine keys={topKeys(theme.ascii)} width={width} theme={theme} />
      )}
    </Box>
  );
}
