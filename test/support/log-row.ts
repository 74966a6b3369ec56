/**
 * A settled request's log row as the journal and the store take it (a 200 on gpt-4o, 250 in, 12
 * out, 274 micro-USD), for tests of the journal and its replay; `over` changes any field.
 */
import type { NewLogRow } from '../../src/daemon/store/types.js';

export function settledRow(request_id: string, over: Partial<NewLogRow> = {}): NewLogRow {
  return {
    request_id,
    time: '2026-11-26T07:00:00.000Z',
    key: 'app',
    key_id: 1,
    channel: 'sim',
    channel_id: 2,
    model: 'gpt-4o',
    upstream_model: 'gpt-4o-2024-08-06',
    endpoint: '/v1/chat/completions',
    status: 200,
    error: null,
    input_tokens: 250,
    cached_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 12,
    reasoning_tokens: 0,
    cost: 274,
    usage_estimated: false,
    latency_ms: 3,
    ttft_ms: null,
    retries: 0,
    stream: false,
    dropped_fields: [],
    ...over,
  };
}
