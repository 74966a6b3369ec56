/**
 * The metrics module's public face: the daemon builds one Metrics with createMetrics() and hands
 * it to the relay (as its MetricsRecorder), the control routes (snapshots) and `GET /metrics`.
 */
export { createMetrics } from './metrics.js';
export type { Metrics, MetricsOptions } from './metrics.js';
export { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
export { ERROR_CATEGORIES, NO_KEY, OTHER } from './state.js';
export type { ChannelHealth, MetricsRecorder, RequestSample } from './types.js';
export { isMetricsDigest, type MetricsDigest } from './digest.js';
export { TransportStats } from './transport.js';
