/**
 * Writing to a simulator's response: pauses and writes that notice the client going away,
 * backpressure, hanging up on purpose, stream frames with pacing, split UTF-8 and the stream
 * faults, and the same faults applied to a JSON answer. sim-common.ts re-exports all of it.
 */
import type http from 'node:http';
import type { StreamFault } from './sim-common.js';

/** Responses whose connection the simulator cut on purpose (not a client abort). */
const selfClosed = new WeakSet<http.ServerResponse>();

/** Whether the simulator itself cut this response's connection (see hangUp). */
export function isSelfClosed(res: http.ServerResponse): boolean {
  return selfClosed.has(res);
}

/** Destroys the connection from the simulator's side (reset and hangup faults). */
export function hangUp(res: http.ServerResponse): void {
  selfClosed.add(res);
  res.socket?.destroy();
  res.destroy();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether the response can still be written to (the client has not gone, we have not ended). */
export function open(res: http.ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

/** Sleeps, but wakes early when the client goes away; resolves false in that case. */
export function pause(res: http.ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(open(res));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(open(res));
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once('close', onClose);
  });
}

/** Resolves when the client closes the connection (or the server is shut down). */
export function untilClosed(res: http.ServerResponse): Promise<void> {
  if (res.destroyed || res.socket === null || res.socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** Writes with backpressure; false once the client is gone. */
export function write(res: http.ServerResponse, data: Buffer | string): Promise<boolean> {
  if (!open(res)) return Promise.resolve(false);
  if (res.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok && open(res));
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Byte offset inside the first multi-byte UTF-8 character of `buf`, else its middle. */
export function utf8SplitPoint(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    if ((buf[i] ?? 0) >= 0xc0) return i + 1;
  }
  return Math.max(1, Math.floor(buf.length / 2));
}

export interface FrameOptions {
  paceMs: number;
  /** write each frame as two TCP writes that cut a multi-byte character in half */
  splitUtf8: boolean;
  fault?: StreamFault | undefined;
  /** the frame sent by a midStreamError fault before the response ends */
  errorFrame: string;
}

/** Writes stream frames and ends the response, or breaks off as the fault says. */
export async function writeFrames(
  res: http.ServerResponse,
  frames: string[],
  opts: FrameOptions,
): Promise<void> {
  const limit = opts.fault === undefined ? frames.length : Math.min(opts.fault.afterFrames, frames.length);
  for (let i = 0; i < limit; i++) {
    if (i > 0 && !(await pause(res, opts.paceMs))) return;
    const bytes = Buffer.from(frames[i] ?? '', 'utf8');
    if (opts.splitUtf8 && bytes.length > 1) {
      const cut = utf8SplitPoint(bytes);
      if (!(await write(res, bytes.subarray(0, cut)))) return;
      if (!(await pause(res, 5))) return;
      if (!(await write(res, bytes.subarray(cut)))) return;
    } else if (!(await write(res, bytes))) {
      return;
    }
  }
  await finishStream(res, opts);
}

async function finishStream(res: http.ServerResponse, opts: FrameOptions): Promise<void> {
  switch (opts.fault?.kind) {
    case 'hangup':
      // Give the frames already written a moment to leave, then cut the connection mid-body.
      await pause(res, 10);
      hangUp(res);
      return;
    case 'stallAfter':
      await untilClosed(res);
      return;
    case 'midStreamError':
      if (await write(res, opts.errorFrame)) res.end();
      return;
    default:
      if (open(res)) res.end();
  }
}

/**
 * A non-stream answer broken off the way a stream fault breaks a stream: the headers promise the
 * whole body, half of it is sent, then the connection is cut (hangup) or left open (stallAfter).
 */
export async function sendHalfJson(
  res: http.ServerResponse,
  headers: Record<string, string>,
  body: unknown,
  fault: Exclude<StreamFault, { kind: 'midStreamError' }>,
): Promise<void> {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(200, { ...headers, 'content-length': String(text.length) });
  await write(res, text.subarray(0, Math.floor(text.length / 2)));
  if (fault.kind === 'hangup') {
    await pause(res, 10);
    hangUp(res);
  } else {
    await untilClosed(res);
  }
}
