/**
 * Prometheus text exposition (format 0.0.4) of the cumulative counters kept per (model, channel)
 * cell, the in-flight gauges, the channels' routing health and the gateway's door (connections,
 * body reads, timeouts). Each family is written once with
 * its HELP and TYPE lines and its series in a stable order, so scrapes diff cleanly.
 */
import type { ChannelHealth } from './types.js';
import type { Histogram, PromCell } from './prom-cell.js';
import type { MetricsState } from './state.js';
import { OTHER } from './state.js';
import { TRANSPORT_FAMILIES, type TransportStats } from './transport.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function num(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

class Writer {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, pairs: readonly (readonly [string, string])[], value: number): void {
    this.lines.push(`${name}${labels(pairs)} ${num(value)}`);
  }

  histogram(name: string, pairs: readonly (readonly [string, string])[], h: Histogram): void {
    let cumulative = 0;
    for (let i = 0; i <= h.bounds.length; i++) {
      cumulative += h.counts[i] ?? 0;
      const le = i < h.bounds.length ? num(h.bounds[i] ?? Infinity) : '+Inf';
      this.sample(`${name}_bucket`, [...pairs, ['le', le]], cumulative);
    }
    this.sample(`${name}_sum`, pairs, h.sum);
    this.sample(`${name}_count`, pairs, h.count);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function sortedCells(state: MetricsState): PromCell[] {
  const cells: PromCell[] = [];
  for (const byChannel of state.cells.values()) for (const cell of byChannel.values()) cells.push(cell);
  return cells.sort((a, b) => a.model.localeCompare(b.model) || a.channel.localeCompare(b.channel));
}

function writeCells(w: Writer, cells: PromCell[]): void {
  const mc = (c: PromCell) => [['model', c.model] as const, ['channel', c.channel] as const];
  w.family(
    'bc_requests_total',
    'counter',
    'Requests finished, by requested model, answering channel and HTTP status.',
  );
  for (const c of cells) {
    const statuses = [...c.statuses.entries()].sort((a, b) => a[0] - b[0]);
    for (const [status, n] of statuses)
      w.sample('bc_requests_total', [...mc(c), ['status', String(status)]], n);
  }
  w.family('bc_request_errors_total', 'counter', 'Failed requests, by model, channel and error category.');
  for (const c of cells) {
    const errors = [...c.errors.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    for (const [category, n] of errors)
      w.sample('bc_request_errors_total', [...mc(c), ['category', category]], n);
  }
  w.family(
    'bc_tokens_total',
    'counter',
    'Tokens metered, by model, channel and direction (input or output).',
  );
  for (const c of cells) {
    w.sample('bc_tokens_total', [...mc(c), ['type', 'input']], c.inputTokens);
    w.sample('bc_tokens_total', [...mc(c), ['type', 'output']], c.outputTokens);
  }
  w.family(
    'bc_cost_usd_total',
    'counter',
    'Money charged in USD, by model and channel (unpriced requests add nothing).',
  );
  for (const c of cells) w.sample('bc_cost_usd_total', mc(c), c.cost / 1_000_000);
  w.family('bc_request_duration_seconds', 'histogram', 'Request duration as the client saw it, in seconds.');
  for (const c of cells) w.histogram('bc_request_duration_seconds', mc(c), c.duration);
  w.family('bc_ttft_seconds', 'histogram', 'Time to the first token sent to the client, in seconds.');
  for (const c of cells) w.histogram('bc_ttft_seconds', mc(c), c.ttft);
}

function writeGauges(w: Writer, state: MetricsState, health: ChannelHealth[], nowMs: number): void {
  w.family('bc_inflight_requests', 'gauge', 'Requests in flight, by requested model.');
  const models = [...state.models.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  for (const [model, s] of models) w.sample('bc_inflight_requests', [['model', model]], s.inflight);
  if (state.otherModel) w.sample('bc_inflight_requests', [['model', OTHER]], state.otherModel.inflight);

  const channels = [...health].sort((a, b) => a.name.localeCompare(b.name));
  w.family('bc_channel_up', 'gauge', '1 when the channel is enabled and not cooling down, else 0.');
  for (const h of channels) {
    const cooling = h.cooldownUntil !== null && Date.parse(h.cooldownUntil) > nowMs;
    w.sample(
      'bc_channel_up',
      [
        ['channel', h.name],
        ['type', h.type],
      ],
      h.status === 'enabled' && !cooling ? 1 : 0,
    );
  }
  w.family('bc_channel_cooldown_seconds', 'gauge', 'Seconds of cooldown the channel has left, 0 when none.');
  for (const h of channels) {
    const until = h.cooldownUntil === null ? NaN : Date.parse(h.cooldownUntil);
    const left = Number.isFinite(until) && until > nowMs ? Math.ceil((until - nowMs) / 1000) : 0;
    w.sample('bc_channel_cooldown_seconds', [['channel', h.name]], left);
  }
  w.family('bc_channel_inflight_attempts', 'gauge', 'Upstream attempts in flight, by channel.');
  for (const h of channels) {
    w.sample('bc_channel_inflight_attempts', [['channel', h.name]], state.channels.get(h.id)?.inflight ?? 0);
  }
}

function writeTransport(w: Writer, t: TransportStats): void {
  for (const [name, type, help, value] of TRANSPORT_FAMILIES) {
    w.family(name, type, help);
    w.sample(name, [], value(t));
  }
}

export function renderPrometheus(state: MetricsState, health: ChannelHealth[]): string {
  const w = new Writer();
  writeCells(w, sortedCells(state));
  writeGauges(w, state, health, state.now());
  writeTransport(w, state.transport);
  return w.text();
}
