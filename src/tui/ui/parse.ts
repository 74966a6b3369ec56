/**
 * Turns what was typed into a form into the control API's input types: USD amounts into exact
 * micro-USD, counts into integers, comma lists into arrays. Empty means "not set" (or "unlimited"
 * for limits); anything unreadable is an error message naming the field, shown under the form.
 */
import { parseUsd } from '../../shared/money.js';

export class FormError extends Error {}

export function optionalUsd(label: string, text: string | undefined): number | null {
  const t = (text ?? '').trim();
  if (t === '' || t === '-' || t.toLowerCase() === 'unlimited') return null;
  const micro = parseUsd(t);
  if (micro === undefined) throw new FormError(`${label}: "${t}" is not an amount in USD (e.g. 12.50)`);
  return micro;
}

export function requiredUsd(label: string, text: string | undefined): number {
  const v = optionalUsd(label, text);
  if (v === null) throw new FormError(`${label} is required`);
  return v;
}

export function optionalInt(label: string, text: string | undefined): number | null {
  const t = (text ?? '').trim();
  if (t === '' || t === '-' || t.toLowerCase() === 'unlimited') return null;
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)))
    throw new FormError(`${label}: "${t}" is not a whole number`);
  return Number(t);
}

export function intOr(label: string, text: string | undefined, fallback: number): number {
  return optionalInt(label, text) ?? fallback;
}

export function required(label: string, text: string | undefined): string {
  const t = (text ?? '').trim();
  if (t === '') throw new FormError(`${label} is required`);
  return t;
}

export function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** micro-USD -> what a user would type back ("12.5"), empty for null */
export function usdText(micro: number | null): string {
  if (micro === null) return '';
  return String(micro / 1_000_000);
}
