/**
 * The channels tab of `bc ui`: every channel with its routing state and live traffic, and the
 * actions of `bc channel`: add (a form; the secret is typed masked), edit priority, weight and
 * models, enable, disable (asks first), test (the result is shown), remove (asks first). Every
 * action is one call of the control API, exactly what the CLI sends.
 */
import { channelDefaults } from '../../shared/channel-fields.js';
import {
  CHANNEL_TYPES,
  type ChannelInput,
  type ChannelType,
  type ChannelView,
} from '../../shared/control-api.js';
import type { ChannelMetricsRow } from '../../shared/metrics-types.js';
import type { Column } from '../components/data-table.js';
import type { FieldSpec, FormValues } from '../components/form.js';
import { fmtCount, fmtMs } from '../format.js';
import { useListScreen, type ListContext } from '../hooks/use-list-screen.js';
import { channelState } from '../top/columns.js';
import { intOr, list, required } from './parse.js';
import { ManagedView, submitForm, type FormConfig, type ScreenProps } from './screen.js';

type Row = ChannelView & { live: ChannelMetricsRow | undefined };

/** The list is the authority on status (it is reloaded after every action); live data adds cooldowns. */
function stateOf(r: Row): string {
  const cooling =
    (r.live?.cooldown_s ?? 0) > 0 || (r.cooldown_until !== null && Date.parse(r.cooldown_until) > Date.now());
  return channelState({ status: r.status, cooldown_s: cooling ? 1 : 0 });
}

const COLUMNS: readonly Column<Row>[] = [
  { title: 'ID', width: 4, align: 'right', value: (r) => String(r.id) },
  { title: 'NAME', value: (r) => r.name },
  { title: 'TYPE', width: 10, value: (r) => r.type },
  {
    title: 'STATUS',
    width: 8,
    value: stateOf,
    color: (r, t) => ({ ok: t.good, cooling: t.warn, off: t.muted, 'auto-off': t.bad })[stateOf(r)],
  },
  { title: 'PRI', width: 3, align: 'right', value: (r) => String(r.priority) },
  { title: 'WT', width: 3, align: 'right', value: (r) => String(r.weight) },
  { title: 'MODELS', value: (r) => r.models.join(',') },
  { title: 'RPM', width: 5, align: 'right', value: (r) => fmtCount(r.live?.last_minute.requests ?? 0) },
  { title: 'P50', width: 6, align: 'right', value: (r) => fmtMs(r.live?.last_minute.p50_ms) },
];

/** The daemon's defaults (shared/channel-fields.ts), shown in the add form and sent when left empty. */
const DEFAULTS = channelDefaults();

const ADD_FIELDS: readonly FieldSpec[] = [
  { name: 'name', label: 'name' },
  { name: 'type', label: 'type', kind: 'choice', choices: CHANNEL_TYPES },
  { name: 'key', label: 'api key', kind: 'secret' },
  { name: 'models', label: 'models', hint: 'comma-separated' },
  { name: 'base_url', label: 'base url', hint: "empty = the type's default" },
  { name: 'priority', label: 'priority', initial: String(DEFAULTS.priority) },
  { name: 'weight', label: 'weight', initial: String(DEFAULTS.weight) },
];

function editFields(c: ChannelView): FieldSpec[] {
  return [
    { name: 'priority', label: 'priority', initial: String(c.priority) },
    { name: 'weight', label: 'weight', initial: String(c.weight) },
    { name: 'models', label: 'models', initial: c.models.join(','), hint: 'comma-separated' },
  ];
}

export function addInput(v: FormValues): ChannelInput {
  const baseUrl = (v.base_url ?? '').trim();
  return {
    name: required('name', v.name),
    type: required('type', v.type) as ChannelType,
    keys: [required('api key', v.key)],
    models: list(v.models),
    ...(baseUrl ? { base_url: baseUrl } : {}),
    priority: intOr('priority', v.priority, DEFAULTS.priority),
    weight: intOr('weight', v.weight, DEFAULTS.weight),
  };
}

type ChannelForm = 'add' | 'edit';

type Ctx = ListContext<Row, ChannelForm>;

function formFor(ctx: Ctx, form: ChannelForm): FormConfig {
  const target = ctx.target();
  if (form === 'edit' && target) {
    return {
      title: `Edit channel ${target.name}`,
      fields: editFields(target),
      onSubmit: (v) =>
        submitForm(ctx.modal, ctx.action, 'edit', 'saving', () => {
          const input: ChannelInput = {
            priority: intOr('priority', v.priority, target.priority),
            weight: intOr('weight', v.weight, target.weight),
            models: list(v.models),
          };
          return async () => `saved channel ${(await ctx.client.channels.edit(target.id, input)).name}`;
        }),
    };
  }
  return {
    title: 'Add a channel',
    fields: ADD_FIELDS,
    onSubmit: (v) =>
      submitForm(ctx.modal, ctx.action, 'add', 'adding', () => {
        const input = addInput(v);
        return async () => `added channel ${(await ctx.client.channels.add(input)).name}`;
      }),
  };
}

function testChannel(ctx: Ctx, c: Row): void {
  void ctx.action.run(`testing ${c.name}`, async () => {
    const r = await ctx.client.channels.test(c.id);
    if (r.ok) return `test ${c.name}: ok in ${fmtMs(r.latency_ms)} (${r.model})`;
    const status = r.status ? ` ${r.status}` : '';
    return { text: `test ${c.name}: failed${status}: ${r.error ?? 'unknown error'}`, tone: 'bad' as const };
  });
}

/** The list's keys; disabling and removing ask first, enabling does not. */
function onListKey(ctx: Ctx, input: string): void {
  const { client, action, modal } = ctx;
  if (input === 'a') return modal.set({ kind: 'form', form: 'add', error: null });
  const c = ctx.target();
  if (!c) return;
  if (input === 'e') return modal.set({ kind: 'form', form: 'edit', error: null });
  if (input === 't') return testChannel(ctx, c);
  if (input === 'd' && c.status === 'enabled') {
    return modal.set({
      kind: 'confirm',
      question: `Disable channel ${c.name}? It stops receiving requests.`,
      yes: () =>
        void action.run('disabling', async () => `disabled ${(await client.channels.disable(c.id)).name}`),
    });
  }
  if (input === 'd')
    return void action.run('enabling', async () => `enabled ${(await client.channels.enable(c.id)).name}`);
  if (input === 'x') {
    return modal.set({
      kind: 'confirm',
      question: `Remove channel ${c.name} for good?`,
      yes: () =>
        void action.run('removing', async () => (await client.channels.remove(c.id), `removed ${c.name}`)),
    });
  }
}

export function ChannelsScreen(props: ScreenProps) {
  const list = useListScreen(props, {
    load: () => props.client.channels.list(),
    rows: (data) => {
      const live = new Map((props.snapshot?.channels ?? []).map((c) => [c.id, c]));
      return (data ?? []).map((c) => ({ ...c, live: live.get(String(c.id)) }));
    },
    onKey: onListKey,
  });

  return (
    <ManagedView
      {...list.view}
      columns={COLUMNS}
      rowKey={(r) => String(r.id)}
      empty={list.loaded ? 'no channels yet: press a to add one' : 'loading…'}
      help="a add  e edit  d enable/disable  t test  x remove"
      form={(f) => formFor(list.ctx, f)}
    />
  );
}
