/**
 * The UpstreamTarget that adapter, codec and simulator tests hand to a provider adapter: the
 * channel's name, type, base URL and timeout as given, and by default id 1, no region, no API
 * version and no settings (each can be given too). And sending the UpstreamRequest an adapter
 * built, as the relay would, to a simulator.
 */
import { request } from 'undici';
import type { ChannelTarget, UpstreamRequest, UpstreamTarget } from '../../src/daemon/providers/types.js';

export type TestChannel = Pick<ChannelTarget, 'name' | 'type' | 'baseUrl' | 'timeoutMs'> &
  Partial<ChannelTarget>;

export function upstreamTarget(channel: TestChannel, secret: string, upstreamModel: string): UpstreamTarget {
  return {
    channel: {
      id: channel.id ?? 1,
      name: channel.name,
      type: channel.type,
      baseUrl: channel.baseUrl,
      region: channel.region ?? null,
      apiVersion: channel.apiVersion ?? null,
      timeoutMs: channel.timeoutMs,
      settings: channel.settings ?? {},
    },
    secret,
    upstreamModel,
  };
}

/** Sends an adapter-built request (plus `headers`, e.g. `x-sim-*` knobs) and reads the whole answer. */
export async function sendUpstream(up: UpstreamRequest, headers: Record<string, string> = {}) {
  const res = await request(up.url, {
    method: up.method,
    headers: { ...up.headers, ...headers },
    body: up.body,
  });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}
