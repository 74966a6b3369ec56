import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import {
  DEFAULT_TIMEOUT_MS,
  isBedrockSecret,
  parseRef,
  validateChannelCreate,
  validateChannelEdit,
  validateGroup,
  validateKeyCreate,
  validateKeyEdit,
  validatePrice,
  validateTestBody,
} from '../../src/daemon/control/validate.js';

/** Runs fn, expecting a 400 INVALID_REQUEST naming `param`; returns the message. */
function rejects(fn: () => unknown, param: string | undefined): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BcError);
    const err = e as BcError;
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    if (param !== undefined) expect(err.message.startsWith(param)).toBe(true);
    return err.message;
  }
  throw new Error('expected a validation error');
}

const channel = { name: 'main', type: 'openai', keys: ['sk-abc123456789'], models: ['gpt-4o'] };

describe('validateChannelCreate', () => {
  it('applies the defaults', () => {
    expect(validateChannelCreate(channel)).toEqual({
      name: 'main',
      type: 'openai',
      keys: ['sk-abc123456789'],
      models: ['gpt-4o'],
      map: {},
      baseUrl: null,
      groups: ['default'],
      priority: 0,
      weight: 1,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      region: null,
      apiVersion: null,
      disabled: false,
    });
  });

  it('normalises: trims names and secrets, drops duplicate models, strips trailing slashes', () => {
    const v = validateChannelCreate({
      ...channel,
      name: ' main ',
      keys: [' sk-x '],
      models: ['a', 'a', ' b'],
      base_url: 'https://h.example/v1/',
    });
    expect(v.name).toBe('main');
    expect(v.keys).toEqual(['sk-x']);
    expect(v.models).toEqual(['a', 'b']);
    expect(v.baseUrl).toBe('https://h.example/v1');
  });

  it.each([
    [{ ...channel, name: undefined }, 'name'],
    [{ ...channel, name: '' }, 'name'],
    [{ ...channel, name: '123' }, 'name'],
    [{ ...channel, name: 'a\nb' }, 'name'],
    [{ ...channel, type: 'nope' }, 'type'],
    [{ ...channel, type: undefined }, 'type'],
    [{ ...channel, keys: undefined }, 'keys'],
    [{ ...channel, keys: [] }, 'keys'],
    [{ ...channel, keys: 'sk-1' }, 'keys'],
    [{ ...channel, keys: [''] }, 'keys[0]'],
    [{ ...channel, keys: ['ok', 'sk x'] }, 'keys[1]'],
    [{ ...channel, models: [] }, 'models'],
    [{ ...channel, models: ['ok', ''] }, 'models[1]'],
    [{ ...channel, models: 'gpt-4o' }, 'models'],
    [{ ...channel, map: { alias: '' } }, 'map.alias'],
    [{ ...channel, map: ['x'] }, 'map'],
    [{ ...channel, base_url: 'ftp://h' }, 'base_url'],
    [{ ...channel, base_url: 'not a url' }, 'base_url'],
    [{ ...channel, base_url: 'https://u:p@h' }, 'base_url'],
    [{ ...channel, priority: 1.5 }, 'priority'],
    [{ ...channel, priority: '1' }, 'priority'],
    [{ ...channel, weight: 0 }, 'weight'],
    [{ ...channel, weight: -1 }, 'weight'],
    [{ ...channel, timeout_ms: 0 }, 'timeout_ms'],
    [{ ...channel, region: 'us east' }, 'region'],
    [{ ...channel, disabled: 'yes' }, 'disabled'],
    [{ ...channel, groups: ['bad group'] }, 'groups[0]'],
    [{ ...channel, modles: ['typo'] }, 'modles'],
  ])('rejects %o naming %s', (body, param) => {
    rejects(() => validateChannelCreate(body), param);
  });

  it('rejects a body that is not an object', () => {
    for (const body of [[], 'x', 3]) rejects(() => validateChannelCreate(body), undefined);
  });

  it('accepts a map instead of models, values being the upstream names', () => {
    const v = validateChannelCreate({ ...channel, models: undefined, map: { fast: 'gpt-4o-mini' } });
    expect(v.models).toEqual([]);
    expect(v.map).toEqual({ fast: 'gpt-4o-mini' });
  });

  it('keeps "__proto__" as a plain alias', () => {
    const v = validateChannelCreate({ ...channel, map: JSON.parse('{"__proto__":"x"}') as unknown });
    expect(Object.keys(v.map)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v.map)).toBe(Object.prototype);
  });

  it('requires a base URL for openai-compatible and azure only', () => {
    expect(
      rejects(() => validateChannelCreate({ ...channel, type: 'openai-compatible' }), 'base_url'),
    ).toMatch(/openai-compatible/);
    rejects(() => validateChannelCreate({ ...channel, type: 'azure' }), 'base_url');
    expect(
      validateChannelCreate({ ...channel, type: 'azure', base_url: 'https://r.openai.azure.com' }).baseUrl,
    ).toBe('https://r.openai.azure.com');
    expect(validateChannelCreate({ ...channel, type: 'anthropic' }).baseUrl).toBeNull();
  });

  it('checks bedrock credentials and defaults the region to us-east-1', () => {
    const v = validateChannelCreate({
      ...channel,
      type: 'bedrock',
      keys: ['AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    });
    expect(v.region).toBe('us-east-1');
    expect(
      validateChannelCreate({
        ...channel,
        type: 'bedrock',
        region: 'eu-west-1',
        keys: ['ABSKQmVkcm9ja0FQSUtleS1hYmM='],
      }).region,
    ).toBe('eu-west-1');
    const msg = rejects(
      () => validateChannelCreate({ ...channel, type: 'bedrock', keys: ['sk-not-aws-secret-value'] }),
      'keys[0]',
    );
    expect(msg).toMatch(/ACCESS_KEY_ID:SECRET_ACCESS_KEY/);
    expect(msg).not.toContain('sk-not-aws-secret-value');
  });
});

describe('isBedrockSecret', () => {
  it.each([
    ['AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', true],
    ['ASIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY:FwoGZXIvYXdzEJr//token=', true],
    ['ABSKQmVkcm9ja0FQSUtleS1hYmM=', true],
    ['bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t', true],
    ['AKIAIOSFODNN7EXAMPLE:', false],
    ['AKIAIOSFODNN7EXAMPLE:secret:', false],
    ['akiaiosfodnn7example:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', false],
    ['a:b:c:d', false],
    ['just-a-string', false],
  ])('%s -> %s', (secret, ok) => {
    expect(isBedrockSecret(secret)).toBe(ok);
  });
});

describe('validateChannelEdit', () => {
  const current = { type: 'openai' as const, models: ['gpt-4o'], map: {}, baseUrl: null, region: null };

  it('returns only the fields given', () => {
    expect(validateChannelEdit({ weight: 5, disabled: true }, current)).toEqual({
      weight: 5,
      disabled: true,
    });
  });

  it('refuses an empty edit', () => {
    rejects(() => validateChannelEdit({}, current), undefined);
  });

  it('checks the merged channel: a type needing a base URL, removing every model', () => {
    rejects(() => validateChannelEdit({ type: 'openai-compatible' }, current), 'base_url');
    expect(
      validateChannelEdit({ type: 'openai-compatible', base_url: 'http://127.0.0.1:1234/v1' }, current).type,
    ).toBe('openai-compatible');
    rejects(() => validateChannelEdit({ models: [] }, current), 'models');
    rejects(
      () =>
        validateChannelEdit(
          { base_url: null },
          { ...current, type: 'azure', baseUrl: 'https://r.openai.azure.com' },
        ),
      'base_url',
    );
  });

  it('checks new secrets against the (new) type and fills the bedrock region', () => {
    rejects(() => validateChannelEdit({ type: 'bedrock', keys: ['nope'] }, current), 'keys[0]');
    const v = validateChannelEdit({ type: 'bedrock', keys: ['ABSKQmVkcm9ja0FQSUtleS1hYmM='] }, current);
    expect(v.region).toBe('us-east-1');
    rejects(() => validateChannelEdit({ keys: [] }, current), 'keys');
  });
});

describe('validateKeyCreate / validateKeyEdit', () => {
  it('applies the defaults', () => {
    expect(validateKeyCreate({ name: 'app' })).toEqual({
      name: 'app',
      group: 'default',
      budget: null,
      expiresAt: null,
      models: [],
      allowIps: [],
      rpm: null,
      tpm: null,
      concurrency: null,
      strictBudget: false,
    });
  });

  it('reads strict_budget as a boolean only', () => {
    expect(validateKeyCreate({ name: 'app', strict_budget: true }).strictBudget).toBe(true);
    expect(validateKeyEdit({ strict_budget: false })).toEqual({ strictBudget: false });
    expect(() => validateKeyCreate({ name: 'app', strict_budget: 'yes' })).toThrow(/strict_budget/);
    expect(() => validateKeyEdit({ strict_budget: 1 })).toThrow(/strict_budget/);
  });

  it('normalises times to UTC ISO and keeps limits', () => {
    const v = validateKeyCreate({
      name: 'app',
      budget: 5_000_000,
      expires_at: '2027-01-31T12:00:00+02:00',
      allow_ips: ['10.0.0.0/8', '::1', '2001:db8::/32', '192.168.1.7'],
      rpm: 60,
      tpm: 0,
      concurrency: null,
    });
    expect(v.expiresAt).toBe('2027-01-31T10:00:00.000Z');
    expect(v.allowIps).toHaveLength(4);
    expect([v.budget, v.rpm, v.tpm, v.concurrency]).toEqual([5_000_000, 60, 0, null]);
    expect(validateKeyCreate({ name: 'd', expires_at: '2027-01-31' }).expiresAt).toBe(
      '2027-01-31T00:00:00.000Z',
    );
  });

  it.each([
    [{}, 'name'],
    [{ name: '42' }, 'name'],
    [{ name: 'a', budget: -1 }, 'budget'],
    [{ name: 'a', budget: 1.5 }, 'budget'],
    [{ name: 'a', budget: '5' }, 'budget'],
    [{ name: 'a', rpm: -1 }, 'rpm'],
    [{ name: 'a', tpm: 0.5 }, 'tpm'],
    [{ name: 'a', concurrency: 'x' }, 'concurrency'],
    [{ name: 'a', expires_at: 'tomorrow' }, 'expires_at'],
    [{ name: 'a', expires_at: '2027-13-45' }, 'expires_at'],
    [{ name: 'a', allow_ips: ['10.0.0.0/33'] }, 'allow_ips[0]'],
    [{ name: 'a', allow_ips: ['::1', '300.1.1.1'] }, 'allow_ips[1]'],
    [{ name: 'a', allow_ips: ['1.2.3.4/8/9'] }, 'allow_ips[0]'],
    [{ name: 'a', allow_ips: '10.0.0.1' }, 'allow_ips'],
    [{ name: 'a', models: [1] }, 'models[0]'],
    [{ name: 'a', group: 'a b' }, 'group'],
    [{ name: 'a', secret: 'x' }, 'secret'],
  ])('rejects %o naming %s', (body, param) => {
    rejects(() => validateKeyCreate(body), param);
  });

  it('edit returns only what was given, and refuses nothing', () => {
    expect(validateKeyEdit({ budget: null, rpm: 10 })).toEqual({ budget: null, rpm: 10 });
    rejects(() => validateKeyEdit({}), undefined);
  });
});

describe('validatePrice / validateGroup / validateTestBody / parseRef', () => {
  it('reads a price override in micro-USD per 1M tokens', () => {
    expect(validatePrice('gpt-4o', { input: 2_500_000, output: 10_000_000, cache_read: 1_250_000 })).toEqual({
      model: 'gpt-4o',
      input: 2_500_000,
      output: 10_000_000,
      cacheRead: 1_250_000,
      cacheWrite: null,
      perRequest: null,
      maxOutputTokens: null,
      source: 'override',
    });
  });

  it.each([
    [{ output: 1 }, 'input'],
    [{ input: -1, output: 1 }, 'input'],
    [{ input: 1, output: 0.5 }, 'output'],
    [{ input: 1, output: 1, cache_write: -3 }, 'cache_write'],
    [{ input: 1, output: 1, per_request: '1' }, 'per_request'],
    [{ input: 1, output: 1, max_output_tokens: 0 }, 'max_output_tokens'],
  ])('rejects price %o naming %s', (body, param) => {
    rejects(() => validatePrice('m', body), param);
  });

  it('takes a positive finite group ratio', () => {
    expect(validateGroup('vip', { ratio: 0.5 })).toEqual({ name: 'vip', ratio: 0.5 });
    for (const ratio of [0, -1, '2', null, Number.POSITIVE_INFINITY])
      rejects(() => validateGroup('vip', { ratio }), 'ratio');
    rejects(() => validateGroup('v i p', { ratio: 1 }), 'name');
  });

  it('reads the channel test body', () => {
    expect(validateTestBody(undefined)).toEqual({});
    expect(validateTestBody({ model: 'gpt-4o' })).toEqual({ model: 'gpt-4o' });
    rejects(() => validateTestBody({ model: 3 }), 'model');
  });

  it('reads ids as numbers and anything else as a name', () => {
    expect(parseRef('12')).toBe(12);
    expect(parseRef('main')).toBe('main');
    rejects(() => parseRef(' '), 'id');
  });
});
