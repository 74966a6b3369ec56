/**
 * Moves one upstream stream to the client, event by event, without buffering the response.
 * Three modes:
 *  - raw: same protocol and nothing to change: upstream bytes are written as received, decoded on
 *    the side only to read usage and to spot the terminal event (held back until settlement);
 *  - filtered: OpenAI passthrough where the gateway asked for usage the client did not: frames are
 *    re-emitted unchanged except the extra usage chunk;
 *  - convert: upstream events -> canonical OpenAI chunks -> the client's protocol encoder.
 * Until the first byte goes out a failure is returned for a retry; after it, the client gets the
 * protocol's in-stream error event and a clean end. A settlement that fails (the store cannot
 * write) is never returned for a retry: it ends a begun stream with the store's error event and
 * goes on to the relay as a SettlementFailure.
 */
import { SseDecoder, sseFrame } from '../streams/sse.js';
import { EventStreamDecoder } from '../streams/eventstream.js';
import { isUsageOnlyChunk } from '../providers/openai/frames.js';
import type { InboundStreamEncoder } from '../inbound/types.js';
import type {
  ChatStreamConverter,
  ProviderAdapter,
  StreamEvent,
  UpstreamFailure,
  UpstreamTarget,
  Usage,
} from '../providers/types.js';
import { UpstreamStreamError } from '../providers/types.js';
import type { OpenAIChatChunk } from '../providers/openai/types.js';
import { getCodec } from '../providers/registry.js';
import type { RelayContext } from './context.js';
import { markFirstByte, toWireError, writeHead } from './client-wire.js';
import { openaiStreamEncoder } from './openai-encoder.js';
import type { UpstreamResponse } from './upstream.js';
import { transportFailure } from './upstream.js';
import type { Outcome } from './settle.js';
import { OpeningGate } from './stream-gate.js';
import { countedInput } from './admission.js';
import { BcError } from '../../shared/errors.js';
import { SettlementFailure } from './settle-failure.js';
import { isErrorEvent, redactFailure } from './redact.js';
import { faultPoint } from './fault-point.js';
import { collectText, DeliveredText } from './delivered-text.js';

export type Mode = 'raw' | 'filtered' | 'convert';

export type PumpResult = { kind: 'done' } | { kind: 'failed'; failure: UpstreamFailure };

interface Decoder {
  push(chunk: Buffer): StreamEvent[];
  end(): StreamEvent[];
}

function decoderFor(adapter: ProviderAdapter): Decoder {
  if (adapter.streamFraming === 'sse') return new SseDecoder();
  const d = new EventStreamDecoder();
  return { push: (c) => d.push(c), end: () => (d.end(), []) };
}

function isTerminal(ev: StreamEvent): boolean {
  return (
    ev.kind === 'sse' &&
    (ev.data === '[DONE]' || ev.event === 'message_stop' || ev.event === 'response.completed')
  );
}

export interface PumpArgs {
  ctx: RelayContext;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  res: UpstreamResponse;
  mode: Mode;
  finish: (outcome: Outcome) => Promise<void>;
}

export async function pumpStream(a: PumpArgs): Promise<PumpResult> {
  const { ctx, adapter, target, res, mode } = a;
  const decoder = decoderFor(adapter);
  const converter: ChatStreamConverter | undefined =
    mode === 'convert' ? adapter.chatStream(target, { dropped: ctx.dropped }) : undefined;
  const encoder = mode === 'convert' ? clientEncoder(ctx, await openingPromptTokens(ctx)) : undefined;
  const upstreamCt = res.headers['content-type'];
  const headCt =
    mode !== 'convert' && typeof upstreamCt === 'string' && ctx.protocol !== 'openai'
      ? upstreamCt
      : 'text/event-stream; charset=utf-8';
  const write = (data: string | Buffer): Promise<void> | undefined => writeOut(ctx, data, headCt);
  // a chat stream's opening frames wait until the answer begins, so a failure before it can be retried
  const gate = new OpeningGate(
    ctx.kind === 'chat' || mode === 'convert',
    mode === 'convert' ? undefined : adapter.chatStream(target, { dropped: [] }),
  );
  const sendHeld = async (data: string | Buffer): Promise<void> => {
    for (const d of gate.pass(data)) await write(d);
  };
  // a promise only while the gate holds frames or the client is slow: most frames cost no await
  const send = (data: string | Buffer): Promise<void> | undefined =>
    gate.passesThrough ? write(data) : sendHeld(data);
  const usageFromEvent =
    ctx.usageReader?.fromEvent ??
    ((ev: StreamEvent, prev: Usage | null) => adapter.usageFromEvent?.(ev, prev) ?? prev);
  const seen = new DeliveredText(adapter, target);
  const delivered: string[] = [];
  let usage: Usage | null = null;
  let settled = false;
  /** a passthrough stream relayed an upstream error event: its row says failed, not 200 */
  let failedUpstream = false;
  const ok = (): Pick<Outcome, 'status' | 'error'> =>
    failedUpstream ? { status: 502, error: 'upstream' } : { status: 200, error: null };

  const settleOnce = async (outcome: Outcome): Promise<void> => {
    if (settled) return;
    settled = true;
    await a.finish(outcome).catch((e: unknown) => {
      throw e instanceof SettlementFailure ? endWithSettlementFailure(ctx, encoder, e) : e;
    });
  };
  const deliveredText = (): string => (mode === 'convert' ? delivered.join('') : seen.text());

  try {
    for await (const chunk of res.body) {
      const events = decoder.push(chunk);
      if (mode === 'raw') {
        let terminal = false;
        let upstreamError = false;
        for (const ev of events) {
          usage = usageFromEvent?.(ev, usage) ?? usage;
          if (ev.kind === 'sse') seen.add(ev.data);
          if (isTerminal(ev)) terminal = true;
          if (isErrorEvent(ev)) upstreamError = failedUpstream = true;
        }
        gate.see(events, isTerminal);
        // the terminal event is held back until the log row is committed; its chunk is the first byte out
        if (terminal) markFirstByte(ctx);
        if (terminal) await settleOnce({ ...ok(), usage, produced: true, deliveredText });
        if (terminal) faultPoint('reply-end');
        const sent = send(upstreamError ? redactChunk(ctx, chunk) : chunk);
        if (sent) await sent;
        continue;
      }
      let out = '';
      if (mode === 'filtered') gate.see(events, isTerminal);
      for (const ev of events) {
        if (mode === 'filtered') {
          if (ev.kind !== 'sse') continue;
          seen.add(ev.data);
          usage = usageFromEvent?.(ev, usage) ?? usage;
          if (isErrorEvent(ev)) failedUpstream = true;
          if (ev.data === '[DONE]') {
            markFirstByte(ctx);
            await settleOnce({ ...ok(), usage, produced: true, deliveredText });
          } else if (isUsageOnlyChunk(ev.data)) continue;
          const data = isErrorEvent(ev) && ctx.channel ? ctx.channel.redact(ev.data) : ev.data;
          out += sseFrame(data, ev.event);
        } else {
          const chunks = converter!.push(ev);
          gate.saw(chunks);
          for (const c of chunks) out += encodeChunk(encoder!, c, delivered);
        }
      }
      if (settled && out.length > 0) faultPoint('reply-end');
      const sent = out.length > 0 ? send(out) : undefined;
      if (sent) await sent;
    }
    const tail = decoder.end();
    if (mode === 'convert') {
      let out = gate.drain().join('');
      for (const ev of tail) for (const c of converter!.push(ev)) out += encodeChunk(encoder!, c, delivered);
      for (const c of converter!.end()) out += encodeChunk(encoder!, c, delivered);
      usage = converter!.usage();
      if (!ctx.committed && out.length === 0) {
        return {
          kind: 'failed',
          failure: { status: 502, action: 'retry', message: 'upstream stream ended without any event' },
        };
      }
      await settleOnce({ status: 200, error: null, usage, produced: true, deliveredText });
      out += encoder!.end(usage).join('');
      faultPoint('reply-end');
      await write(out);
    } else {
      for (const ev of tail) usage = usageFromEvent?.(ev, usage) ?? usage;
      if (!ctx.committed) {
        return {
          kind: 'failed',
          failure: { status: 502, action: 'retry', message: 'upstream stream ended without any event' },
        };
      }
      await settleOnce({ ...ok(), usage, produced: true, deliveredText });
    }
    faultPoint('reply-end');
    ctx.res.end();
    return { kind: 'done' };
  } catch (err) {
    res.body.destroy();
    if (err instanceof SettlementFailure) throw err;
    if (ctx.clientGone) {
      if (converter) usage = converter.usage() ?? usage;
      await settleOnce({ status: 499, error: 'client_abort', usage, produced: true, deliveredText });
      return { kind: 'done' };
    }
    const raw = err instanceof UpstreamStreamError ? err.failure : streamFailure(err);
    const failure = ctx.channel ? redactFailure(ctx.channel.redact, raw) : raw;
    if (!ctx.committed && !settled) return { kind: 'failed', failure };
    if (converter) usage = converter.usage() ?? usage;
    await settleOnce({
      status: 502,
      error: failure.message.startsWith('upstream timed out') ? 'timeout' : 'upstream',
      usage,
      produced: true,
      deliveredText,
    });
    endWithError(ctx, encoder, failure);
    return { kind: 'done' };
  }
}

function clientEncoder(ctx: RelayContext, promptTokens = ctx.inputTokens): InboundStreamEncoder {
  if (ctx.codec) return ctx.codec.streamEncoder(ctx.model, promptTokens);
  if (ctx.protocol === 'openai') return openaiStreamEncoder(ctx.model, ctx.clientWantsUsage);
  return getCodec(ctx.protocol).streamEncoder(ctx.model, promptTokens);
}

/**
 * An Anthropic stream opens by stating the prompt's size: the count admission made, or one made
 * now (the tokenizer caches message texts, so a resent conversation costs lookups). Null when the
 * prompt cannot be counted; the encoder then says 0, as before.
 */
async function openingPromptTokens(ctx: RelayContext): Promise<number | null> {
  if (ctx.protocol !== 'anthropic') return null;
  try {
    return await countedInput(ctx);
  } catch {
    return null;
  }
}

function encodeChunk(encoder: InboundStreamEncoder, chunk: OpenAIChatChunk, delivered: string[]): string {
  // usage travels through converter.usage() to the encoder's end(); a converter's own usage-only
  // chunk would reach clients that did not ask for it, or twice those that did
  if (chunk.choices.length === 0) return '';
  collectText(chunk, delivered);
  return encoder.push(chunk).join('');
}

/** A raw chunk holding an upstream error event, with the channel's secrets taken out. */
function redactChunk(ctx: RelayContext, chunk: Buffer): Buffer | string {
  if (!ctx.channel) return chunk;
  const text = chunk.toString('utf8');
  const clean = ctx.channel.redact(text);
  return clean === text ? chunk : clean;
}

function streamFailure(err: unknown): UpstreamFailure {
  if (err instanceof BcError) return { status: err.status, action: 'retry', message: err.message };
  const f = transportFailure(err);
  const e = err as { message?: string };
  if (f.message.includes('ERROR') && e.message)
    return { ...f, message: `upstream stream broke: ${e.message}` };
  return f;
}

/** A begun stream whose settlement failed: the store's error as the protocol's in-stream event. */
function endWithSettlementFailure(
  ctx: RelayContext,
  encoder: InboundStreamEncoder | undefined,
  err: SettlementFailure,
): SettlementFailure {
  if (ctx.committed && !ctx.res.writableEnded && !ctx.res.destroyed)
    ctx.res.end((encoder ?? clientEncoder(ctx)).error(toWireError(err.error)).join(''));
  return err;
}

function endWithError(
  ctx: RelayContext,
  encoder: InboundStreamEncoder | undefined,
  failure: UpstreamFailure,
): void {
  const wire = toWireError(new BcError('UPSTREAM_ERROR', failure.message, { status: failure.status }));
  const enc = encoder ?? clientEncoder(ctx);
  if (!ctx.res.destroyed) ctx.res.end(enc.error(wire).join(''));
}

/**
 * Writes, committing the response head on the first write. Returns a promise to wait on only when
 * the client is behind (backpressure), so a frame that goes straight out costs no await.
 */
function writeOut(ctx: RelayContext, data: string | Buffer, contentType: string): Promise<void> | undefined {
  if (!ctx.committed) {
    writeHead(ctx, 200, { 'content-type': contentType, 'cache-control': 'no-cache' });
    markFirstByte(ctx);
  }
  if (ctx.res.destroyed) return Promise.reject(new Error('client went away'));
  if (ctx.res.write(data)) return undefined;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      ctx.res.off('drain', done);
      ctx.res.off('close', done);
      resolve();
    };
    ctx.res.on('drain', done);
    ctx.res.on('close', done);
  });
}
