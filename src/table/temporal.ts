/**
 * Conversions between ISO-8601 strings and Iceberg's internal temporal representations:
 * dates as days from 1970-01-01, times as microseconds from midnight, timestamps as
 * microseconds from 1970-01-01T00:00:00 (UTC for timestamptz).
 */
import { InvalidInputError } from '../util/index.js';

/** Microseconds in a second. */
export const MICROS_PER_SECOND = 1_000_000n;
/** Microseconds in an hour. */
export const MICROS_PER_HOUR = 3_600_000_000n;
/** Microseconds in a day. */
export const MICROS_PER_DAY = 86_400_000_000n;
const MS_PER_DAY = 86_400_000;

/** Floor division of bigints (rounds toward negative infinity). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Floor modulo of bigints (result has the sign of `b`). */
export function floorMod(a: bigint, b: bigint): bigint {
  return a - floorDiv(a, b) * b;
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

function yearString(y: number): string {
  if (y < 0) return `-${pad(-y, 4)}`;
  return y > 9999 ? `+${y}` : pad(y, 4);
}

/** Calendar parts (UTC) of a day count. */
export function daysToParts(days: number): { year: number; month: number; day: number } {
  const d = new Date(days * MS_PER_DAY);
  if (Number.isNaN(d.getTime()))
    throw new InvalidInputError(`date out of range: ${days} days from 1970-01-01`);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Days from 1970-01-01 of a calendar date. */
export function partsToDays(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / MS_PER_DAY);
}

/** `2017-11-16` for a day count. */
export function daysToDateString(days: number): string {
  const { year, month, day } = daysToParts(days);
  return `${yearString(year)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** Day count of an ISO date `YYYY-MM-DD`. @throws InvalidInputError if malformed. */
export function dateStringToDays(text: string): number {
  const m = /^([+-]?\d{4,})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`invalid date "${text}": expected YYYY-MM-DD`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = partsToDays(year, month, day);
  const back = daysToParts(days);
  if (back.month !== month || back.day !== day) throw new InvalidInputError(`invalid date "${text}"`);
  return days;
}

/** `22:31:08.123456` for microseconds from midnight. */
export function microsToTimeString(micros: bigint): string {
  const us = floorMod(micros, MICROS_PER_DAY);
  const secs = us / MICROS_PER_SECOND;
  const frac = us % MICROS_PER_SECOND;
  return `${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}:${pad(secs % 60n, 2)}.${pad(frac, 6)}`;
}

/** Microseconds from midnight of `HH:MM[:SS[.ffffff]]`. @throws InvalidInputError if malformed. */
export function timeStringToMicros(text: string): bigint {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`invalid time "${text}": expected HH:MM:SS[.ffffff]`);
  const [h, min, s] = [BigInt(m[1] ?? 0), BigInt(m[2] ?? 0), BigInt(m[3] ?? 0)];
  if (h > 23n || min > 59n || s > 59n) throw new InvalidInputError(`invalid time "${text}"`);
  const frac = BigInt((m[4] ?? '').padEnd(6, '0').slice(0, 6));
  return ((h * 60n + min) * 60n + s) * MICROS_PER_SECOND + frac;
}

/** ISO timestamp for epoch microseconds; with `+00:00` when `withZone`. */
export function microsToTimestampString(micros: bigint, withZone: boolean): string {
  const days = floorDiv(micros, MICROS_PER_DAY);
  const rest = micros - days * MICROS_PER_DAY;
  return `${daysToDateString(Number(days))}T${microsToTimeString(rest)}${withZone ? '+00:00' : ''}`;
}

/**
 * Epoch microseconds of an ISO timestamp (`T` or space separator). A zone offset (`Z`,
 * `+01:00`) is applied when present; a timestamp without zone is read as UTC.
 * Fractions beyond microseconds are truncated.
 * @throws InvalidInputError if malformed.
 */
export function timestampStringToMicros(text: string): bigint {
  const m =
    /^([+-]?\d{4,}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
      text.trim(),
    );
  if (!m)
    throw new InvalidInputError(`invalid timestamp "${text}": expected YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]`);
  const days = BigInt(dateStringToDays(m[1] as string));
  const time = m[2] ? timeStringToMicros(m[2]) : 0n;
  let offset = 0n;
  const zone = m[3];
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) throw new InvalidInputError(`invalid zone offset in "${text}"`);
    const minutes = BigInt(z[2] ?? 0) * 60n + BigInt(z[3] ?? 0);
    offset = (z[1] === '-' ? -minutes : minutes) * 60n * MICROS_PER_SECOND;
  }
  return days * MICROS_PER_DAY + time - offset;
}
