/**
 * What every management screen of `bc ui` shares: its props, the modal it may open (a form, a
 * question, a notice), list selection, and the frame that gives the screen exactly its height
 * (table or modal, then a one-line message with the outcome of the last action).
 */
import { useCallback, useRef, useState, type ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { MetricsSnapshot } from '../../shared/metrics-types.js';
import type { ManagementClient } from '../client.js';
import type { Theme } from '../theme.js';
import type { ActionMessage } from '../hooks/use-action.js';
import { Confirm } from '../components/confirm.js';

export interface ScreenProps {
  readonly client: ManagementClient;
  readonly snapshot: MetricsSnapshot | null;
  readonly theme: Theme;
  readonly width: number;
  readonly height: number;
  /** tells the app to leave keys alone while a form or a question is open */
  readonly onCapture: (captured: boolean) => void;
}

export type Modal<F extends string> =
  | { kind: 'form'; form: F; error: string | null }
  | { kind: 'confirm'; question: string; yes: () => void }
  | { kind: 'notice'; title: string; lines: string[] };

/** Modal state that keeps the app informed synchronously (no effect, so no missed keystroke). */
export function useModal<F extends string>(onCapture: (c: boolean) => void) {
  const [modal, setModal] = useState<Modal<F> | null>(null);
  const ref = useRef(modal);
  const set = useCallback(
    (m: Modal<F> | null) => {
      ref.current = m;
      setModal(m);
      // release only after every handler has seen the key that closed the modal, so that key
      // (say `q` answering a question) cannot also reach the app and quit
      if (m) onCapture(true);
      else queueMicrotask(() => onCapture(ref.current !== null));
    },
    [onCapture],
  );
  return { modal, ref, set };
}

/** A selection index kept inside the list, readable from key handlers through a ref. */
export function useSelection(count: number) {
  const [selected, setSelected] = useState(0);
  const clamped = Math.max(0, Math.min(selected, count - 1));
  const ref = useRef(clamped);
  ref.current = clamped;
  const move = useCallback(
    (delta: number) => {
      const next = Math.max(0, Math.min(count - 1, ref.current + delta));
      ref.current = next;
      setSelected(next);
    },
    [count],
  );
  return { selected: clamped, ref, move };
}

export function MessageLine(props: { message: ActionMessage | null; fallback: string; theme: Theme }) {
  const m = props.message;
  const color = m
    ? m.tone === 'good'
      ? props.theme.good
      : m.tone === 'bad'
        ? props.theme.bad
        : props.theme.muted
    : props.theme.muted;
  return (
    <Text color={color} wrap="truncate">
      {m ? m.text : props.fallback}
    </Text>
  );
}

export function ScreenFrame(props: { height: number; children: ReactNode; footer: ReactNode }) {
  return (
    <Box flexDirection="column" height={props.height}>
      <Box flexDirection="column" height={Math.max(0, props.height - 1)} overflow="hidden">
        {props.children}
      </Box>
      {props.footer}
    </Box>
  );
}

export function Notice(props: { title: string; lines: string[]; theme: Theme }) {
  return (
    <Box flexDirection="column">
      <Text bold color={props.theme.accent}>
        {props.title}
      </Text>
      {props.lines.map((l, i) => (
        <Text key={i}>{l}</Text>
      ))}
      <Text color={props.theme.muted}>press Enter or Esc to close</Text>
    </Box>
  );
}

/** Renders a question or a notice (forms are the screen's own). */
export function ModalView<F extends string>(props: { modal: Modal<F>; close: () => void; theme: Theme }) {
  const m = props.modal;
  if (m.kind === 'notice') return <Notice title={m.title} lines={m.lines} theme={props.theme} />;
  if (m.kind === 'confirm') {
    return (
      <Confirm
        question={m.question}
        onYes={() => {
          props.close();
          m.yes();
        }}
        onNo={props.close}
        theme={props.theme}
      />
    );
  }
  return null;
}
