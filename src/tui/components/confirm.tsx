/**
 * Asks before a destructive action: `y` goes ahead, anything else (`n`, Esc, Enter) backs out, so
 * a stray key can never delete or revoke.
 */
import { useRef } from 'react';
import { Box, Text, useInput } from 'ink';
import type { Theme } from '../theme.js';

export interface ConfirmProps {
  readonly question: string;
  readonly onYes: () => void;
  readonly onNo: () => void;
  readonly theme: Theme;
}

export function Confirm(props: ConfirmProps) {
  // Ink may call a handler from an earlier render: read the newest props through a ref
  const ref = useRef(props);
  ref.current = props;
  useInput((input, key) => {
    if (input === 'y' || input === 'Y') ref.current.onYes();
    else if (input || key.escape || key.return) ref.current.onNo();
  });
  return (
    <Box flexDirection="column">
      <Text bold color={props.theme.warn}>
        {props.question}
      </Text>
      <Text color={props.theme.muted}>y to confirm, any other key to cancel</Text>
    </Box>
  );
}
