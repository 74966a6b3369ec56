/**
 * The gateway door's settings from the environment: how long a request may take to arrive
 * (BC_BODY_TIMEOUT: `30s`, `500ms`, `2m` or a plain number of milliseconds), how many client
 * connections are held at once (BC_MAX_CONNECTIONS) and how many request bodies are received at
 * once (BC_MAX_BODY_READS). A bad value stops startup with a line that names the variable.
 */
import { BcError } from '../../../shared/errors.js';

export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/**
 * Streams hold their connection for as long as they run, so this is sized for thousands of
 * concurrent streams on one node while still bounding what idle or hostile sockets can hold.
 */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/**
 * Bodies of authenticated requests arrive in a few milliseconds on a good link; this many slow
 * ones at once (each up to the body limit) is what a node agrees to buffer, the rest wait.
 */
export const DEFAULT_MAX_BODY_READS = 64;

export interface IntakeOptions {
  bodyTimeoutMs: number;
  maxConnections: number;
  maxBodyReads: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `500ms`, `2m`, `1h`, or a plain number of milliseconds -> ms; undefined when neither. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[(m[2] ?? 'ms').toLowerCase()] ?? Number.NaN);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

function positiveDuration(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const ms = parseDurationMs(v);
  if (ms === undefined || ms < 1) {
    throw new BcError(
      'STARTUP_FAILED',
      `${name} must be a positive duration such as 30s, 500ms or 2m (a plain number is milliseconds), got "${v}"`,
    );
  }
  return ms;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new BcError('STARTUP_FAILED', `${name} must be a positive integer, got "${v}"`);
  return n;
}

export function intakeOptionsFromEnv(env: NodeJS.ProcessEnv): IntakeOptions {
  return {
    bodyTimeoutMs: positiveDuration(env, 'BC_BODY_TIMEOUT', DEFAULT_BODY_TIMEOUT_MS),
    maxConnections: positiveInt(env, 'BC_MAX_CONNECTIONS', DEFAULT_MAX_CONNECTIONS),
    maxBodyReads: positiveInt(env, 'BC_MAX_BODY_READS', DEFAULT_MAX_BODY_READS),
  };
}
