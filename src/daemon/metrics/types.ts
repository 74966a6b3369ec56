/**
 * What the relay tells the metrics module, and what the monitors read back. The relay calls the
 * recorder on the hot path, so each call must cost a few counter updates and no allocation beyond
 * the sample object the relay already builds. Implementation: metrics/ (createMetrics).
 */

/** One finished request, as the relay saw it. */
export interface RequestSample {
  /** the channel that answered (or the last one tried), null when none was tried */
  channelId: number | null;
  channelName: string | null;
  /** the model the client asked for */
  model: string;
  keyId: number | null;
  keyName: string | null;
  /** the user who owns the key; null or absent for an operator's key (no user series then) */
  userId?: number | null;
  userName?: string | null;
  /** the HTTP status the client got (499 when the client went away) */
  status: number;
  /** BcError category or null on success */
  errorCategory: string | null;
  inputTokens: number;
  outputTokens: number;
  /** micro-USD, null when unpriced */
  cost: number | null;
  latencyMs: number;
  ttftMs: number | null;
  stream: boolean;
}

/** The routing state of one channel, as the monitors show it. */
export interface ChannelHealth {
  id: number;
  name: string;
  type: string;
  status: 'enabled' | 'disabled' | 'auto_disabled';
  statusReason: string | null;
  /** ISO time, null when not cooling down */
  cooldownUntil: string | null;
}

export interface MetricsRecorder {
  /** a request passed authentication and is now in flight (`userId`: the key's user, if any) */
  requestStarted(model: string, keyId: number | null, userId?: number | null): void;
  /** an attempt on a channel began / ended (per-channel in-flight) */
  attemptStarted(channelId: number): void;
  attemptEnded(channelId: number): void;
  /** the request is over (success or not); decrements in-flight of requestStarted */
  requestFinished(sample: RequestSample): void;
}
