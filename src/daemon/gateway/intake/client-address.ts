/**
 * The client's address behind trusted reverse proxies (BC_TRUST_PROXY). Key IP allowlists, the
 * per-address signup limit and the redemption failure limit all need the address of the client,
 * not of the proxy in front of the gateway. When the connection comes from a trusted proxy, the
 * address is the right-most entry of X-Forwarded-For that is not itself a trusted proxy (each
 * proxy appends the address it saw, so entries to the left of an untrusted hop can be forged by
 * the client). Without BC_TRUST_PROXY, or from an untrusted peer, it is the peer, and the header
 * is ignored: a client cannot pick its own address. The same rule as Fastify's `trustProxy`
 * function (proxy-addr), which the gateway's Fastify routes use, so both paths agree.
 */
import net from 'node:net';
import { cidrContains, type Cidr } from './cidr.js';

export function isTrusted(trusted: readonly Cidr[], address: string): boolean {
  return trusted.some((c) => cidrContains(c, address));
}

export function clientAddress(
  peer: string,
  forwardedFor: string | string[] | undefined,
  trusted: readonly Cidr[],
): string {
  if (trusted.length === 0 || forwardedFor === undefined || !isTrusted(trusted, peer)) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  let address = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // garbage in the header ends the walk at the last address a trusted proxy vouched for
    if (net.isIP(hop) === 0) return address;
    address = hop;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return address;
}
