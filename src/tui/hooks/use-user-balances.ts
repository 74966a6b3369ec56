/**
 * The users' balances for the users view of `bc top`: the live stream carries traffic by user but
 * not money held, so the user list is asked for on its own, every few seconds (never per frame)
 * and only while the view is shown. A client without user routes, or a failed call, leaves the
 * last answer in place (or none): the column then shows "-" rather than a guess.
 */
import { useEffect, useState } from 'react';
import type { UserBalanceSource } from '../client.js';

/** user id (as the metrics rows spell it) -> micro-USD balance, null = unmetered */
export type Balances = ReadonlyMap<string, number | null>;

export const BALANCE_POLL_MS = 5000;

export function useUserBalances(
  client: Partial<UserBalanceSource>,
  active: boolean,
  intervalMs = BALANCE_POLL_MS,
): Balances | null {
  const [balances, setBalances] = useState<Balances | null>(null);
  const users = client.users;
  useEffect(() => {
    if (!active || !users) return;
    let alive = true;
    const load = (): void => {
      users.list().then(
        (list) => {
          if (alive) setBalances(new Map(list.map((u) => [String(u.id), u.balance])));
        },
        () => undefined,
      );
    };
    load();
    const t = setInterval(load, intervalMs);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [users, active, intervalMs]);
  return balances;
}
