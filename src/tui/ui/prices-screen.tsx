/**
 * The prices tab of `bc ui`: the price table (USD per 1M tokens; `user` rows override the
 * shipped defaults) with set, edit and remove (asks first), as `bc price` does.
 */
import { useRef } from 'react';
import { useInput } from 'ink';
import type { PriceInput, PriceView } from '../../shared/control-api.js';
import type { Column } from '../components/data-table.js';
import type { FieldSpec, FormValues } from '../components/form.js';
import { fmtMoney } from '../format.js';
import { useAction, type ActionRunner } from '../hooks/use-action.js';
import { useResource } from '../hooks/use-resource.js';
import { optionalUsd, required, requiredUsd, usdText } from './parse.js';
import {
  ManagedView,
  submitForm,
  useModal,
  useSelection,
  type FormConfig,
  type ModalHandle,
  type ScreenProps,
} from './screen.js';

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

type PriceForm = 'set' | 'edit';

function formFor(
  client: ScreenProps['client'],
  action: ActionRunner,
  modal: ModalHandle<PriceForm>,
  form: PriceForm,
  target: PriceView | null,
): FormConfig {
  return {
    title: form === 'edit' && target ? `Edit the price of ${target.model}` : 'Set a price',
    fields: priceFields(form === 'edit' ? target : null),
    onSubmit: (v) =>
      submitForm(modal, action, form, 'saving', () => {
        const { model, input } = priceInput(v);
        return async () => `price of ${(await client.prices.set(model, input)).model} saved`;
      }),
  };
}

export function PricesScreen(props: ScreenProps) {
  const { client } = props;
  const res = useResource(() => client.prices.list(), 5000);
  const rows = res.data ?? [];
  const sel = useSelection(rows.length);
  const modal = useModal<PriceForm>(props.onCapture);
  const action = useAction(res.reload);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;

  useInput((input, key) => {
    if (modal.ref.current || action.busy) return;
    if (key.upArrow || input === 'k') return sel.move(-1);
    if (key.downArrow || input === 'j') return sel.move(1);
    if (key.pageUp) return sel.move(-10);
    if (key.pageDown) return sel.move(10);
    if (input === 's') return modal.set({ kind: 'form', form: 'set', error: null });
    const p = rowsRef.current[sel.ref.current];
    if (p && input === 'e') return modal.set({ kind: 'form', form: 'edit', error: null });
    if (p && input === 'x') {
      const note = p.source === 'user' ? ' The shipped default, if any, applies again.' : '';
      modal.set({
        kind: 'confirm',
        question: `Remove the price of ${p.model}?${note}`,
        yes: () =>
          void action.run(
            'removing',
            async () => (await client.prices.remove(p.model), `removed the price of ${p.model}`),
          ),
      });
    }
  });

  return (
    <ManagedView
      screen={props}
      rows={rows}
      columns={COLUMNS}
      rowKey={(p) => p.model}
      empty={res.data ? 'no prices' : 'loading…'}
      help="s set  e edit  x remove  (USD per 1M tokens)"
      selected={sel.selected}
      modal={modal.modal}
      closeModal={() => modal.set(null)}
      form={(f) => formFor(client, action, modal, f, rowsRef.current[sel.ref.current] ?? null)}
      action={action}
      loadError={res.error}
    />
  );
}
