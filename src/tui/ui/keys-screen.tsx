/**
 * The keys tab of `bc ui`: client keys with budget, spend and limits, and the actions of
 * `bc key`: create (the secret is shown once, in a notice, and never again), set budget and
 * limits, enable, disable and revoke (both ask first).
 */
import { useCallback, useRef } from 'react';
import { useInput } from 'ink';
import type { KeyInput, KeyView } from '../../shared/control-api.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Form, type FieldSpec, type FormValues } from '../components/form.js';
import { fmtCount, fmtMoney } from '../format.js';
import { useAction } from '../hooks/use-action.js';
import { useResource } from '../hooks/use-resource.js';
import { FormError, list, optionalInt, optionalUsd, required, usdText } from './parse.js';
import { MessageLine, ModalView, ScreenFrame, useModal, useSelection, type ScreenProps } from './screen.js';

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

const LIMIT_HINT = 'empty = unlimited';

const CREATE_FIELDS: readonly FieldSpec[] = [
  { name: 'name', label: 'name' },
  { name: 'group', label: 'group', hint: 'empty = default' },
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

export function KeysScreen(props: ScreenProps) {
  const { client, theme } = props;
  const res = useResource(() => client.keys.list());
  const rows = res.data ?? [];
  const sel = useSelection(rows.length);
  const modal = useModal<'create' | 'limits'>(props.onCapture);
  const action = useAction(res.reload);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;

  const submit = useCallback(
    (form: 'create' | 'limits', v: FormValues) => {
      const target = rowsRef.current[sel.ref.current];
      let input: KeyInput;
      try {
        input = form === 'create' ? createInput(v) : limitsInput(v);
      } catch (err) {
        if (err instanceof FormError) return modal.set({ kind: 'form', form, error: err.message });
        throw err;
      }
      if (form === 'limits') {
        if (!target) return modal.set(null);
        void action
          .run('saving', async () => `saved limits of ${(await client.keys.edit(target.id, input)).name}`)
          .then((ok) => {
            modal.set(ok ? null : { kind: 'form', form, error: 'the daemon refused: see below' });
          });
        return;
      }
      void (async () => {
        let secret = '';
        let name = '';
        const ok = await action.run('creating', async () => {
          const created = await client.keys.create(input);
          secret = created.key;
          name = created.name;
          return `created key ${created.name}`;
        });
        if (!ok) return modal.set({ kind: 'form', form, error: 'the daemon refused: see below' });
        modal.set({
          kind: 'notice',
          title: `Key ${name} created. Copy the secret now: it is shown only once.`,
          lines: ['', `  ${secret}`, ''],
        });
      })();
    },
    [client, action, modal, sel.ref],
  );

  useInput((input, key) => {
    const m = modal.ref.current;
    if (m?.kind === 'notice' && (key.return || key.escape)) return modal.set(null);
    if (m || action.busy) return;
    if (key.upArrow || input === 'k') return sel.move(-1);
    if (key.downArrow || input === 'j') return sel.move(1);
    if (input === 'c') return modal.set({ kind: 'form', form: 'create', error: null });
    const k = rowsRef.current[sel.ref.current];
    if (!k) return;
    if (input === 'b' && k.status !== 'revoked')
      return modal.set({ kind: 'form', form: 'limits', error: null });
    if (input === 'r' && k.status !== 'revoked') {
      return modal.set({
        kind: 'confirm',
        question: `Revoke key ${k.name}? Applications using it stop working, for good.`,
        yes: () =>
          void action.run('revoking', async () => `revoked ${(await client.keys.revoke(k.id)).name}`),
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
    if (input === 'd' && k.status === 'disabled') {
      void action.run('enabling', async () => `enabled ${(await client.keys.enable(k.id)).name}`);
    }
  });

  const m = modal.modal;
  const target = rows[sel.selected];
  let body;
  if (m?.kind === 'form') {
    body = (
      <Form
        title={m.form === 'create' ? 'Create a key' : `Budget and limits of ${target?.name ?? ''}`}
        fields={m.form === 'create' || !target ? CREATE_FIELDS : limitFields(target)}
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
        rowKey={(k) => String(k.id)}
        empty={res.data ? 'no keys yet: press c to create one' : 'loading…'}
      />
    );
  }
  const help = 'c create  b budget/limits  d enable/disable  r revoke';
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
