/**
 * What every inbound codec's shape checks share: the JSON object test and the INVALID_REQUEST
 * error that names the offending field (`messages.0.content: ...`, `input[2].call_id: ...`), so a
 * client sees which field to fix whatever protocol it speaks.
 */
import { BcError } from '../../shared/errors.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function invalid(param: string, problem: string): BcError {
  return new BcError('INVALID_REQUEST', `${param}: ${problem}`, { param });
}
