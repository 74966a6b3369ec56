/**
 * The users tab of `bc ui` (SPEC section 11): tenants with their group, balance, spend, keys and
 * live requests per minute, and the actions of `bc user` and `bc redeem create`: create a user
 * (metered with a starting balance, or unmetered), top up (a paid credit with a note), enable,
 * disable (asks first), and issue redemption codes for the selected user or for anyone. Codes are
 * stored hashed, so the notice that follows their creation is the only time they are ever shown;
 * a batch is kept to what fits on the screen (`bc redeem create --out FILE` makes more).
 */
import { formatUsd } from '../../shared/money.js';
import type { MetricsRow } from '../../shared/metrics-types.js';
import type { RedeemCodeInput, RedeemCodesCreated, UserInput, UserView } from '../../shared/tenant-api.js';
import type { Column } from '../components/data-table.js';
import type { FieldSpec, FormValues } from '../components/form.js';
import { fmtCount, fmtMoney } from '../format.js';
import { useListScreen, type ListContext } from '../hooks/use-list-screen.js';
import { FormError, optionalInt, optionalUsd, required, requiredUsd } from './parse.js';
import { ManagedView, submitForm, type FormConfig, type ScreenProps } from './screen.js';

type Row = UserView & { live: MetricsRow | undefined };

const COLUMNS: readonly Column<Row>[] = [
  { title: 'ID', width: 4, align: 'right', value: (u) => String(u.id) },
  { title: 'NAME', value: (u) => u.name },
  { title: 'GROUP', width: 10, value: (u) => u.group },
  {
    title: 'BALANCE',
    width: 9,
    align: 'right',
    value: (u) => (u.balance === null ? 'unmetered' : fmtMoney(u.balance)),
    color: (u, t) => (u.balance !== null && u.balance <= 0 ? t.bad : undefined),
  },
  { title: 'SPENT', width: 8, align: 'right', value: (u) => fmtMoney(u.spent) },
  { title: 'KEYS', width: 4, align: 'right', value: (u) => String(u.keys) },
  {
    title: 'STATUS',
    width: 8,
    value: (u) => u.status,
    color: (u, t) => (u.status === 'enabled' ? t.good : t.muted),
  },
  { title: 'RPM', width: 5, align: 'right', value: (u) => fmtCount(u.live?.last_minute.requests ?? 0) },
];

const METERING = ['metered', 'unmetered'] as const;

const CREATE_FIELDS: readonly FieldSpec[] = [
  { name: 'name', label: 'name' },
  { name: 'group', label: 'group', hint: 'empty = default' },
  { name: 'metering', label: 'metering', kind: 'choice', choices: METERING },
  { name: 'balance', label: 'balance USD', hint: 'starting balance, empty = $0 (metered only)' },
];

const TOPUP_FIELDS: readonly FieldSpec[] = [
  { name: 'amount', label: 'amount USD' },
  { name: 'note', label: 'note', hint: 'optional, kept in the ledger' },
];

export function createUserInput(v: FormValues): UserInput {
  const name = required('name', v.name);
  const group = (v.group ?? '').trim();
  const balance = optionalUsd('balance USD', v.balance);
  const input: UserInput = { name, ...(group ? { group } : {}) };
  if (v.metering === 'unmetered') {
    if (balance !== null && balance !== 0)
      throw new FormError('an unmetered user has no balance: leave the balance empty, or choose metered');
    return { ...input, unmetered: true };
  }
  return balance === null ? input : { ...input, balance };
}

/** The most codes one batch may make here: each must fit on the one screen that shows them. */
export function maxCodesShown(height: number): number {
  // the notice: title, summary, blank, the codes, blank, "press Enter"; plus the message line
  return Math.max(1, height - 6);
}

export function codesInput(v: FormValues, forUser: string | null, max: number): RedeemCodeInput {
  const amount = requiredUsd('amount USD', v.amount);
  if (amount <= 0) throw new FormError('amount USD: a code must be worth more than $0');
  const count = optionalInt('count', v.count) ?? 1;
  if (count < 1) throw new FormError('count: at least 1');
  if (count > max)
    throw new FormError(
      `count: at most ${max} fit on this screen; for more: \`bc redeem create --out FILE\``,
    );
  return {
    amount,
    count,
    ...(forUser ? { user: forUser } : {}),
    ...(v.promo === 'yes' ? { promo: true } : {}),
  };
}

type UserForm = 'create' | 'topup' | 'codes';

type Ctx = ListContext<Row, UserForm>;

/** Runs `fn`; on failure the form stays open (a refusal's reason is on the message line). */
function submitThen(ctx: Ctx, form: UserForm, label: string, fn: () => Promise<string>, after?: () => void) {
  void ctx.action.run(label, fn).then((ok) => {
    if (!ok) return ctx.modal.set({ kind: 'form', form, error: 'the daemon refused: see below' });
    if (after) after();
    else ctx.modal.set(null);
  });
}

/** Creates the codes, then shows them in a notice: the only time they are ever shown. */
function issueCodes(ctx: Ctx, v: FormValues, forUser: string | null, max: number): void {
  let input: RedeemCodeInput;
  try {
    input = codesInput(v, forUser, max);
  } catch (err) {
    if (err instanceof FormError) return ctx.modal.set({ kind: 'form', form: 'codes', error: err.message });
    throw err;
  }
  let created: RedeemCodesCreated | null = null;
  submitThen(
    ctx,
    'codes',
    'issuing codes',
    async () => {
      created = await ctx.client.redeem.create(input);
      return `issued ${created.codes.length} code(s) of ${formatUsd(created.amount)}`;
    },
    () => {
      const done = created;
      if (done === null) return ctx.modal.set(null);
      const who = forUser ? `only ${forUser} may redeem them` : 'anyone may redeem them';
      ctx.modal.set({
        kind: 'notice',
        title: 'Save these now: the codes are stored hashed and are shown only once.',
        lines: [
          `${done.codes.length} code(s) of ${formatUsd(done.amount)} each; ${who}.`,
          '',
          ...done.codes.map((c) => `  ${c.code}`),
          '',
        ],
      });
    },
  );
}

function formFor(ctx: Ctx, form: UserForm, height: number): FormConfig {
  const target = ctx.target();
  if (form === 'topup' && target) {
    return {
      title: `Top up ${target.name} (balance ${formatUsd(target.balance)})`,
      fields: TOPUP_FIELDS,
      onSubmit: (v) =>
        submitForm(ctx.modal, ctx.action, 'topup', 'topping up', () => {
          const amount = requiredUsd('amount USD', v.amount);
          if (amount <= 0) throw new FormError('amount USD: a top-up must be more than $0');
          const note = (v.note ?? '').trim();
          return async () => {
            const r = await ctx.client.users.credit(target.id, {
              kind: 'topup',
              amount,
              ...(note ? { note } : {}),
            });
            return `topped up ${r.user.name} by ${formatUsd(amount)}: balance ${formatUsd(r.user.balance)}`;
          };
        }),
    };
  }
  if (form === 'codes') {
    const max = maxCodesShown(height);
    // a code bound to an unmetered user could never be redeemed: offer "anyone" only
    const forChoices = target && target.balance !== null ? ['anyone', target.name] : ['anyone'];
    return {
      title: 'Issue redemption codes',
      fields: [
        { name: 'amount', label: 'amount USD', hint: 'credited per code' },
        { name: 'count', label: 'count', hint: `empty = 1, at most ${max} here` },
        { name: 'for', label: 'for', kind: 'choice', choices: forChoices },
        { name: 'promo', label: 'promo', kind: 'choice', choices: ['no', 'yes'], hint: 'free credit' },
      ],
      onSubmit: (v) => issueCodes(ctx, v, v.for && v.for !== 'anyone' ? v.for : null, max),
    };
  }
  return {
    title: 'Create a user',
    fields: CREATE_FIELDS,
    onSubmit: (v) =>
      submitForm(ctx.modal, ctx.action, 'create', 'creating', () => {
        const input = createUserInput(v);
        return async () => {
          const r = await ctx.client.users.create(input);
          const u = 'user' in r ? r.user : r;
          return `created user ${u.name} (${u.balance === null ? 'unmetered' : formatUsd(u.balance)})`;
        };
      }),
  };
}

/** The list's keys; disabling asks first, enabling does not. */
function onListKey(ctx: Ctx, input: string): void {
  const { client, action, modal } = ctx;
  if (input === 'c') return modal.set({ kind: 'form', form: 'create', error: null });
  if (input === 'i') return modal.set({ kind: 'form', form: 'codes', error: null });
  const u = ctx.target();
  if (!u || u.status === 'deleted') return;
  if (input === 't') {
    if (u.balance === null)
      return action.say({ text: `${u.name} is unmetered: there is no balance to top up`, tone: 'bad' });
    return modal.set({ kind: 'form', form: 'topup', error: null });
  }
  if (input === 'd' && u.status === 'enabled') {
    return modal.set({
      kind: 'confirm',
      question: `Disable user ${u.name}? All their keys are refused until the user is enabled again.`,
      yes: () =>
        void action.run('disabling', async () => `disabled ${(await client.users.disable(u.id)).name}`),
    });
  }
  if (input === 'd')
    void action.run('enabling', async () => `enabled ${(await client.users.enable(u.id)).name}`);
}

export function UsersScreen(props: ScreenProps) {
  const list = useListScreen(props, {
    load: () => props.client.users.list(),
    rows: (data) => {
      const live = new Map((props.snapshot?.users ?? []).map((u) => [u.id, u]));
      return (data ?? []).map((u) => ({ ...u, live: live.get(String(u.id)) }));
    },
    onKey: onListKey,
  });

  return (
    <ManagedView
      {...list.view}
      columns={COLUMNS}
      rowKey={(u) => String(u.id)}
      empty={list.loaded ? 'no users yet: press c to create one' : 'loading…'}
      help="c create  t top up  d enable/disable  i issue codes"
      form={(f) => formFor(list.ctx, f, props.height)}
    />
  );
}
