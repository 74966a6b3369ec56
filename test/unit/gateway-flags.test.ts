/**
 * `--gateway` and `--key` before the command (cli/gateway-flags.ts): taken off the line so that a
 * command's own `--key` (bc channel add, bc logs, bc me logs) stays the command's.
 */
import { describe, expect, it } from 'vitest';
import { takeGatewayFlags } from '../../src/cli/gateway-flags.js';
import { UsageError } from '../../src/cli/parse.js';

describe('takeGatewayFlags', () => {
  it('takes the leading flags, in either form, and leaves the rest', () => {
    expect(takeGatewayFlags(['--gateway', 'http://h:1', '--key', '-', 'me', 'logs', '--key', 'k'])).toEqual({
      argv: ['me', 'logs', '--key', 'k'],
      flags: { gateway: 'http://h:1', key: '-' },
    });
    expect(takeGatewayFlags(['--json', '--gateway=http://h', '--home', '/x', '--key=sk', 'me'])).toEqual({
      argv: ['--json', '--home', '/x', 'me'],
      flags: { gateway: 'http://h', key: 'sk' },
    });
  });

  it('leaves a command’s own --key alone', () => {
    const line = ['channel', 'add', '--name', 'c', '--key', 'sk-up', '--models', 'm'];
    expect(takeGatewayFlags(line)).toEqual({ argv: line, flags: {} });
    expect(takeGatewayFlags(['--home', '--key', 'logs'])).toEqual({
      argv: ['--home', '--key', 'logs'],
      flags: {},
    });
  });

  it('refuses a flag without its value (exit 2)', () => {
    expect(() => takeGatewayFlags(['--gateway'])).toThrow(UsageError);
    expect(() => takeGatewayFlags(['--key='])).toThrow(UsageError);
  });
});
