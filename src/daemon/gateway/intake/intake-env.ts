/**
 * The gateway door's settings from the environment: how long a request may take to arrive
 * (BC_BODY_TIMEOUT: `30s`, `500ms`, `2m` or a plain number of milliseconds), how many client
 * connections are held at once (BC_MAX_CONNECTIONS), how many request bodies are received at
 * once (BC_MAX_BODY_READS), and which reverse proxies may name the client (BC_TRUST_PROXY). A bad value stops startup with a line that names the variable.
 */
import { BcError } from '../../../shared/errors.js';
import { parseCidr, type Cidr } from './cidr.js';

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
  /** reverse proxies whose X-Forwarded-For names the client (BC_TRUST_PROXY); none by default */
  trustedProxies: readonly Cidr[];
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

/** `10.0.0.0/8, 127.0.0.1` or `loopback`: the addresses of trusted reverse proxies. */
export function parseTrustedProxies(text: string | undefined): Cidr[] {
  if (text === undefined || text.trim() === '') return [];
  const out: Cidr[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const items = part.toLowerCase() === 'loopback' ? ['127.0.0.0/8', '::1/128'] : [part];
    for (const item of items) {
      try {
        out.push(parseCidr(item));
      } catch {
        throw new BcError(
          'STARTUP_FAILED',
          `BC_TRUST_PROXY must list proxy addresses or CIDR blocks (or loopback), comma-separated, got "${part}"`,
        );
      }
    }
  }
  return out;
}

export function intakeOptionsFromEnv(env: NodeJS.ProcessEnv): IntakeOptions {
  return {
    bodyTimeoutMs: positiveDuration(env, 'BC_BODY_TIMEOUT', DEFAULT_BODY_TIMEOUT_MS),
    maxConnections: positiveInt(env, 'BC_MAX_CONNECTIONS', DEFAULT_MAX_CONNECTIONS),
    maxBodyReads: positiveInt(env, 'BC_MAX_BODY_READS', DEFAULT_MAX_BODY_READS),
    trustedProxies: parseTrustedProxies(env.BC_TRUST_PROXY),
  };
}
