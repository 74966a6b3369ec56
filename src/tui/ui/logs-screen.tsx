/**
 * The logs tab of `bc ui`: a live tail of the request log with filters by model, key, channel
 * and errors only (a form, or `e` to toggle errors), pause, and the selected row's error in full.
 */
import { useRef, useState } from 'react';
import { Text, useInput } from 'ink';
import type { LogRow } from '../../shared/control-api.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Form, type FieldSpec, type FormValues } from '../components/form.js';
import { fmtCount, fmtMoney, fmtMs } from '../format.js';
import { NO_FILTERS, useLogTail, type LogFilters } from '../hooks/use-log-tail.js';
import { ScreenFrame, useModal, useSelection, type ScreenProps } from './screen.js';

const COLUMNS: readonly Column<LogRow>[] = [
  { title: 'TIME', width: 8, value: (r) => r.time.slice(11, 19) },
  {
    title: 'ST',
    width: 3,
    value: (r) => String(r.status),
    color: (r, t) => (r.status >= 400 ? t.bad : t.good),
  },
  { title: 'MODEL', value: (r) => r.model },
  { title: 'KEY', width: 10, value: (r) => r.key ?? '-' },
  { title: 'CHANNEL', width: 12, value: (r) => r.channel ?? '-' },
  { title: 'IN', width: 5, align: 'right', value: (r) => fmtCount(r.input_tokens) },
  { title: 'OUT', width: 5, align: 'right', value: (r) => fmtCount(r.output_tokens) },
  { title: 'COST', width: 7, align: 'right', value: (r) => fmtMoney(r.cost) },
  { title: 'LAT', width: 6, align: 'right', value: (r) => fmtMs(r.latency_ms) },
];

function filterFields(f: LogFilters): FieldSpec[] {
  return [
    { name: 'model', label: 'model', initial: f.model },
    { name: 'key', label: 'key', initial: f.key },
    { name: 'channel', label: 'channel', initial: f.channel },
    {
      name: 'errors',
      label: 'errors only',
      kind: 'choice',
      choices: ['no', 'yes'],
      initial: f.errors ? 'yes' : 'no',
    },
  ];
}

function filtersOf(v: FormValues): LogFilters {
  return {
    model: (v.model ?? '').trim(),
    key: (v.key ?? '').trim(),
    channel: (v.channel ?? '').trim(),
    errors: v.errors === 'yes',
  };
}

function describe(f: LogFilters): string {
  const parts = [
    f.model && `model=${f.model}`,
    f.key && `key=${f.key}`,
    f.channel && `channel=${f.channel}`,
    f.errors && 'errors only',
  ];
  const on = parts.filter(Boolean).join(' ');
  return on ? `filter: ${on}` : 'no filter';
}

/** The filter in force and the row count, then the selected row's error or the keys. */
function footerText(
  filters: LogFilters,
  paused: boolean,
  rows: LogRow[],
  selected: LogRow | undefined,
): string {
  const status = `${paused ? 'PAUSED  ' : ''}${describe(filters)}  ${rows.length} rows`;
  const detail = selected?.error
    ? `${selected.request_id}: ${selected.error}`
    : ' f filter  e errors  c clear  p pause';
  return `${status}  ${detail}`;
}

export function LogsScreen(props: ScreenProps) {
  const { theme } = props;
  const [filters, setFilters] = useState<LogFilters>(NO_FILTERS);
  const [paused, setPaused] = useState(false);
  const tail = useLogTail(props.client, filters, paused);
  const sel = useSelection(tail.rows.length);
  const modal = useModal<'filter'>(props.onCapture);
  const latest = useRef({ filters, paused });
  latest.current = { filters, paused };

  useInput((input, key) => {
    if (modal.ref.current) return;
    if (key.upArrow || input === 'k') return sel.move(-1);
    if (key.downArrow || input === 'j') return sel.move(1);
    if (input === 'f') return modal.set({ kind: 'form', form: 'filter', error: null });
    if (input === 'e')
      return setFilters({ ...latest.current.filters, errors: !latest.current.filters.errors });
    if (input === 'c') return setFilters(NO_FILTERS);
    if (input === 'p' || input === ' ') return setPaused(!latest.current.paused);
  });

  const apply = (v: FormValues) => {
    setFilters(filtersOf(v));
    modal.set(null);
  };

  const footer = (
    <Text color={tail.error ? theme.bad : theme.muted} wrap="truncate">
      {tail.error ?? footerText(filters, paused, tail.rows, tail.rows[sel.selected])}
    </Text>
  );
  return (
    <ScreenFrame height={props.height} footer={footer}>
      {modal.modal ? (
        <Form
          title="Filter the log"
          fields={filterFields(filters)}
          onSubmit={apply}
          onCancel={() => modal.set(null)}
          width={props.width}
          theme={theme}
        />
      ) : (
        <DataTable
          columns={COLUMNS}
          rows={tail.rows}
          width={props.width}
          height={props.height - 1}
          theme={theme}
          selected={sel.selected}
          rowKey={(r) => String(r.id)}
          empty={paused ? 'paused' : 'waiting for requests…'}
        />
      )}
    </ScreenFrame>
  );
}
