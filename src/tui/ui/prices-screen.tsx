/**
 * The prices tab of `bc ui`: every model the channels serve with its price in force (USD per 1M
 * tokens) and its source (`override`, `catalog@VERSION`, `supplement@DATE`), or `unpriced`. As
 * `bc price` does: set or edit writes an override, which wins over the catalog; remove (asks
 * first) deletes an override, so the catalog's price applies again.
 */
import type { Key } from 'ink';
import type { PriceInput, PriceView } from '../../shared/control-api.js';
import type { Column } from '../components/data-table.js';
import type { FieldSpec, FormValues } from '../components/form.js';
import { fmtMoney } from '../format.js';
import { useListScreen, type ListContext } from '../hooks/use-list-screen.js';
import { optionalUsd, required, requiredUsd, usdText } from './parse.js';
import { ManagedView, submitForm, type FormConfig, type ScreenProps } from './screen.js';

const money = (v: number | null) => (v === null ? '-' : fmtMoney(v));
const unpriced = (p: PriceView) => p.source === 'unpriced';

const COLUMNS: readonly Column<PriceView>[] = [
  { title: 'MODEL', value: (p) => p.model },
  {
    title: 'INPUT',
    width: 8,
    align: 'right',
    value: (p) => (unpriced(p) ? 'unpriced' : money(p.input)),
    color: (p, theme) => (unpriced(p) ? theme.warn : undefined),
  },
  { title: 'OUTPUT', width: 8, align: 'right', value: (p) => money(p.output) },
  { title: 'CACHE R', width: 8, align: 'right', value: (p) => money(p.cache_read) },
  { title: 'CACHE W', width: 8, align: 'right', value: (p) => money(p.cache_write) },
  // tiered models carry a `+` so the long-context prices of `bc price list` are not a surprise
  { title: 'SOURCE', width: 14, value: (p) => p.source + (p.tiers.length > 0 ? '+' : '') },
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

type Ctx = ListContext<PriceView, PriceForm>;

function formFor(ctx: Ctx, form: PriceForm): FormConfig {
  const target = ctx.target() ?? null;
  return {
    title: form === 'edit' && target ? `Override the price of ${target.model}` : 'Set a price',
    fields: priceFields(form === 'edit' ? target : null),
    onSubmit: (v) =>
      submitForm(ctx.modal, ctx.action, form, 'saving', () => {
        const { model, input } = priceInput(v);
        return async () => `price of ${(await ctx.client.prices.set(model, input)).model} saved`;
      }),
  };
}

/** The list's keys (pages move by ten); removing asks first. */
function onListKey(ctx: Ctx, input: string, key: Key): void {
  const { client, action, modal } = ctx;
  if (key.pageUp) return ctx.move(-10);
  if (key.pageDown) return ctx.move(10);
  if (input === 's') return modal.set({ kind: 'form', form: 'set', error: null });
  const p = ctx.target();
  if (p && input === 'e') return modal.set({ kind: 'form', form: 'edit', error: null });
  if (p && input === 'x') {
    if (p.source !== 'override') {
      const from = unpriced(p) ? 'it is unpriced' : `its price comes from ${p.source}`;
      return action.say({ text: `${p.model} has no override to remove: ${from}`, tone: 'bad' });
    }
    modal.set({
      kind: 'confirm',
      question: `Remove the price override of ${p.model}? The catalog's price, if any, applies again.`,
      yes: () =>
        void action.run(
          'removing',
          async () => (await client.prices.remove(p.model), `removed the price override of ${p.model}`),
        ),
    });
  }
}

export function PricesScreen(props: ScreenProps) {
  const list = useListScreen(props, {
    load: () => props.client.prices.list(),
    rows: (data) => data ?? [],
    intervalMs: 5000,
    onKey: onListKey,
  });

  return (
    <ManagedView
      {...list.view}
      columns={COLUMNS}
      rowKey={(p) => p.model}
      empty={list.loaded ? 'no prices' : 'loading…'}
      help="s set  e override  x remove override  (USD per 1M tokens)"
      form={(f) => formFor(list.ctx, f)}
    />
  );
}
