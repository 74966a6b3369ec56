/**
 * `bc channel test`: one real minimal request through the channel's adapter (a one-token chat
 * completion), reporting latency or the upstream's error. Also used by the background probe that
 * re-enables auto-disabled channels.
 */
import type { ChannelTestResult } from '../../../shared/control-api.js';
import { getAdapter } from '../../registry.js';
import type { UpstreamTarget } from '../../providers/types.js';
import type { RouteChannel, RouteSecret } from '../snapshot.js';
import { Aborter } from '../context.js';
import { send } from '../upstream.js';
import type { Dispatcher } from 'undici';

export async function testChannel(
  agent: Dispatcher,
  channel: RouteChannel,
  secret: RouteSecret | undefined,
  model?: string,
): Promise<ChannelTestResult> {
  const start = process.hrtime.bigint();
  const elapsed = (): number => Math.round(Number(process.hrtime.bigint() - start) / 1e6);
  const chosen = model ?? firstModel(channel);
  const fail = (status: number | null, error: string): ChannelTestResult => ({
    ok: false,
    model: chosen ?? '',
    latency_ms: elapsed(),
    status,
    error,
  });
  if (!secret) return fail(null, 'the channel has no key');
  if (!chosen) return fail(null, 'the channel serves no model');
  const adapter = getAdapter(channel.record.type);
  const target: UpstreamTarget = {
    channel: channel.target,
    secret: secret.secret,
    upstreamModel: channel.upstreamModel.get(chosen) ?? chosen,
  };
  const req = adapter.chatRequest(
    { model: target.upstreamModel, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 },
    target,
    { dropped: [] },
  );
  const sent = await send(agent, req, Math.min(channel.target.timeoutMs, 30_000), new Aborter());
  if (!sent.ok) return fail(sent.failure.status, channel.redact(sent.failure.message));
  const { res } = sent;
  if (res.status >= 400) {
    const text = await res.body.readCapped();
    return fail(res.status, channel.redact(adapter.classifyError(res.status, res.headers, text).message));
  }
  try {
    const body = JSON.parse((await res.body.readAll()).toString('utf8')) as unknown;
    adapter.chatResponse(body, target, { dropped: [] });
  } catch (err) {
    return fail(
      res.status,
      `the upstream answered with a body the adapter cannot read: ${(err as Error).message}`,
    );
  }
  return { ok: true, model: chosen, latency_ms: elapsed(), status: res.status, error: null };
}

function firstModel(c: RouteChannel): string | undefined {
  return c.record.models[0] ?? c.upstreamModel.keys().next().value;
}
