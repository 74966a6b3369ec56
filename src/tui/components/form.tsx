/**
 * A small keyboard form for the management screens: labelled fields (text, secret, or a choice
 * cycled with left/right), Enter to move on and to submit from the last field, Tab and arrows to
 * move, Esc to cancel. It keeps only what is being typed; the screen converts and validates the
 * values on submit and passes back an error to show.
 */
import { useRef, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { Theme } from '../theme.js';
import { fit } from '../format.js';

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

export function Form(props: FormProps) {
  const { fields, theme } = props;
  const [values, setValues] = useState(() => initialValues(fields));
  const [focus, setFocus] = useState(0);
  // keystrokes can arrive faster than renders: keep the newest values for the handler
  const latest = useRef({ values, focus });
  latest.current = { values, focus };
  const propsRef = useRef(props);
  propsRef.current = props;

  const update = (name: string, fn: (v: string) => string) => {
    const next = { ...latest.current.values, [name]: fn(latest.current.values[name] ?? '') };
    latest.current = { ...latest.current, values: next };
    setValues(next);
  };
  const move = (delta: number) => {
    const next = Math.max(0, Math.min(fields.length - 1, latest.current.focus + delta));
    latest.current = { ...latest.current, focus: next };
    setFocus(next);
  };

  useInput(
    (input, key) => {
      const field = fields[latest.current.focus];
      if (!field) return;
      if (key.escape) return propsRef.current.onCancel();
      if (key.return) {
        if (latest.current.focus === fields.length - 1)
          return propsRef.current.onSubmit(latest.current.values);
        return move(1);
      }
      if (key.upArrow || (key.tab && key.shift)) return move(-1);
      if (key.downArrow || key.tab) return move(1);
      if (field.kind === 'choice') {
        if (key.leftArrow) update(field.name, (v) => cycle(field, v, -1));
        if (key.rightArrow || input === ' ') update(field.name, (v) => cycle(field, v, 1));
        return;
      }
      if (key.backspace || key.delete) return update(field.name, (v) => v.slice(0, -1));
      if (key.ctrl || key.meta) return;
      const printable = [...input].filter((c) => c >= ' ' && c !== '\x7f').join('');
      if (printable) update(field.name, (v) => v + printable);
    },
    { isActive: !props.busy },
  );

  const labelWidth = Math.min(18, Math.max(...fields.map((f) => f.label.length)) + 1);
  return (
    <Box flexDirection="column" width={props.width}>
      <Text bold color={theme.accent}>
        {props.title}
      </Text>
      {fields.map((f, i) => {
        const value = values[f.name] ?? '';
        const shown =
          f.kind === 'secret' ? '*'.repeat(value.length) : f.kind === 'choice' ? `< ${value} >` : value;
        const focused = i === focus;
        return (
          <Text key={f.name} wrap="truncate">
            <Text bold={focused}>{focused ? (theme.ascii ? '> ' : '› ') : '  '}</Text>
            <Text color={theme.muted}>{fit(f.label, labelWidth)} </Text>
            <Text>{shown}</Text>
            {focused && f.kind !== 'choice' ? <Text inverse> </Text> : null}
            {f.hint ? <Text color={theme.muted}> {f.hint}</Text> : null}
          </Text>
        );
      })}
      {props.error ? <Text color={theme.bad}>{props.error}</Text> : null}
      <Text color={theme.muted}>
        {props.busy ? 'working…' : 'Enter next/submit  Tab/arrows move  ←→ choose  Esc cancel'}
      </Text>
    </Box>
  );
}
