/**
 * BurnCloud's own small price supplement, `data/prices.json`: rows for models the catalog package
 * does not list (Qwen on DashScope), each dated by the file's `as_of`, and output limits for models
 * that no maintained package lists. The catalog wins wherever it has the model; `bc price set`
 * wins over both. Prices become integer micro-USD through decimal string parsing, so 0.075 is
 * exactly 75000 with no float drift. A malformed file is a packaging bug, reported as a start-up
 * failure naming the model and field.
 */
import fs from 'node:fs';
import { BcError } from '../../shared/errors.js';
import { parseUsd } from '../../shared/money.js';
import type { PriceRecord } from '../store/types.js';

// the same relative path reaches data/ from src/daemon/pricing/ and from dist/daemon/pricing/
const PRICES_URL = new URL('../../../data/prices.json', import.meta.url);

export interface Supplement {
  asOf: string;
  rows: PriceRecord[];
  /** model -> output-token limit, for models no maintained package lists */
  outputLimits: Map<string, number>;
}

let loaded: Supplement | undefined;

/** The shipped supplement, read once per process. */
export function supplement(): Supplement {
  loaded ??= loadSupplement();
  return loaded;
}

export function loadSupplement(): Supplement {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(PRICES_URL, 'utf8'));
  } catch (e) {
    throw invalid(`cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseSupplement(raw);
}

/** Validates the parsed file; exported so tests can feed it broken tables. */
export function parseSupplement(raw: unknown): Supplement {
  if (!isObject(raw)) throw invalid('expected a JSON object');
  const asOf = raw.as_of;
  if (typeof asOf !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(asOf))
    throw invalid('"as_of" must be YYYY-MM-DD');
  const models = raw.models;
  if (!isObject(models)) throw invalid('"models" must be an object keyed by model name');
  const rows = Object.entries(models).map(([model, entry]) => priceRow(model, entry, asOf));
  const limits = raw.output_limits ?? {};
  if (!isObject(limits)) throw invalid('"output_limits" must be an object keyed by model name');
  const outputLimits = new Map<string, number>();
  for (const [model, v] of Object.entries(limits)) {
    const n = maxTokens(model, v);
    if (n === null) throw invalid(`model "${model}": "output_limits" values must be positive integers`);
    outputLimits.set(model, n);
  }
  return { asOf, rows, outputLimits };
}

function priceRow(model: string, entry: unknown, asOf: string): PriceRecord {
  if (!isObject(entry)) throw invalid(`model "${model}" must be an object`);
  return {
    model,
    input: usdPerMillion(model, entry, 'input', true) ?? 0,
    output: usdPerMillion(model, entry, 'output', true) ?? 0,
    cacheRead: usdPerMillion(model, entry, 'cache_read', false),
    cacheWrite: usdPerMillion(model, entry, 'cache_write', false),
    perRequest: usdPerMillion(model, entry, 'per_request', false),
    maxOutputTokens: maxTokens(model, entry.max_output_tokens),
    source: `supplement@${asOf}`,
  };
}

function usdPerMillion(
  model: string,
  entry: Record<string, unknown>,
  field: string,
  required: boolean,
): number | null {
  const v = entry[field];
  if (v === undefined || v === null) {
    if (required) throw invalid(`model "${model}": "${field}" is required`);
    return null;
  }
  // String(0.075) is "0.075"; anything finer than a micro-dollar prints in exponent form and fails
  const micro = typeof v === 'number' && v >= 0 ? parseUsd(String(v)) : undefined;
  if (micro === undefined) {
    throw invalid(`model "${model}": "${field}" must be a non-negative USD amount with at most 6 decimals`);
  }
  return micro;
}

function maxTokens(model: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw invalid(`model "${model}": "max_output_tokens" must be a positive integer or null`);
  }
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(reason: string): BcError {
  return new BcError('STARTUP_FAILED', `price supplement data/prices.json is invalid: ${reason}`);
}
