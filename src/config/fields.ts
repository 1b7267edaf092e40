/** Field types shared by the sections of sluice.yaml, with one message for every way of missing them. */
import { z } from 'zod';
import { parseSize } from './units.js';

const SIZE = 'expected a size such as "10GiB", "512MB" or a number of bytes';
/** A size: a number of bytes or a string such as "10GiB". */
export const size = z
  .union([z.number().int().nonnegative(), z.string()], { error: SIZE })
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `${SIZE}, found ${JSON.stringify(value)}`, input: value });
      return z.NEVER;
    }
    return bytes;
  });

/** An integer in [min, max] with one message for every way of missing it. */
export function intIn(min: number, max: number) {
  const expected = `expected an integer ${min}–${max}`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: expected });
}

/** A non-empty string. */
export const text = () => z.string().min(1, { error: 'expected a non-empty string' });
