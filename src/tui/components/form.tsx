/**
 * A small keyboard form for the management screens: labelled fields (text, secret, or a choice
 * cycled with left/right), Enter to move on and to submit from the last field, Tab and arrows to
 * move, Esc to cancel. It keeps only what is being typed; the screen converts and validates the
 * values on submit and passes back an error to show.
 */
import { useRef, useState } from 'react';
import { Box, Text, useInput, type Key } from 'ink';
import type { Theme } from '../theme.js';
import { fit } from '../format.js';
import { splitEnters } from './split-input.js';

export interface FieldSpec {
  name: string;
  label: string;
  kind?: 'text' | 'secret' | 'choice';
  choices?: readonly string[];
  initial?: string;
  hint?: string;
}

export type FormValues = Record<string, string>;

export interface FormProps {
  readonly title: string;
  readonly fields: readonly FieldSpec[];
  readonly onSubmit: (values: FormValues) => void;
  readonly onCancel: () => void;
  readonly error?: string | null | undefined;
  readonly busy?: boolean | undefined;
  readonly width: number;
  readonly theme: Theme;
}

function initialValues(fields: readonly FieldSpec[]): FormValues {
  const v: FormValues = {};
  for (const f of fields) v[f.name] = f.initial ?? (f.kind === 'choice' ? (f.choices?.[0] ?? '') : '');
  return v;
}

function cycle(f: FieldSpec, value: string, delta: number): string {
  const choices = f.choices ?? [];
  const i = choices.indexOf(value);
  return choices[(i + delta + choices.length) % choices.length] ?? value;
}

type FormStep =
  | { type: 'cancel' }
  | { type: 'submit' }
  | { type: 'move'; delta: number }
  | { type: 'edit'; fn: (v: string) => string };

/** What a key does to the form, given the focused field. */
export function formStep(field: FieldSpec, isLast: boolean, input: string, key: Key): FormStep | null {
  if (key.escape) return { type: 'cancel' };
  if (key.return) return isLast ? { type: 'submit' } : { type: 'move', delta: 1 };
  if (key.upArrow || (key.tab && key.shift)) return { type: 'move', delta: -1 };
  if (key.downArrow || key.tab) return { type: 'move', delta: 1 };
  if (field.kind === 'choice') {
    if (key.leftArrow) return { type: 'edit', fn: (v) => cycle(field, v, -1) };
    if (key.rightArrow || input === ' ') return { type: 'edit', fn: (v) => cycle(field, v, 1) };
    return null;
  }
  if (key.backspace || key.delete) return { type: 'edit', fn: (v) => v.slice(0, -1) };
  if (key.ctrl || key.meta) return null;
  // a paste arrives as one chunk; keep only printable characters
  const printable = [...input].filter((c) => c >= ' ' && c !== '\x7f').join('');
  return printable ? { type: 'edit', fn: (v) => v + printable } : null;
}

function FieldRow(props: {
  field: FieldSpec;
  value: string;
  focused: boolean;
  labelWidth: number;
  theme: Theme;
}) {
  const { field: f, value, focused, theme } = props;
  const shown = f.kind === 'secret' ? '*'.repeat(value.length) : f.kind === 'choice' ? `< ${value} >` : value;
  return (
    <Text wrap="truncate">
      <Text bold={focused}>{focused ? (theme.ascii ? '> ' : '› ') : '  '}</Text>
      <Text color={theme.muted}>{fit(f.label, props.labelWidth)} </Text>
      <Text>{shown}</Text>
      {focused && f.kind !== 'choice' ? <Text inverse> </Text> : null}
      {f.hint ? <Text color={theme.muted}> {f.hint}</Text> : null}
    </Text>
  );
}

export function Form(props: FormProps) {
  const { fields, theme } = props;
  const [values, setValues] = useState(() => initialValues(fields));
  const [focus, setFocus] = useState(0);
  // keystrokes can arrive faster than renders: the handler reads and writes the newest state here
  const latest = useRef({ values, focus, props });
  latest.current = { values, focus, props };

  const handle = (input: string, key: Key): void => {
    const now = latest.current;
    const field = fields[now.focus];
    const step = field ? formStep(field, now.focus === fields.length - 1, input, key) : null;
    if (!field || !step) return;
    if (step.type === 'cancel') return now.props.onCancel();
    if (step.type === 'submit') return now.props.onSubmit(now.values);
    if (step.type === 'move') {
      const next = Math.max(0, Math.min(fields.length - 1, now.focus + step.delta));
      latest.current = { ...now, focus: next };
      return setFocus(next);
    }
    const next = { ...now.values, [field.name]: step.fn(now.values[field.name] ?? '') };
    latest.current = { ...now, values: next };
    setValues(next);
  };
  useInput(
    (input, key) => {
      for (const [part, k] of splitEnters(input, key)) handle(part, k);
    },
    { isActive: !props.busy },
  );

  const labelWidth = Math.min(18, Math.max(...fields.map((f) => f.label.length)) + 1);
  return (
    <Box flexDirection="column" width={props.width}>
      <Text bold color={theme.accent}>
        {props.title}
      </Text>
      {fields.map((f, i) => (
        <FieldRow
          key={f.name}
          field={f}
          value={values[f.name] ?? ''}
          focused={i === focus}
          labelWidth={labelWidth}
          theme={theme}
        />
      ))}
      {props.error ? <Text color={theme.bad}>{props.error}</Text> : null}
      <Text color={theme.muted}>
        {props.busy ? 'working…' : 'Enter next/submit  Tab/arrows move  ←→ choose  Esc cancel'}
      </Text>
    </Box>
  );
}
