/** Decimal text ↔ unscaled bigint, as used by the JSON single-value form (`"14.20"`, `"2E+20"`). */
import { InvalidInputError } from '../util/index.js';

/**
 * Unscaled value of a decimal string at the given scale (`parseDecimal("14.2", 2)` → 1420n).
 * @throws InvalidInputError when malformed or when digits would be lost.
 */
export function parseDecimal(text: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || `${m[2]}${m[3] ?? ''}` === '') throw new InvalidInputError(`invalid decimal "${text}"`);
  const frac = m[3] ?? '';
  const digits = BigInt(`${m[2]}${frac}` || '0');
  const exp = Number(m[4] ?? 0) - frac.length + scale;
  let unscaled: bigint;
  if (exp >= 0) {
    unscaled = digits * 10n ** BigInt(exp);
  } else {
    const div = 10n ** BigInt(-exp);
    if (digits % div !== 0n)
      throw new InvalidInputError(`decimal "${text}" has more than ${scale} digits after the point`);
    unscaled = digits / div;
  }
  return m[1] === '-' ? -unscaled : unscaled;
}

/** Text of an unscaled decimal: `formatDecimal(1420n, 2)` → `"14.20"`; negative scales use `E+`. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  if (scale < 0) return `${unscaled}E+${-scale}`;
  const neg = unscaled < 0n;
  const abs = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${abs.slice(0, -scale)}.${abs.slice(-scale)}`;
}
