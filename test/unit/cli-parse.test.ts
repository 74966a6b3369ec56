// The CLI's input parsers: every accepted form and the refusals that become exit 2.
import { describe, expect, it } from 'vitest';
import {
  UsageError,
  parseBoolean,
  parseBudget,
  parseChannelType,
  parseCidr,
  parseDuration,
  parseExpires,
  parseHttpUrl,
  parseInteger,
  parseLimit,
  parseList,
  parseListenAddress,
  parseMapPair,
  parsePositiveInt,
  parseRatio,
  parseSince,
  parseUsageDimension,
  parseUsdAmount,
  splitSecrets,
} from '../../src/cli/parse.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0); // 2026-11-01T12:00:00Z

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['60s', 60_000],
    ['90m', 5_400_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 5S ', 5000],
    ['0s', 0],
  ])('%s -> %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '30', 'abc', '5x', '-5s', '5 s', 's', '1h-', '10sec'])('refuses %j', (input) => {
    expect(() => parseDuration(input)).toThrow(UsageError);
  });

  it('says what a duration looks like', () => {
    expect(() => parseDuration('5x')).toThrow(/e\.g\. 500ms, 60s, 90m, 12h, 30d/);
  });
});

describe('parseExpires', () => {
  it('a duration is counted from now', () => {
    expect(parseExpires('30d', NOW)).toBe('2026-12-01T12:00:00.000Z');
    expect(parseExpires('90m', NOW)).toBe('2026-11-01T13:30:00.000Z');
  });

  it('a date means the start of that day in UTC', () => {
    expect(parseExpires('2027-01-31', NOW)).toBe('2027-01-31T00:00:00.000Z');
  });

  it('accepts an ISO time with a zone', () => {
    expect(parseExpires('2027-01-31T10:30:00+02:00', NOW)).toBe('2027-01-31T08:30:00.000Z');
  });

  it('never/none clears the expiry', () => {
    expect(parseExpires('never', NOW)).toBeNull();
    expect(parseExpires('NONE', NOW)).toBeNull();
  });

  it.each(['2027-02-30', '2027-13-01', '2027-1-5', 'tomorrow', '31/01/2027'])('refuses %j', (input) => {
    expect(() => parseExpires(input, NOW)).toThrow(UsageError);
  });

  it('refuses a time in the past', () => {
    expect(() => parseExpires('2020-01-01', NOW)).toThrow(/in the past/);
  });
});

describe('parseSince', () => {
  it('a duration goes back from now; a date is that day', () => {
    expect(parseSince('24h', NOW)).toBe('2026-10-31T12:00:00.000Z');
    expect(parseSince('2026-10-01', NOW)).toBe('2026-10-01T00:00:00.000Z');
  });

  it('refuses nonsense', () => {
    expect(() => parseSince('yesterday', NOW)).toThrow(UsageError);
  });
});

describe('USD amounts', () => {
  it('parses to exact micro-USD', () => {
    expect(parseUsdAmount('10')).toBe(10_000_000);
    expect(parseUsdAmount('0.25')).toBe(250_000);
    expect(parseUsdAmount('$2.50')).toBe(2_500_000);
    expect(parseUsdAmount('0.000001')).toBe(1);
  });

  it.each(['-1', 'ten', '1.1234567', '1,5', '', '$'])('refuses %j', (input) => {
    expect(() => parseUsdAmount(input)).toThrow(UsageError);
  });

  it('a budget may be none', () => {
    expect(parseBudget('none')).toBeNull();
    expect(parseBudget('unlimited')).toBeNull();
    expect(parseBudget('5')).toBe(5_000_000);
  });
});

describe('parseCidr', () => {
  it.each([
    '10.0.0.0/8',
    '203.0.113.7',
    '0.0.0.0/0',
    '::1',
    '2001:db8::/32',
    'fe80::1/128',
    '192.168.1.1/32',
  ])('accepts %s', (input) => {
    expect(parseCidr(input)).toBe(input);
  });

  it.each([
    '10.0.0.0/33',
    '256.1.1.1',
    '10.0.0',
    'example.com',
    '::1/129',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '1.2.3.4/x',
  ])('refuses %s', (input) => {
    expect(() => parseCidr(input)).toThrow(UsageError);
  });
});

describe('parseHttpUrl', () => {
  it('accepts http and https, dropping trailing slashes', () => {
    expect(parseHttpUrl('https://api.openai.com/v1/')).toBe('https://api.openai.com/v1');
    expect(parseHttpUrl('http://127.0.0.1:11434')).toBe('http://127.0.0.1:11434');
  });

  it.each(['ftp://x.example', 'api.openai.com', 'not a url', 'file:///etc/passwd', ''])(
    'refuses %j',
    (input) => {
      expect(() => parseHttpUrl(input)).toThrow(UsageError);
    },
  );
});

describe('numbers', () => {
  it('positive integers', () => {
    expect(parsePositiveInt('42')).toBe(42);
    for (const bad of ['0', '-1', '1.5', 'x', '', '99999999999999999999']) {
      expect(() => parsePositiveInt(bad)).toThrow(UsageError);
    }
  });

  it('integers may be negative (priority)', () => {
    expect(parseInteger('-3')).toBe(-3);
    expect(() => parseInteger('3.5')).toThrow(UsageError);
  });

  it('limits may be none', () => {
    expect(parseLimit('none')).toBeNull();
    expect(parseLimit('60')).toBe(60);
    expect(() => parseLimit('0')).toThrow(UsageError);
  });

  it('ratios are non-negative decimals', () => {
    expect(parseRatio('0.8')).toBe(0.8);
    expect(parseRatio('2')).toBe(2);
    expect(() => parseRatio('-1')).toThrow(UsageError);
    expect(() => parseRatio('abc')).toThrow(UsageError);
  });
});

describe('names, lists and maps', () => {
  it('channel types come from CHANNEL_TYPES', () => {
    expect(parseChannelType('OpenAI')).toBe('openai');
    expect(parseChannelType('openai-compatible')).toBe('openai-compatible');
    expect(() => parseChannelType('foo')).toThrow(/one of openai, azure/);
  });

  it('usage dimensions', () => {
    expect(parseUsageDimension('key')).toBe('key');
    expect(() => parseUsageDimension('day')).toThrow(UsageError);
  });

  it('map pairs split on the first =', () => {
    expect(parseMapPair('gpt-4o=my-deploy')).toEqual(['gpt-4o', 'my-deploy']);
    expect(parseMapPair('a=b=c')).toEqual(['a', 'b=c']);
    for (const bad of ['nopair', '=x', 'x=', '']) expect(() => parseMapPair(bad)).toThrow(UsageError);
  });

  it('comma lists are trimmed, deduplicated and non-empty', () => {
    expect(parseList(' a, b,,a ,c')).toEqual(['a', 'b', 'c']);
    expect(() => parseList(' , ')).toThrow(UsageError);
  });

  it('listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:0')).toBe('127.0.0.1:0');
    expect(parseListenAddress('[::1]:8300')).toBe('[::1]:8300');
    expect(() => parseListenAddress('localhost')).toThrow(UsageError);
    expect(() => parseListenAddress('1.2.3.4:70000')).toThrow(UsageError);
  });

  it('booleans', () => {
    expect(parseBoolean('yes')).toBe(true);
    expect(parseBoolean('OFF')).toBe(false);
    expect(() => parseBoolean('maybe')).toThrow(UsageError);
  });

  it('secrets from stdin: one per line, blanks ignored', () => {
    expect(splitSecrets('sk-a\r\n\n  sk-b  \n')).toEqual(['sk-a', 'sk-b']);
    expect(splitSecrets('\n\n')).toEqual([]);
  });
});
