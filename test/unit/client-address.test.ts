// The client's address behind trusted reverse proxies (BC_TRUST_PROXY): the right-most
// X-Forwarded-For entry that is not a trusted proxy, and the header ignored from anyone else.
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/daemon/gateway/intake/client-address.js';
import { parseTrustedProxies } from '../../src/daemon/gateway/intake/intake-env.js';

const lb = parseTrustedProxies('10.0.0.0/8, 127.0.0.1');

describe('clientAddress', () => {
  it('is the peer when no proxy is trusted, or the peer is not one: the header cannot pick it', () => {
    expect(clientAddress('127.0.0.1', '203.0.113.7', [])).toBe('127.0.0.1');
    expect(clientAddress('198.51.100.9', '203.0.113.7', lb)).toBe('198.51.100.9');
    expect(clientAddress('10.1.2.3', undefined, lb)).toBe('10.1.2.3');
  });

  it('is the right-most address a trusted proxy did not add itself', () => {
    expect(clientAddress('10.1.2.3', '203.0.113.7', lb)).toBe('203.0.113.7');
    // the client forged a left-most entry; the first untrusted hop from the right is what counts
    expect(clientAddress('10.1.2.3', '6.6.6.6, 203.0.113.7, 10.9.9.9', lb)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', ['6.6.6.6', '203.0.113.7'], lb)).toBe('203.0.113.7');
    // every hop trusted: the left-most
    expect(clientAddress('10.1.2.3', '10.5.5.5, 10.6.6.6', lb)).toBe('10.5.5.5');
    // an IPv4-mapped peer matches the IPv4 rule
    expect(clientAddress('::ffff:127.0.0.1', '203.0.113.7', lb)).toBe('203.0.113.7');
  });

  it('stops at garbage, keeping the last address a trusted proxy vouched for', () => {
    expect(clientAddress('10.1.2.3', 'not-an-ip, 10.7.7.7', lb)).toBe('10.7.7.7');
    expect(clientAddress('10.1.2.3', 'nonsense', lb)).toBe('10.1.2.3');
  });
});

describe('parseTrustedProxies', () => {
  it('reads addresses, blocks and loopback, and refuses anything else naming the variable', () => {
    expect(parseTrustedProxies(undefined)).toEqual([]);
    expect(parseTrustedProxies('loopback')).toHaveLength(2);
    expect(() => parseTrustedProxies('10.0.0.0/8, proxy.example')).toThrow(
      /BC_TRUST_PROXY .*"proxy.example"/,
    );
  });
});
