import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_READS,
  DEFAULT_MAX_CONNECTIONS,
  intakeOptionsFromEnv,
  parseDurationMs,
} from '../../src/daemon/gateway/intake/intake-env.js';

describe('BC_BODY_TIMEOUT and the door caps from the environment', () => {
  it('takes 30s, 500ms, 2m, 1h and plain milliseconds', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('1500')).toBe(1500);
    expect(parseDurationMs(' 1.5s ')).toBe(1500);
    for (const bad of ['', 'abc', '30 seconds', '-5s', '5d', 's'])
      expect(parseDurationMs(bad)).toBeUndefined();
  });

  it('defaults to 30 s, 4096 connections and 64 bodies', () => {
    expect(intakeOptionsFromEnv({})).toEqual({
      bodyTimeoutMs: DEFAULT_BODY_TIMEOUT_MS,
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      maxBodyReads: DEFAULT_MAX_BODY_READS,
      trustedProxies: [],
    });
    expect([DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_BODY_READS]).toEqual([
      30_000, 4096, 64,
    ]);
    expect(
      intakeOptionsFromEnv({ BC_BODY_TIMEOUT: '750ms', BC_MAX_CONNECTIONS: '10', BC_MAX_BODY_READS: '2' }),
    ).toEqual({ bodyTimeoutMs: 750, maxConnections: 10, maxBodyReads: 2, trustedProxies: [] });
  });

  it('refuses what is not a positive value, naming the variable', () => {
    expect(() => intakeOptionsFromEnv({ BC_BODY_TIMEOUT: 'soon' })).toThrow(/BC_BODY_TIMEOUT .*30s, 500ms/);
    expect(() => intakeOptionsFromEnv({ BC_BODY_TIMEOUT: '0' })).toThrow(/BC_BODY_TIMEOUT/);
    expect(() => intakeOptionsFromEnv({ BC_MAX_CONNECTIONS: '0' })).toThrow(
      /BC_MAX_CONNECTIONS must be a positive integer/,
    );
    expect(() => intakeOptionsFromEnv({ BC_MAX_BODY_READS: '1.5' })).toThrow(/BC_MAX_BODY_READS/);
  });
});
