/**
 * A live tail of the request log, like `bc logs -f`: the newest rows first, then every second
 * only the rows after the newest one seen (`after_id`), capped in memory. Changing the filters
 * starts over; pausing stops polling and keeps what is shown.
 */
import { useEffect, useRef, useState } from 'react';
import type { LogQuery, LogRow } from '../../shared/control-api.js';
import { errorText, type ManagementClient } from '../client.js';

export interface LogFilters {
  model: string;
  key: string;
  channel: string;
  errors: boolean;
}

export const NO_FILTERS: LogFilters = { model: '', key: '', channel: '', errors: false };

export interface LogTail {
  /** newest first */
  rows: LogRow[];
  error: string | null;
}

export function logQuery(f: LogFilters, afterId: number | null): LogQuery {
  const q: LogQuery = { limit: afterId === null ? 100 : 500 };
  if (f.model) q.model = f.model;
  if (f.key) q.key = f.key;
  if (f.channel) q.channel = f.channel;
  if (f.errors) q.errors = true;
  if (afterId !== null) q.after_id = afterId;
  return q;
}

export function useLogTail(
  client: Pick<ManagementClient, 'logs'>,
  filters: LogFilters,
  paused: boolean,
  opts: { intervalMs?: number; max?: number } = {},
): LogTail {
  const intervalMs = opts.intervalMs ?? 1000;
  const max = opts.max ?? 500;
  // rows are kept with the filters they were fetched for, so a filter change hides them at once
  const [tail, setTail] = useState<{ key: string; rows: LogRow[] }>({ key: '', rows: [] });
  const [error, setError] = useState<string | null>(null);
  const rowsRef = useRef<LogRow[]>([]);
  const filterKey = JSON.stringify(filters);
  const shownKey = useRef(filterKey);

  useEffect(() => {
    if (shownKey.current !== filterKey) {
      shownKey.current = filterKey;
      rowsRef.current = [];
    }
    if (paused) return;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async () => {
      const newest = rowsRef.current[0]?.id ?? null;
      try {
        const got = await client.logs(logQuery(JSON.parse(filterKey) as LogFilters, newest));
        if (stopped) return;
        const fresh = got.filter((r) => newest === null || r.id > newest).sort((a, b) => b.id - a.id);
        if (fresh.length > 0) {
          rowsRef.current = [...fresh, ...rowsRef.current].slice(0, max);
          setTail({ key: filterKey, rows: rowsRef.current });
        }
        setError(null);
      } catch (err) {
        if (!stopped) setError(errorText(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), intervalMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client, filterKey, paused, intervalMs, max]);

  return { rows: tail.key === filterKey ? tail.rows : [], error };
}
