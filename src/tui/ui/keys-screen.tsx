/**
 * The keys tab of `bc ui`: client keys with budget, spend and limits (and owner and scope, once
 * users own keys), and the actions of `bc key`: create (the secret is shown once, in a notice,
 * and never again), set budget and limits, enable, disable and revoke (both ask first).
 */
import type { KeyCreated, KeyInput, KeyView } from '../../shared/control-api.js';
import { keyDefaults } from '../../shared/key-fields.js';
import type { Column } from '../components/data-table.js';
import type { FieldSpec, FormValues } from '../components/form.js';
import { fmtCount, fmtMoney } from '../format.js';
import { useListScreen, type ListContext } from '../hooks/use-list-screen.js';
import { FormError, list, optionalInt, optionalUsd, required, usdText } from './parse.js';
import { ManagedView, submitForm, type FormConfig, type ScreenProps } from './screen.js';

const limit = (v: number | null) => (v === null ? '-' : fmtCount(v));

const COLUMNS: readonly Column<KeyView>[] = [
  { title: 'ID', width: 4, align: 'right', value: (k) => String(k.id) },
  { title: 'NAME', value: (k) => k.name },
  { title: 'PREFIX', width: 10, value: (k) => k.prefix },
  {
    title: 'STATUS',
    width: 8,
    value: (k) => k.status,
    color: (k, t) => (k.status === 'enabled' ? t.good : k.status === 'revoked' ? t.bad : t.muted),
  },
  {
    title: 'BUDGET',
    width: 8,
    align: 'right',
    value: (k) => (k.budget === null ? 'none' : fmtMoney(k.budget)),
  },
  { title: 'SPENT', width: 8, align: 'right', value: (k) => fmtMoney(k.spent) },
  { title: 'RPM', width: 5, align: 'right', value: (k) => limit(k.rpm) },
  { title: 'TPM', width: 6, align: 'right', value: (k) => limit(k.tpm) },
  { title: 'CONC', width: 4, align: 'right', value: (k) => limit(k.concurrency) },
];

/**
 * Once any key belongs to a user (SPEC section 11), the owner and the key's scope are shown too,
 * where there is room: below 100 columns the name (`user/name`) already says whose key it is.
 */
const USER_COLUMNS: readonly Column<KeyView>[] = [
  ...COLUMNS,
  { title: 'USER', width: 10, value: (k) => k.user ?? '-' },
  { title: 'SCOPE', width: 7, value: (k) => (k.user === null ? '-' : k.scope) },
];

const LIMIT_HINT = 'empty = unlimited';
/** The daemon's defaults (shared/key-fields.ts): what a field left empty becomes. */
const DEFAULTS = keyDefaults();

const CREATE_FIELDS: readonly FieldSpec[] = [
  { name: 'name', label: 'name' },
  { name: 'group', label: 'group', hint: `empty = ${DEFAULTS.group}` },
  { name: 'budget', label: 'budget USD', hint: LIMIT_HINT },
  { name: 'models', label: 'models', hint: 'comma-separated, empty = all' },
  { name: 'rpm', label: 'requests/min', hint: LIMIT_HINT },
  { name: 'tpm', label: 'tokens/min', hint: LIMIT_HINT },
  { name: 'concurrency', label: 'concurrency', hint: LIMIT_HINT },
];

function limitFields(k: KeyView): FieldSpec[] {
  const text = (v: number | null) => (v === null ? '' : String(v));
  return [
    { name: 'budget', label: 'budget USD', initial: usdText(k.budget), hint: LIMIT_HINT },
    { name: 'rpm', label: 'requests/min', initial: text(k.rpm), hint: LIMIT_HINT },
    { name: 'tpm', label: 'tokens/min', initial: text(k.tpm), hint: LIMIT_HINT },
    { name: 'concurrency', label: 'concurrency', initial: text(k.concurrency), hint: LIMIT_HINT },
  ];
}

export function limitsInput(v: FormValues): KeyInput {
  return {
    budget: optionalUsd('budget', v.budget),
    rpm: optionalInt('requests/min', v.rpm),
    tpm: optionalInt('tokens/min', v.tpm),
    concurrency: optionalInt('concurrency', v.concurrency),
  };
}

export function createInput(v: FormValues): KeyInput {
  const group = (v.group ?? '').trim();
  const models = list(v.models);
  return {
    name: required('name', v.name),
    ...(group ? { group } : {}),
    ...(models.length ? { models } : {}),
    ...limitsInput(v),
  };
}

type KeyForm = 'create' | 'limits';

type Ctx = ListContext<KeyView, KeyForm>;

/** Creates the key, then shows its secret in a notice: the only time it is ever shown. */
function create(ctx: Ctx, v: FormValues): void {
  let input: KeyInput;
  try {
    input = createInput(v);
  } catch (err) {
    if (err instanceof FormError) return ctx.modal.set({ kind: 'form', form: 'create', error: err.message });
    throw err;
  }
  void (async () => {
    let created: KeyCreated | null = null;
    const ok = await ctx.action.run('creating', async () => {
      created = await ctx.client.keys.create(input);
      return `created key ${created.name}`;
    });
    const done = created as KeyCreated | null;
    if (!ok || !done)
      return ctx.modal.set({ kind: 'form', form: 'create', error: 'the daemon refused: see below' });
    ctx.modal.set({
      kind: 'notice',
      title: `Key ${done.name} created. Copy the secret now: it is shown only once.`,
      lines: ['', `  ${done.key}`, ''],
    });
  })();
}

function formFor(ctx: Ctx, form: KeyForm): FormConfig {
  const target = ctx.target();
  if (form === 'limits' && target) {
    return {
      title: `Budget and limits of ${target.name}`,
      fields: limitFields(target),
      onSubmit: (v) =>
        submitForm(ctx.modal, ctx.action, 'limits', 'saving', () => {
          const input = limitsInput(v);
          return async () => `saved limits of ${(await ctx.client.keys.edit(target.id, input)).name}`;
        }),
    };
  }
  return { title: 'Create a key', fields: CREATE_FIELDS, onSubmit: (v) => create(ctx, v) };
}

/** The list's keys; revoking and disabling ask first, enabling does not. */
function onListKey(ctx: Ctx, input: string): void {
  const { client, action, modal } = ctx;
  if (input === 'c') return modal.set({ kind: 'form', form: 'create', error: null });
  const k = ctx.target();
  if (!k || k.status === 'revoked') return;
  if (input === 'b') return modal.set({ kind: 'form', form: 'limits', error: null });
  if (input === 'r') {
    return modal.set({
      kind: 'confirm',
      question: `Revoke key ${k.name}? Applications using it stop working, for good.`,
      yes: () => void action.run('revoking', async () => `revoked ${(await client.keys.revoke(k.id)).name}`),
    });
  }
  if (input === 'd' && k.status === 'enabled') {
    return modal.set({
      kind: 'confirm',
      question: `Disable key ${k.name}? Its requests are refused until it is enabled again.`,
      yes: () =>
        void action.run('disabling', async () => `disabled ${(await client.keys.disable(k.id)).name}`),
    });
  }
  if (input === 'd')
    void action.run('enabling', async () => `enabled ${(await client.keys.enable(k.id)).name}`);
}

export function KeysScreen(props: ScreenProps) {
  const list = useListScreen(props, {
    load: () => props.client.keys.list(),
    rows: (data) => data ?? [],
    onKey: onListKey,
  });

  return (
    <ManagedView
      {...list.view}
      columns={props.width >= 100 && list.rows.some((k) => k.user !== null) ? USER_COLUMNS : COLUMNS}
      rowKey={(k) => String(k.id)}
      empty={list.loaded ? 'no keys yet: press c to create one' : 'loading…'}
      help="c create  b budget/limits  d enable/disable  r revoke"
      form={(f) => formFor(list.ctx, f)}
    />
  );
}
