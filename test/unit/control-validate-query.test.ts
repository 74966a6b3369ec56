import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { sinceTime, validateLogQuery, validateUsageQuery } from '../../src/daemon/control/validate-query.js';

function param(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BcError);
    expect((e as BcError).status).toBe(400);
    return (e as BcError).param;
  }
  throw new Error('expected a validation error');
}

describe('validateLogQuery', () => {
  it('defaults to the newest 100 rows', () => {
    expect(validateLogQuery({})).toEqual({ limit: 100 });
    expect(validateLogQuery(undefined)).toEqual({ limit: 100 });
  });

  it('reads every filter', () => {
    expect(
      validateLogQuery({
        key: 'app',
        model: 'gpt-4o',
        channel: '3',
        errors: '1',
        limit: '5',
        after_id: '40',
        since: '2026-01-01T00:00:00Z',
      }),
    ).toEqual({
      key: 'app',
      model: 'gpt-4o',
      channel: '3',
      errors: true,
      limit: 5,
      after_id: 40,
      since: '2026-01-01T00:00:00.000Z',
    });
    expect(validateLogQuery({ errors: 'false' }).errors).toBe(false);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '10001' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ after_id: '-1' }, 'after_id'],
    [{ errors: 'maybe' }, 'errors'],
    [{ since: 'yesterday' }, 'since'],
    [{ model: ['a', 'b'] }, 'model'],
    [{ keyy: 'x' }, 'keyy'],
  ])('rejects %o naming %s', (q, name) => {
    expect(param(() => validateLogQuery(q))).toBe(name);
  });
});

describe('validateUsageQuery', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');

  it('defaults to by=model over the last 24 hours', () => {
    expect(validateUsageQuery({}, now)).toEqual({ by: 'model', since: '2026-05-31T12:00:00.000Z' });
  });

  it('takes a dimension and an ISO time or a duration', () => {
    expect(validateUsageQuery({ by: 'key', since: '2026-05-01' }, now)).toEqual({
      by: 'key',
      since: '2026-05-01T00:00:00.000Z',
    });
    expect(validateUsageQuery({ by: 'channel', since: '90m' }, now).since).toBe('2026-06-01T10:30:00.000Z');
    expect(sinceTime('7d', now)).toBe('2026-05-25T12:00:00.000Z');
  });

  it('rejects an unknown dimension or time', () => {
    expect(param(() => validateUsageQuery({ by: 'tenant' }, now))).toBe('by');
    expect(param(() => validateUsageQuery({ since: 'soon' }, now))).toBe('since');
  });
});
