/**
 * The daemon's live metrics: createMetrics() returns the recorder the relay calls on every request
 * plus the two readers (the JSON snapshot the TUIs stream, and Prometheus text for `GET /metrics`).
 * Series exist overall and per channel, model, key and user (the key's owner; an operator's key
 * has none); a model gets its own series only when the
 * gateway knows it (a channel serves it or a price names it: knowModels), because clients choose
 * model names and any key holder could otherwise fill the slots with junk. Known models, keys and
 * users are also capped; what is unknown or beyond the cap shares an `other` series. Channels are the
 * configured ones and are all kept. The clock is injected so tests can walk through time.
 */
import type { MetricsSnapshot } from '../../shared/metrics-types.js';
import type { ChannelHealth, MetricsRecorder, RequestSample } from './types.js';
import { PromCell } from './prom-cell.js';
import { BASE_FIELDS, F_COST, F_ERR, F_REQ, F_TIN, F_TOUT, Series } from './series.js';
import { buildSnapshot } from './snapshot.js';
import { takeDigest, type MetricsDigest } from './digest.js';
import { mergeDigests } from './digest-view.js';
import { renderPrometheus } from './prometheus.js';
import { ERROR_CATEGORIES, NO_KEY, OTHER, type MetricsState } from './state.js';
import { TransportStats } from './transport.js';

const CATEGORY_INDEX = new Map<string, number>(ERROR_CATEGORIES.map((c, i) => [c, i]));
const OTHER_CATEGORY = ERROR_CATEGORIES.length - 1;

const MAX_MODEL_LENGTH = 200;

export interface MetricsOptions {
  /** ms since the epoch; defaults to Date.now */
  now?: () => number;
  /** seconds of history (>= 60); default 900 */
  windowS?: number;
  /** most distinct models, keys and users tracked (each), beyond which they share `other`; default 100 */
  maxLabels?: number;
}

export interface Metrics extends MetricsRecorder {
  snapshot(health: ChannelHealth[]): MetricsSnapshot;
  /** this node's numbers in the form that merges exactly (digest.ts), named `node` */
  digest(health: ChannelHealth[], node: string): MetricsDigest;
  /** the snapshot of several nodes' digests merged (at least one), on this clock */
  merged(digests: readonly MetricsDigest[]): MetricsSnapshot;
  prometheus(health: ChannelHealth[]): string;
  /** the gateway's door (connections, body reads, timeouts), moved by gateway/intake/intake.ts */
  readonly transport: TransportStats;
  /**
   * Which model names may have a series of their own (the gateway passes "a channel serves it or
   * a price names it"); until called, every model may.
   */
  knowModels(known: (model: string) => boolean): void;
}

/** The series a finished request touches, found (or made) by label with the caps applied. */
class Labels {
  known: (model: string) => boolean = () => true;

  constructor(
    private readonly state: MetricsState,
    private readonly make: (name: string) => Series,
    private readonly maxLabels: number,
  ) {}

  model(model: string, s: number): Series {
    const st = this.state;
    let m = st.models.get(model);
    if (!m) {
      const own = st.models.size < this.maxLabels && model.length <= MAX_MODEL_LENGTH && this.known(model);
      if (!own) m = st.otherModel ??= this.make(OTHER);
      else {
        m = this.make(model);
        st.models.set(model, m);
      }
    }
    m.advance(s);
    return m;
  }

  key(keyId: number | null, s: number): Series {
    const st = this.state;
    const id = keyId ?? NO_KEY;
    let k = st.keys.get(id);
    if (!k) {
      if (st.keys.size >= this.maxLabels) k = st.otherKey ??= this.make(OTHER);
      else {
        k = this.make(id === NO_KEY ? '(none)' : `#${id}`);
        st.keys.set(id, k);
      }
    }
    k.advance(s);
    return k;
  }

  /** the key's user's series; null for an operator's key, which counts toward no user */
  user(userId: number | null | undefined, s: number): Series | null {
    if (userId === null || userId === undefined) return null;
    const st = this.state;
    let u = st.users.get(userId);
    if (!u) {
      if (st.users.size >= this.maxLabels) u = st.otherUser ??= this.make(OTHER);
      else {
        u = this.make(`#${userId}`);
        st.users.set(userId, u);
      }
    }
    u.advance(s);
    return u;
  }

  channel(id: number, s: number): Series {
    let c = this.state.channels.get(id);
    if (!c) {
      c = this.make(`#${id}`);
      this.state.channels.set(id, c);
    }
    c.advance(s);
    return c;
  }

  cell(model: Series, sample: RequestSample): PromCell {
    const cells = this.state.cells;
    let byChannel = cells.get(model.name);
    if (!byChannel) {
      byChannel = new Map();
      cells.set(model.name, byChannel);
    }
    const channelId = sample.channelId ?? -1;
    let cell = byChannel.get(channelId);
    if (!cell) {
      const label = sample.channelName ?? (sample.channelId === null ? 'none' : `#${channelId}`);
      cell = new PromCell(model.name, label);
      byChannel.set(channelId, cell);
    }
    return cell;
  }
}

function record(series: Series, sample: RequestSample, isError: boolean): void {
  series.add(F_REQ, 1);
  if (isError) series.add(F_ERR, 1);
  series.add(F_TIN, sample.inputTokens);
  series.add(F_TOUT, sample.outputTokens);
  if (sample.cost !== null) series.add(F_COST, sample.cost);
  series.observe(sample.latencyMs, sample.ttftMs);
}

function newState(now: () => number, windowS: number, overall: Series): MetricsState {
  const state: MetricsState = {
    now,
    windowS,
    overall,
    transport: new TransportStats(),
    models: new Map(),
    keys: new Map(),
    users: new Map(),
    channels: new Map(),
    cells: new Map(),
    otherModel: null,
    otherKey: null,
    otherUser: null,
    advanceAll(s) {
      state.overall.advance(s);
      for (const m of state.models.values()) m.advance(s);
      for (const k of state.keys.values()) k.advance(s);
      for (const u of state.users.values()) u.advance(s);
      for (const c of state.channels.values()) c.advance(s);
      state.otherModel?.advance(s);
      state.otherKey?.advance(s);
      state.otherUser?.advance(s);
    },
  };
  return state;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const now = opts.now ?? Date.now;
  const windowS = Math.max(60, Math.floor(opts.windowS ?? 900));
  const sec = (): number => Math.floor(now() / 1000);
  const make = (name: string, extra = 0, full = false): Series =>
    new Series(name, { windowS, extraFields: extra, fullHistory: full, now: sec() });
  const state = newState(now, windowS, make('all', ERROR_CATEGORIES.length, true));
  const labels = new Labels(state, make, Math.max(1, Math.floor(opts.maxLabels ?? 100)));

  function finished(sample: RequestSample): void {
    const s = sec();
    const isError = sample.errorCategory !== null || sample.status >= 400;
    const category = isError ? (CATEGORY_INDEX.get(sample.errorCategory ?? OTHER) ?? OTHER_CATEGORY) : -1;
    const overall = state.overall;
    overall.advance(s);
    record(overall, sample, isError);
    if (category >= 0) overall.add(BASE_FIELDS + category, 1);
    overall.ended();
    const model = labels.model(sample.model, s);
    record(model, sample, isError);
    model.ended();
    const key = labels.key(sample.keyId, s);
    if (sample.keyName !== null && key.name !== OTHER) key.name = sample.keyName;
    record(key, sample, isError);
    key.ended();
    const user = labels.user(sample.userId, s);
    if (user) {
      if (sample.userName && user.name !== OTHER) user.name = sample.userName;
      record(user, sample, isError);
      user.ended();
    }
    if (sample.channelId !== null) {
      const channel = labels.channel(sample.channelId, s);
      if (sample.channelName !== null) channel.name = sample.channelName;
      record(channel, sample, isError);
    }
    labels.cell(model, sample).record(sample, category >= 0 ? (ERROR_CATEGORIES[category] ?? OTHER) : null);
  }

  return {
    requestStarted(model, keyId, userId) {
      const s = sec();
      state.overall.advance(s);
      state.overall.started();
      labels.model(model, s).started();
      labels.key(keyId, s).started();
      labels.user(userId, s)?.started();
    },
    attemptStarted: (channelId) => labels.channel(channelId, sec()).started(),
    attemptEnded: (channelId) => labels.channel(channelId, sec()).ended(),
    requestFinished: finished,
    transport: state.transport,
    knowModels(known) {
      labels.known = known;
    },
    snapshot(health) {
      const nowMs = now();
      state.advanceAll(Math.floor(nowMs / 1000));
      return buildSnapshot(state, health, nowMs);
    },
    digest(health, node) {
      const nowMs = now();
      state.advanceAll(Math.floor(nowMs / 1000));
      return takeDigest(state, health, node, nowMs);
    },
    merged(digests) {
      const nowMs = now();
      const { source, health } = mergeDigests(digests, Math.floor(nowMs / 1000));
      return buildSnapshot(source, health, nowMs);
    },
    prometheus(health) {
      state.advanceAll(sec());
      return renderPrometheus(state, health);
    },
  };
}
