/**
 * The shape shared by the recorder (metrics.ts) and its two readers (snapshot.ts, prometheus.ts):
 * the series and Prometheus cells, and the fixed label vocabularies that keep both bounded.
 */
import type { PromCell } from './prom-cell.js';
import type { Series } from './series.js';
import type { TransportStats } from './transport.js';

/** Error categories counted separately; anything else (or an error status without one) is `other`. */
export const ERROR_CATEGORIES = [
  'auth',
  'quota',
  'rate_limit',
  'bad_request',
  'not_found',
  'conflict',
  'upstream',
  'upstream_auth',
  'upstream_rejected',
  'timeout',
  'client_abort',
  'internal',
  'other',
] as const;

/** the shared series of models, keys or users beyond the cap */
export const OTHER = 'other';
/** the key series of requests that carried no key */
export const NO_KEY = -1;

export interface MetricsState {
  readonly now: () => number;
  readonly windowS: number;
  readonly overall: Series;
  readonly models: Map<string, Series>;
  readonly keys: Map<number, Series>;
  /** by user id; requests of operator keys (no user) have no user series */
  readonly users: Map<number, Series>;
  readonly channels: Map<number, Series>;
  /** model label -> channel id (-1 none) -> cell */
  readonly cells: Map<string, Map<number, PromCell>>;
  otherModel: Series | null;
  otherKey: Series | null;
  otherUser: Series | null;
  /** the gateway's door: connections, body reads, timeouts, early 401s */
  readonly transport: TransportStats;
  /** moves every series to second `s` */
  advanceAll(s: number): void;
}
