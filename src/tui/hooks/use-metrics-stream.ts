/**
 * React face of followMetrics: the latest snapshot and the connection state, for as long as the
 * component is mounted. Unmounting aborts the stream (and any wait between reconnects).
 */
import { useEffect, useState } from 'react';
import type { MetricsSnapshot } from '../../shared/metrics-types.js';
import type { MetricsSource } from '../client.js';
import { followMetrics, type Connection, type FollowOptions } from './follow-metrics.js';

export interface MetricsStreamState {
  snapshot: MetricsSnapshot | null;
  connection: Connection;
  /** why the last connection ended, while reconnecting */
  reason: string | null;
}

export function useMetricsStream(source: MetricsSource, opts?: FollowOptions): MetricsStreamState {
  const [state, setState] = useState<MetricsStreamState>({
    snapshot: null,
    connection: 'connecting',
    reason: null,
  });
  useEffect(() => {
    const ac = new AbortController();
    void followMetrics(
      source,
      {
        snapshot: (snapshot) => setState({ snapshot, connection: 'live', reason: null }),
        connection: (connection, reason) => setState((prev) => ({ ...prev, connection, reason })),
      },
      ac.signal,
      opts,
    );
    return () => ac.abort();
    // options are read once per source: a new object each render must not restart the stream
  }, [source]);
  return state;
}
