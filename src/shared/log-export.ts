/**
 * `bc logs export` (issue 18): the request log between two times as one stream, for a warehouse
 * or a spreadsheet. The daemon answers `GET /v1/logs/export` with one log row per line (NDJSON,
 * the fields `bc logs --json` prints, SPEC section 12), oldest first, read from the store a page
 * at a time, and ends with a trailer line `{"end":{"rows":N}}`; a stream without it was cut
 * short. An error after the rows began is a last line `{"error":{"code","message"}}`. Rows are
 * the lines with a `request_id` (a row's own `error` is the failed request's).
 */
import type { LogRow } from './control-api.js';

/** The query of an export: `bc logs`' filters and a window [since, until). */
export interface LogExportQuery {
  key?: string;
  user?: string;
  model?: string;
  channel?: string;
  errors?: boolean;
  /** ISO 8601 or a duration back from now (24h); default: the oldest row */
  since?: string;
  /** ISO 8601 or a duration back from now; default: when the export starts */
  until?: string;
}

/** Where a page ends: the next one starts after this (time, id). */
export interface LogCursor {
  time: string;
  id: number;
}

/** The last line of a complete export. */
export interface LogExportEnd {
  end: { rows: number };
}

/** The CSV columns, in order: SPEC section 12's log row, then the fields that followed. */
export const LOG_EXPORT_FIELDS: readonly (keyof LogRow)[] = [
  'id',
  'request_id',
  'time',
  'key',
  'channel',
  'model',
  'upstream_model',
  'endpoint',
  'status',
  'error',
  'input_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cost',
  'usage_estimated',
  'latency_ms',
  'ttft_ms',
  'retries',
  'stream',
  'dropped_fields',
  'key_id',
  'channel_id',
  'max_tokens_clamped',
];
