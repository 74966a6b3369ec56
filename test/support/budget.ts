/**
 * What the budget tests share against an in-process gateway: keys with a budget, a JSON POST that
 * keeps status, headers and body, a key's rows and spend, the body a simulator last received, and
 * the check every money test ends with (spend equals the sum of the rows and stays within budget).
 * The gateway is passed as a getter because tests start it in `beforeAll`.
 */
import { expect } from 'vitest';
import type { TestGateway } from './gateway.js';
import type { KeyView, LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

export interface Answer {
  status: number;
  headers: Headers;
  body: Json & { error?: { code?: string; message: string; status?: string } };
}

/** The JSON body the simulator received last. */
export const lastBody = (sim: { calls: { body: Buffer }[] }): Json =>
  JSON.parse(sim.calls.at(-1)!.body.toString()) as Json;

export function budgetHelpers(gateway: () => TestGateway, prefix: string) {
  let keys = 0;
  const rowsOf = (name: string): Promise<LogRow[]> =>
    gateway().call<LogRow[]>('GET', `/v1/logs?key=${name}&limit=1000`);
  const spentOf = async (name: string): Promise<number> =>
    (await gateway().call<KeyView>('GET', `/v1/keys/${name}`)).spent;
  return {
    /** a new key (named `<prefix>-N`) with this budget in micro-USD, null for none */
    key: async (budget: number | null): Promise<{ name: string; secret: string }> => {
      const name = `${prefix}-${++keys}`;
      return { name, secret: await gateway().createKey({ name, budget }) };
    },
    /** POSTs `body` (a JSON string as is); a body that is not JSON comes back as `{text}` */
    post: async (path: string, secret: string, body: string | Json): Promise<Answer> => {
      const res = await fetch(`${gateway().url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const parsed = (res.headers.get('content-type') ?? '').includes('json')
        ? (JSON.parse(text) as Json)
        : { text };
      return { status: res.status, headers: res.headers, body: parsed };
    },
    rowsOf,
    spentOf,
    /** The spend equals the sum of the rows' costs and stays within the budget; returns the rows. */
    expectWithin: async (name: string, budget: number): Promise<LogRow[]> => {
      const rows = await rowsOf(name);
      const spent = await spentOf(name);
      expect(rows.reduce((n, r) => n + (r.cost ?? 0), 0)).toBe(spent);
      expect(spent).toBeLessThanOrEqual(budget);
      return rows;
    },
  };
}
