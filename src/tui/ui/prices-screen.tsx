/**
 * The prices tab of `bc ui`: the price table (USD per 1M tokens; `user` rows override the
 * shipped defaults) with set, edit and remove (asks first), as `bc price` does.
 */
import { useCallback, useRef } from 'react';
import { useInput } from 'ink';
import type { PriceInput, PriceView } from '../../shared/control-api.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Form, type FieldSpec, type FormValues } from '../components/form.js';
import { fmtMoney } from '../format.js';
import { useAction } from '../hooks/use-action.js';
import { useResource } from '../hooks/use-resource.js';
import { FormError, optionalUsd, required, requiredUsd, usdText } from './parse.js';
import { MessageLine, ModalView, ScreenFrame, useModal, useSelection, type ScreenProps } from './screen.js';

const money = (v: number | null) => (v === null ? '-' : fmtMoney(v));

const COLUMNS: readonly Column<PriceView>[] = [
  { title: 'MODEL', value: (p) => p.model },
  { title: 'INPUT', width: 8, align: 'right', value: (p) => money(p.input) },
  { title: 'OUTPUT', width: 8, align: 'right', value: (p) => money(p.output) },
  { title: 'CACHE R', width: 8, align: 'right', value: (p) => money(p.cache_read) },
  { title: 'CACHE W', width: 8, align: 'right', value: (p) => money(p.cache_write) },
  { title: 'SOURCE', width: 7, value: (p) => p.source },
];

function priceFields(p: PriceView | null): FieldSpec[] {
  const usd = (v: number | null | undefined) => usdText(v ?? null);
  return [
    { name: 'model', label: 'model', initial: p?.model ?? '' },
    { name: 'input', label: 'input USD/1M', initial: usd(p?.input) },
    { name: 'output', label: 'output USD/1M', initial: usd(p?.output) },
    { name: 'cache_read', label: 'cache read USD/1M', initial: usd(p?.cache_read), hint: 'optional' },
    { name: 'cache_write', label: 'cache write USD/1M', initial: usd(p?.cache_write), hint: 'optional' },
  ];
}

export function priceInput(v: FormValues): { model: string; input: PriceInput } {
  return {
    model: required('model', v.model),
    input: {
      input: requiredUsd('input', v.input),
      output: requiredUsd('output', v.output),
      cache_read: optionalUsd('cache read', v.cache_read),
      cache_write: optionalUsd('cache write', v.cache_write),
    },
  };
}

export function PricesScreen(props: ScreenProps) {
  const { client, theme } = props;
  const res = useResource(() => client.prices.list(), 5000);
  const rows = res.data ?? [];
  const sel = useSelection(rows.length);
  const modal = useModal<'set' | 'edit'>(props.onCapture);
  const action = useAction(res.reload);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;

  const submit = useCallback(
    (form: 'set' | 'edit', v: FormValues) => {
      let parsed: { model: string; input: PriceInput };
      try {
        parsed = priceInput(v);
      } catch (err) {
        if (err instanceof FormError) return modal.set({ kind: 'form', form, error: err.message });
        throw err;
      }
      void action
        .run(
          'saving',
          async () => `price of ${(await client.prices.set(parsed.model, parsed.input)).model} saved`,
        )
        .then((ok) => modal.set(ok ? null : { kind: 'form', form, error: 'the daemon refused: see below' }));
    },
    [client, action, modal],
  );

  useInput((input, key) => {
    const m = modal.ref.current;
    if (m?.kind === 'notice' && (key.return || key.escape)) return modal.set(null);
    if (m || action.busy) return;
    if (key.upArrow || input === 'k') return sel.move(-1);
    if (key.downArrow || input === 'j') return sel.move(1);
    if (key.pageUp) return sel.move(-10);
    if (key.pageDown) return sel.move(10);
    if (input === 's') return modal.set({ kind: 'form', form: 'set', error: null });
    const p = rowsRef.current[sel.ref.current];
    if (!p) return;
    if (input === 'e') return modal.set({ kind: 'form', form: 'edit', error: null });
    if (input === 'x') {
      return modal.set({
        kind: 'confirm',
        question: `Remove the price of ${p.model}?${p.source === 'user' ? ' The shipped default, if any, applies again.' : ''}`,
        yes: () =>
          void action.run(
            'removing',
            async () => (await client.prices.remove(p.model), `removed the price of ${p.model}`),
          ),
      });
    }
  });

  const m = modal.modal;
  const target = rows[sel.selected] ?? null;
  let body;
  if (m?.kind === 'form') {
    body = (
      <Form
        title={m.form === 'set' ? 'Set a price' : `Edit the price of ${target?.model ?? ''}`}
        fields={priceFields(m.form === 'edit' ? target : null)}
        onSubmit={(v) => submit(m.form, v)}
        onCancel={() => modal.set(null)}
        error={m.error}
        busy={action.busy}
        width={props.width}
        theme={theme}
      />
    );
  } else if (m) {
    body = <ModalView modal={m} close={() => modal.set(null)} theme={theme} />;
  } else {
    body = (
      <DataTable
        columns={COLUMNS}
        rows={rows}
        width={props.width}
        height={props.height - 1}
        theme={theme}
        selected={sel.selected}
        rowKey={(p) => p.model}
        empty={res.data ? 'no prices' : 'loading…'}
      />
    );
  }
  const help = 's set  e edit  x remove  (USD per 1M tokens)';
  return (
    <ScreenFrame
      height={props.height}
      footer={
        <MessageLine
          message={action.message ?? (res.error ? { text: res.error, tone: 'bad' } : null)}
          fallback={help}
          theme={theme}
        />
      }
    >
      {body}
    </ScreenFrame>
  );
}
