/**
 * Loads a list from the daemon and keeps it fresh: on mount, on reload() (after an action), and
 * every `intervalMs` so changes made from another terminal show up. A failed load keeps the last
 * good data and reports the error.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../client.js';

export interface Resource<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

export function useResource<T>(load: () => Promise<T>, intervalMs = 2000): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const alive = useRef(true);

  const reload = useCallback(() => {
    loadRef.current().then(
      (d) => {
        if (!alive.current) return;
        setData(d);
        setError(null);
      },
      (err: unknown) => {
        if (alive.current) setError(errorText(err));
      },
    );
  }, []);

  useEffect(() => {
    alive.current = true;
    reload();
    const t = setInterval(reload, intervalMs);
    return () => {
      alive.current = false;
      clearInterval(t);
    };
  }, [reload, intervalMs]);

  return { data, error, reload };
}
