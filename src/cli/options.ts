/**
 * Glue between the pure parsers of parse.ts and commander: a parser's UsageError becomes
 * commander's InvalidArgumentError, so commander names the flag and its value in the message and
 * exits through main.ts with code 2, before any action runs and anything reaches the daemon.
 */
import { InvalidArgumentError } from 'commander';
import { UsageError, parsePositiveInt } from './parse.js';
import { parseDuration } from './parse.js';

function convert<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** A single-valued flag parsed by `fn`. */
export function arg<T>(fn: (value: string) => T): (value: string) => T {
  return (value) => convert(() => fn(value));
}

/**
 * Commander replaces a parser's null with '' (it reads null as "no value given"), so a flag whose
 * value may clear a setting (`--budget none`) parses to this marker instead; `orNull` turns it back.
 */
export const CLEARED: unique symbol = Symbol('cleared');
export type Cleared = typeof CLEARED;

/** A single-valued flag whose parser may answer null (clear the setting). */
export function clearable<T>(fn: (value: string) => T | null): (value: string) => T | Cleared {
  return (value) => convert(() => fn(value) ?? CLEARED);
}

export function orNull<T>(v: T | Cleared): T | null {
  return v === CLEARED ? null : v;
}

/** A repeatable flag (`--key A --key B`): the parsed values in order. */
export function repeat<T>(fn: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), convert(() => fn(value))];
}

/** A duration that must be longer than zero (`--timeout`, `--drain`). */
export function positiveDuration(value: string): number {
  const ms = parseDuration(value);
  if (ms <= 0) throw new UsageError(`"${value}" must be longer than zero`);
  return ms;
}

export const positiveInt = arg(parsePositiveInt);
