/**
 * Moves one upstream stream to the client, event by event, without buffering the response, and
 * says how it ended: an Answer (the outcome to settle and the reply held back until the row is
 * committed) or, while nothing has gone to the client, a failure the relay may retry. The pump
 * never settles: the relay does, once (answer.ts). What it holds back is the protocol's end event
 * (or, where a protocol has none, the end of the response), so a client never sees a complete
 * answer before the row that bills it. After the first byte a failure ends the stream with the
 * protocol's in-stream error event, also after settlement. The three reading modes live in
 * pump-modes.ts.
 */
import type { InboundStreamEncoder } from '../../inbound/types.js';
import type { ProviderAdapter, UpstreamFailure, UpstreamTarget } from '../../providers/types.js';
import { UpstreamStreamError } from '../../providers/types.js';
import { getCodec } from '../../registry.js';
import type { RelayContext } from '../context.js';
import { markFirstByte, toWireError, writeHead } from '../client-wire.js';
import type { UpstreamResponse } from '../upstream.js';
import { transportFailure } from '../upstream.js';
import { OpeningGate } from './stream-gate.js';
import { countedInput } from '../money/admission.js';
import { BcError } from '../../../shared/errors.js';
import { redactFailure } from '../redact.js';
import type { Outcome } from '../money/settle.js';
import { answered, brokeOff, clientLeft, NO_REPLY, served, type Answer } from '../answer.js';
import { convertReader, filteredReader, rawReader, type Mode, type StreamReader } from './pump-modes.js';

export type { Mode } from './pump-modes.js';

export type PumpResult = Answer | { kind: 'failed'; failure: UpstreamFailure };

export interface PumpArgs {
  ctx: RelayContext;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  res: UpstreamResponse;
  mode: Mode;
}

export async function pumpStream(a: PumpArgs): Promise<PumpResult> {
  const { ctx, res } = a;
  const out = new ClientStream(ctx, a);
  const reader = await openReader(a, out.gate);
  try {
    for (;;) {
      const next = await res.body.next();
      if (next.done) break;
      const data = reader.take(next.value);
      // the end event's chunk is held back until the row is committed; it is the first byte out
      if (reader.ended) return endEvent(ctx, reader, out, data, res);
      if (data !== undefined) {
        const sent = out.send(data);
        if (sent) await sent;
      }
    }
    const tail = reader.finish();
    if (tail === undefined) {
      return {
        kind: 'failed',
        failure: { status: 502, action: 'retry', message: 'upstream stream ended without any event' },
      };
    }
    return answered(outcomeOf(reader), {
      send: () => out.end(tail + (reader.encoder?.end(reader.usage()).join('') ?? '')),
      fail: (err) => out.fail(err, reader.encoder),
    });
  } catch (err) {
    res.body.destroy();
    if (ctx.clientGone) return answered(clientLeft(reader.usage(), true, reader.deliveredText), NO_REPLY);
    const raw = err instanceof UpstreamStreamError ? err.failure : streamFailure(err);
    const failure = ctx.channel ? redactFailure(ctx.channel.redact, raw) : raw;
    if (!ctx.committed) return { kind: 'failed', failure };
    return answered(brokeOff(failure.timedOut === true, reader.usage(), reader.deliveredText), {
      send: () => out.endWithError(failure, reader.encoder),
      fail: (e) => out.fail(e, reader.encoder),
    });
  }
}

/** The stream reached its end event: settle on it, then send it and whatever follows. */
function endEvent(
  ctx: RelayContext,
  reader: StreamReader,
  out: ClientStream,
  held: string | Buffer | undefined,
  res: UpstreamResponse,
): Answer {
  markFirstByte(ctx);
  return answered(outcomeOf(reader), {
    send: async () => {
      try {
        if (held !== undefined) await out.send(held);
        // nothing should follow the end event; what does is relayed as it comes
        for (;;) {
          const next = await res.body.next();
          if (next.done) break;
          const data = reader.take(next.value);
          if (data !== undefined) await out.send(data);
        }
      } catch {
        // the row is committed and the client has its answer: a late failure only ends the response
        res.body.destroy();
      }
      out.end('');
    },
    fail: (err) => out.fail(err, reader.encoder),
  });
}

function outcomeOf(reader: StreamReader): Outcome {
  return reader.relayedError
    ? brokeOff(false, reader.usage(), reader.deliveredText)
    : served(reader.usage(), reader.deliveredText);
}

async function openReader(a: PumpArgs, gate: OpeningGate): Promise<StreamReader> {
  const args = { ...a, codec: codecOf(a.ctx), gate };
  if (a.mode === 'raw') return rawReader(args);
  if (a.mode === 'filtered') return filteredReader(args);
  return convertReader(args, clientEncoder(a.ctx, await openingPromptTokens(a.ctx)));
}

function codecOf(ctx: RelayContext) {
  return ctx.codec ?? getCodec(ctx.protocol);
}

function clientEncoder(ctx: RelayContext, promptTokens = ctx.inputTokens): InboundStreamEncoder {
  return codecOf(ctx).streamEncoder(ctx.model, promptTokens, ctx.clientWantsUsage);
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

function streamFailure(err: unknown): UpstreamFailure {
  if (err instanceof BcError) return { status: err.status, action: 'retry', message: err.message };
  const f = transportFailure(err);
  const e = err as { message?: string };
  if (f.message.includes('ERROR') && e.message)
    return { ...f, message: `upstream stream broke: ${e.message}` };
  return f;
}

/**
 * The client's side of a stream: the response head on the first write (the upstream's content
 * type for a forwarded stream), the opening gate, backpressure, and the endings.
 */
class ClientStream {
  readonly gate: OpeningGate;
  private readonly contentType: string;

  constructor(
    private readonly ctx: RelayContext,
    a: PumpArgs,
  ) {
    const upstreamCt = a.res.headers['content-type'];
    this.contentType =
      a.mode !== 'convert' && typeof upstreamCt === 'string'
        ? upstreamCt
        : 'text/event-stream; charset=utf-8';
    // a chat stream's opening frames wait until the answer begins, so a failure before it can be retried
    this.gate = new OpeningGate(
      ctx.kind === 'chat' || a.mode === 'convert',
      a.mode === 'convert' ? undefined : a.adapter.chatStream(a.target, { dropped: [] }),
    );
  }

  /** A promise only while the gate holds frames or the client is slow: most frames cost no await. */
  send(data: string | Buffer): Promise<void> | undefined {
    return this.gate.passesThrough ? this.write(data) : this.sendHeld(data);
  }

  /** The last frames, then the end of the response. */
  end(tail: string): void {
    const { res } = this.ctx;
    if (tail.length > 0) {
      const sent = this.write(tail);
      if (sent) void sent.catch(() => undefined);
    }
    if (!res.destroyed && !res.writableEnded) res.end();
  }

  /** A begun stream that broke: the protocol's in-stream error event and a clean end. */
  endWithError(failure: UpstreamFailure, encoder: InboundStreamEncoder | undefined): void {
    const wire = toWireError(new BcError('UPSTREAM_ERROR', failure.message, { status: failure.status }));
    if (!this.ctx.res.destroyed) this.ctx.res.end((encoder ?? clientEncoder(this.ctx)).error(wire).join(''));
  }

  /** The row could not be committed: the store's error, as an event if the stream had begun. */
  fail(err: BcError, encoder: InboundStreamEncoder | undefined): void {
    const { ctx } = this;
    if (!ctx.committed || ctx.res.writableEnded || ctx.res.destroyed) return;
    ctx.res.end((encoder ?? clientEncoder(ctx)).error(toWireError(err)).join(''));
  }

  private async sendHeld(data: string | Buffer): Promise<void> {
    for (const d of this.gate.pass(data)) await this.write(d);
  }

  /**
   * Writes, committing the response head on the first write. Returns a promise to wait on only when
   * the client is behind (backpressure), so a frame that goes straight out costs no await.
   */
  private write(data: string | Buffer): Promise<void> | undefined {
    const { ctx } = this;
    if (!ctx.committed) {
      writeHead(ctx, 200, { 'content-type': this.contentType, 'cache-control': 'no-cache' });
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
}
