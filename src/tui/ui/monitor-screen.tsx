/**
 * The monitor tab of `bc ui`: the same dashboard as `bc top`, with its window, view and sort keys
 * (digits belong to the tab bar here, so `v` cycles the view).
 */
import { useReducer, useRef } from 'react';
import { Text, useInput } from 'ink';
import { useUserBalances } from '../hooks/use-user-balances.js';
import { viewRows } from '../top/columns.js';
import { Dashboard } from '../top/dashboard.js';
import { INITIAL_TOP_STATE, reduceTop } from '../top/top-state.js';
import { ScreenFrame, type ScreenProps } from './screen.js';

export function MonitorScreen(props: ScreenProps) {
  const [state, dispatch] = useReducer(reduceTop, INITIAL_TOP_STATE);
  const count = useRef(0);
  const balances = useUserBalances(props.client, state.view === 'users');
  const s = props.snapshot;
  count.current = s ? viewRows(s, state.view).length : 0;
  useInput((input, key) => {
    if (input === 'w') dispatch({ type: 'cycleWindow' });
    else if (input === 'v') dispatch({ type: 'cycleView', delta: 1 });
    else if (input === 's') dispatch({ type: 'cycleSort' });
    else if (input === 'r') dispatch({ type: 'reverse' });
    else if (key.upArrow || input === 'k')
      dispatch({ type: 'move', delta: -1, max: Math.max(0, count.current - 1) });
    else if (key.downArrow || input === 'j')
      dispatch({ type: 'move', delta: 1, max: Math.max(0, count.current - 1) });
  });
  if (!s) {
    return (
      <Text color={props.theme.muted} wrap="truncate">
        waiting for the daemon's metrics…
      </Text>
    );
  }
  const footer = (
    <Text color={props.theme.muted} wrap="truncate">
      w window v view s sort r reverse
    </Text>
  );
  return (
    <ScreenFrame height={props.height} footer={footer}>
      <Dashboard
        snapshot={s}
        state={state}
        width={props.width}
        height={props.height - 1}
        theme={props.theme}
        balances={balances}
      />
    </ScreenFrame>
  );
}
