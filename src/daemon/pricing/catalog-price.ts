/**
 * A catalog model's price as BurnCloud bills it: the catalog's price in force at a given time
 * (dated prices by start date, peak and off-peak prices by time of day), its text-token units
 * in integer micro-USD per 1M tokens, and its long-context tiers. The catalog writes prices as
 * JavaScript numbers; each is turned into micro-USD through its decimal digits (0.075 is
 * exactly 75000), rounding half up past the sixth decimal (a few resellers' prices such as
 * 0.08333333333333334 USD per 1M), so no float arithmetic ever touches money. Units the gateway
 * does not meter (audio, images, web searches, one-hour cache writes) are left out.
 */
import type { ConditionalPrice, ModelInfo, ModelPrice } from '@pydantic/genai-prices';
import type { PriceRecord, PriceTier } from '../store/types.js';

/** A price and the instant (ms) until which it stays the price in force. */
export interface PriceAt {
  price: Omit<PriceRecord, 'model' | 'maxOutputTokens' | 'source'>;
  until: number;
}

type Tiered = { base: number; tiers: { start: number; price: number }[] };
type Value = number | Tiered;

const DAY_MS = 86_400_000;

/** The model's price at `now`, or undefined when it prices no text tokens. */
export function catalogPriceAt(model: ModelInfo, now: number): PriceAt | undefined {
  const prices = Array.isArray(model.prices) ? chooseDated(model.prices, now) : model.prices;
  const until = Array.isArray(model.prices) ? nextChange(model.prices, now) : Infinity;
  const keys = Object.keys(prices).filter((k) => prices[k] !== undefined);
  const text = ['input_mtok', 'output_mtok', 'cache_read_mtok', 'cache_write_mtok'];
  // a model listed with no prices at all is free; one with only other units is not ours to bill
  if (keys.length > 0 && !keys.some((k) => text.includes(k))) return undefined;
  const v = (k: string) => prices[k];
  const base = (x: Value | undefined) =>
    x === undefined ? null : usdToMicro(typeof x === 'number' ? x : x.base);
  return {
    price: {
      input: base(v('input_mtok')) ?? 0,
      output: base(v('output_mtok')) ?? 0,
      cacheRead: base(v('cache_read_mtok')),
      cacheWrite: base(v('cache_write_mtok')),
      perRequest: null,
      tiers: tiersOf(v('input_mtok'), v('output_mtok'), v('cache_read_mtok'), v('cache_write_mtok')),
    },
    until,
  };
}

/** The catalog's own rule: the last entry whose constraint holds, else the first. */
function chooseDated(entries: ConditionalPrice[], now: number): ModelPrice {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    const c = e.constraint;
    if (c === undefined) return e.prices;
    if (c.type === 'start_date' && now >= Date.parse(c.start_date)) return e.prices;
    if (c.type === 'time_of_date' && inWindow(now, c.start_time, c.end_time)) return e.prices;
  }
  return entries[0]!.prices;
}

/** The next instant any constraint of the model starts or stops holding. */
function nextChange(entries: ConditionalPrice[], now: number): number {
  let next = Infinity;
  for (const { constraint: c } of entries) {
    if (c === undefined) continue;
    if (c.type === 'start_date') {
      const t = Date.parse(c.start_date);
      if (t > now) next = Math.min(next, t);
    } else {
      next = Math.min(next, nextTimeOfDay(now, c.start_time), nextTimeOfDay(now, c.end_time));
    }
  }
  return next;
}

function inWindow(now: number, start: string, end: string): boolean {
  const t = (now % DAY_MS) / 1000;
  const s = secondOfDay(start);
  const e = secondOfDay(end);
  return e < s ? t >= s || t < e : t >= s && t < e;
}

function nextTimeOfDay(now: number, time: string): number {
  const at = Math.floor(now / DAY_MS) * DAY_MS + secondOfDay(time) * 1000;
  return at > now ? at : at + DAY_MS;
}

/** "00:30:00Z" or "08:00:00+08:00" -> seconds after midnight UTC. */
export function secondOfDay(time: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/.exec(time);
  if (!m) throw new Error(`price catalog: invalid time of day "${time}"`);
  const offset = m[4] === 'Z' ? 0 : (m[5] === '+' ? 1 : -1) * (Number(m[6]) * 3600 + Number(m[7]) * 60);
  const local = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return (((local - offset) % 86_400) + 86_400) % 86_400;
}

/**
 * The catalog tiers each unit separately; the gateway's tiers are one list of thresholds, each
 * holding every unit's price for requests above it.
 */
function tiersOf(input?: Value, output?: Value, read?: Value, write?: Value): PriceTier[] {
  const units = [input, output, read, write];
  const starts = [
    ...new Set(
      units.flatMap((u) => (u === undefined || typeof u === 'number' ? [] : u.tiers.map((t) => t.start))),
    ),
  ].sort((a, b) => a - b);
  const at = (u: Value | undefined, above: number): number | null => {
    if (u === undefined) return null;
    if (typeof u === 'number') return usdToMicro(u);
    // the unit's tier with the highest start at or below the threshold, else its base
    let best: { start: number; price: number } | undefined;
    for (const t of u.tiers) if (t.start <= above && (!best || t.start > best.start)) best = t;
    return usdToMicro(best ? best.price : u.base);
  };
  return starts.map((above) => ({
    above,
    input: at(input, above) ?? 0,
    output: at(output, above) ?? 0,
    cacheRead: at(read, above),
    cacheWrite: at(write, above),
  }));
}

/** USD (as the catalog writes it) -> integer micro-USD through its decimal digits, half up. */
export function usdToMicro(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0) throw new Error(`price catalog: invalid price ${usd}`);
  // String() gives the shortest digits that read back as the same number: what the catalog wrote
  const text = /e/i.test(String(usd)) ? usd.toFixed(7) : String(usd);
  const [whole = '0', frac = ''] = text.split('.');
  const micro = Number(whole) * 1_000_000 + Number(frac.slice(0, 6).padEnd(6, '0'));
  return micro + (Number(frac.charAt(6) || '0') >= 5 ? 1 : 0);
}
