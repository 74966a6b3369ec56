/**
 * The monitoring screen's body, shared by `bc top`, `bc top --once` and the monitor tab of
 * `bc ui`: the summary figures, the three graphs over the chosen window, and the table of the
 * current view (channels, models, keys or users). It is exactly `height` lines tall at any size
 * from 80x24 up, so the frame never outgrows the terminal.
 */
import { Box, Text } from 'ink';
import type { MetricsSnapshot } from '../../shared/metrics-types.js';
import type { Theme } from '../theme.js';
import { DataTable } from '../components/data-table.js';
import { LineGraph } from '../components/line-graph.js';
import { SummaryBar, wrapFigures, type Figure } from '../components/summary-bar.js';
import { fmtCount, fmtMoney, fmtMs, fmtPct } from '../format.js';
import type { Balances } from '../hooks/use-user-balances.js';
import { CHANNEL_COLUMNS, KEY_COLUMNS, MODEL_COLUMNS, arrange, userColumns, viewRows } from './columns.js';
import type { TopState } from './top-state.js';

export type DashboardState = Pick<
  TopState,
  'view' | 'windowS' | 'sort' | 'descending' | 'filter' | 'selected'
>;

export interface DashboardProps {
  readonly snapshot: MetricsSnapshot;
  readonly state: DashboardState;
  readonly width: number;
  readonly height: number;
  readonly theme: Theme;
  /** the users' balances for the users view, null or absent while unknown */
  readonly balances?: Balances | null;
}

export function summaryFigures(s: MetricsSnapshot): Figure[] {
  const m = s.summary;
  return [
    { label: 'RPS', value: fmtCount(m.rps) },
    { label: 'tok/s in', value: fmtCount(m.tokens_in_per_s) },
    { label: 'out', value: fmtCount(m.tokens_out_per_s) },
    {
      label: 'err',
      value: fmtPct(m.error_rate),
      tone: m.error_rate > 0.05 ? 'bad' : m.error_rate > 0 ? 'warn' : undefined,
    },
    { label: 'p50', value: fmtMs(m.p50_ms) },
    { label: 'p99', value: fmtMs(m.p99_ms) },
    { label: 'in-flight', value: fmtCount(m.inflight) },
    { label: '$/min', value: fmtMoney(m.spend_per_min) },
  ];
}

/** The graph rows and table rows the body gets at a given size (graphs only on the overview). */
export function bodyLayout(view: TopState['view'], width: number, height: number) {
  if (view !== 'overview' || height < 10) return { graphs: 0, side: false, table: height };
  if (width >= 120) {
    const graphs = Math.min(14, Math.max(3, Math.floor(height * 0.5)));
    return { graphs, side: true, table: height - graphs };
  }
  const each = Math.min(12, Math.max(2, Math.floor((height - Math.max(6, Math.floor(height * 0.35))) / 3)));
  return { graphs: each * 3, side: false, table: height - each * 3 };
}

function lastN<T>(values: readonly T[], n: number): readonly T[] {
  return values.length > n ? values.slice(values.length - n) : values;
}

function Graphs(props: DashboardProps & { rows: number; side: boolean }) {
  const { snapshot: s, state, width, theme } = props;
  const n = state.windowS;
  const ins = lastN(s.series.input_tokens, n);
  const outs = lastN(s.series.output_tokens, ins.length);
  const tokens = ins.map((v, i) => v + (outs[i] ?? 0));
  const gw = props.side ? Math.floor((width - 2) / 3) : width;
  const gh = props.side ? props.rows : Math.floor(props.rows / 3);
  const graphs = [
    <LineGraph
      key="rps"
      title={`req/s ${n / 60}m`}
      values={lastN(s.series.requests, n)}
      format={fmtCount}
      width={gw}
      height={gh}
      theme={theme}
      color={theme.accent}
    />,
    <LineGraph
      key="tok"
      title="tokens/s"
      detail={`in ${fmtCount(s.summary.tokens_in_per_s)} out ${fmtCount(s.summary.tokens_out_per_s)}`}
      values={tokens}
      format={fmtCount}
      width={gw}
      height={gh}
      theme={theme}
      color={theme.good}
    />,
    <LineGraph
      key="lat"
      title="p50 latency"
      detail={`p99 ${fmtMs(s.summary.p99_ms)}`}
      values={lastN(s.series.p50_ms, n)}
      format={fmtMs}
      width={gw}
      height={gh}
      theme={theme}
      color={theme.warn}
    />,
  ];
  return (
    <Box flexDirection={props.side ? 'row' : 'column'} height={props.rows} columnGap={props.side ? 1 : 0}>
      {graphs}
    </Box>
  );
}

function Table(props: DashboardProps & { rows: number }) {
  const { snapshot: s, state, width, theme } = props;
  const common = {
    width,
    height: props.rows,
    theme,
    selected: state.selected,
    rowKey: (r: { id: string }) => r.id,
  };
  const empty = state.filter ? `nothing matches "${state.filter}"` : 'no traffic in the window';
  if (state.view === 'models') {
    return (
      <DataTable
        {...common}
        columns={MODEL_COLUMNS}
        rows={arrange(s.models, state.sort, state.descending, state.filter)}
        empty={empty}
      />
    );
  }
  if (state.view === 'keys') {
    return (
      <DataTable
        {...common}
        columns={KEY_COLUMNS}
        rows={arrange(s.keys, state.sort, state.descending, state.filter)}
        empty={empty}
      />
    );
  }
  if (state.view === 'users') {
    return (
      <DataTable
        {...common}
        columns={userColumns(props.balances ?? null)}
        rows={arrange(viewRows(s, 'users'), state.sort, state.descending, state.filter)}
        empty={state.filter ? empty : 'no requests by users in the window'}
      />
    );
  }
  const channels = arrange(s.channels, state.sort, state.descending, state.filter);
  return (
    <DataTable
      {...common}
      columns={CHANNEL_COLUMNS}
      rows={channels}
      empty={state.filter ? empty : 'no channels configured'}
    />
  );
}

export function Dashboard(props: DashboardProps) {
  const figures = summaryFigures(props.snapshot);
  const summaryRows = wrapFigures(figures, props.width).length;
  const body = Math.max(0, props.height - summaryRows);
  const layout = bodyLayout(props.state.view, props.width, body);
  return (
    <Box flexDirection="column" height={props.height} width={props.width}>
      <SummaryBar figures={figures} width={props.width} theme={props.theme} />
      {layout.graphs > 0 ? <Graphs {...props} rows={layout.graphs} side={layout.side} /> : null}
      {layout.table > 0 ? <Table {...props} rows={layout.table} /> : null}
    </Box>
  );
}

/** A placeholder body of the same height while no snapshot has arrived. */
export function Waiting(props: { readonly height: number; readonly text: string; readonly theme: Theme }) {
  return (
    <Box height={props.height} flexDirection="column">
      <Text color={props.theme.muted}>{props.text}</Text>
    </Box>
  );
}
