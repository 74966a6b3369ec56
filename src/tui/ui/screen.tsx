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
import type { ActionMessage, ActionRunner } from '../hooks/use-action.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Form, type FieldSpec, type FormValues } from '../components/form.js';
import { FormError } from './parse.js';
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

export type ModalHandle<F extends string> = ReturnType<typeof useModal<F>>;

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

/** A form a screen wants shown for its open form modal. */
export interface FormConfig {
  title: string;
  fields: readonly FieldSpec[];
  onSubmit: (values: FormValues) => void;
}

export interface ManagedViewProps<R, F extends string> {
  readonly screen: ScreenProps;
  readonly rows: readonly R[];
  readonly columns: readonly Column<R>[];
  readonly rowKey: (row: R) => string;
  readonly empty: string;
  /** the screen's keys, shown while there is nothing else to say */
  readonly help: string;
  readonly selected: number;
  readonly modal: Modal<F> | null;
  readonly closeModal: () => void;
  readonly form: (form: F) => FormConfig;
  readonly action: ActionRunner;
  readonly loadError: string | null;
}

/** The body of a list screen: its table, or the open form, question or notice; then the message. */
export function ManagedView<R, F extends string>(props: ManagedViewProps<R, F>) {
  const { screen, modal, action } = props;
  let body: ReactNode;
  if (modal?.kind === 'form') {
    const f = props.form(modal.form);
    body = (
      <Form
        title={f.title}
        fields={f.fields}
        onSubmit={f.onSubmit}
        onCancel={props.closeModal}
        error={modal.error}
        busy={action.busy}
        width={screen.width}
        theme={screen.theme}
      />
    );
  } else if (modal) {
    body = <ModalView modal={modal} close={props.closeModal} theme={screen.theme} />;
  } else {
    body = (
      <DataTable
        columns={props.columns}
        rows={props.rows}
        width={screen.width}
        height={screen.height - 1}
        theme={screen.theme}
        selected={props.selected}
        rowKey={props.rowKey}
        empty={props.empty}
      />
    );
  }
  const message =
    action.message ?? (props.loadError ? { text: props.loadError, tone: 'bad' as const } : null);
  return (
    <ScreenFrame
      height={screen.height}
      footer={<MessageLine message={message} fallback={props.help} theme={screen.theme} />}
    >
      {body}
    </ScreenFrame>
  );
}

/** Submits a form's action; on refusal the form stays open with the reason below it. */
export function submitForm<F extends string>(
  modal: { set: (m: Modal<F> | null) => void },
  action: ActionRunner,
  form: F,
  label: string,
  build: () => () => Promise<string | ActionMessage>,
): void {
  let call: () => Promise<string | ActionMessage>;
  try {
    call = build();
  } catch (err) {
    if (err instanceof FormError) return modal.set({ kind: 'form', form, error: err.message });
    throw err;
  }
  void action.run(label, call).then((ok) => {
    modal.set(ok ? null : { kind: 'form', form, error: 'the daemon refused: see below' });
  });
}
