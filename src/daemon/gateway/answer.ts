/**
 * How an attempt ends when the client is to get an answer: the Outcome its log row records and
 * the Reply held back until that row is committed. The pump, the body delivery and the relay's
 * own refusals only say what happened; the relay settles each request once, in one place
 * (relay.ts `deliver`), and then sends the reply, so no answer reaches a client before the row
 * that bills it. The constructors below are the only places an Outcome is shaped.
 */
import type { BcError, ErrorCategory } from '../../shared/errors.js';
import type { UpstreamFailure, Usage } from '../providers/types.js';
import { failureCategory } from '../providers/types.js';
import type { Outcome } from './money/settle.js';

export interface Reply {
  /** writes what was held back (a body, a stream's last frames, an error) and ends the response */
  send(): Promise<void> | void;
  /** the row could not be committed: the store's clean error instead, in the client's protocol */
  fail(err: BcError): void;
}

export interface Answer {
  kind: 'answered';
  outcome: Outcome;
  reply: Reply;
}

export function answered(outcome: Outcome, reply: Reply): Answer {
  return { kind: 'answered', outcome, reply };
}

/** The upstream answered in full. */
export function served(usage: Usage | null, deliveredText?: () => string): Outcome {
  return { status: 200, error: null, usage, produced: true, deliveredText };
}

/**
 * A stream that began and then broke, or relayed the upstream's own error event: billed for what
 * was delivered, logged as the failure it was.
 */
export function brokeOff(timedOut: boolean, usage: Usage | null, deliveredText: () => string): Outcome {
  return { status: 502, error: timedOut ? 'timeout' : 'upstream', usage, produced: true, deliveredText };
}

/** The client left; `produced` when the upstream had begun to answer (and bills for it). */
export function clientLeft(usage: Usage | null, produced: boolean, deliveredText?: () => string): Outcome {
  return { status: 499, error: 'client_abort', usage, produced, deliveredText };
}

/**
 * No upstream answer was produced: the gateway refused, answered by itself (error null), or every
 * upstream failed before answering.
 */
export function unanswered(status: number, error: ErrorCategory | null): Outcome {
  return { status, error, usage: null, produced: false };
}

/** An upstream failure that ends the request with nothing produced, in the failure's own category. */
export function failedWith(failure: UpstreamFailure, status = failure.status): Outcome {
  return unanswered(status, failureCategory(failure));
}

/** Nothing left to send (the client is gone). */
export const NO_REPLY: Reply = { send: () => undefined, fail: () => undefined };
