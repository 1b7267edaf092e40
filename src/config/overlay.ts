import { z } from 'zod';
import { describedAs } from './schema-walk.js';

/** Every key optional, at every depth of plain mappings. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * The override form of a section: the same fields and checks, every field optional and
 * without its default, so an environment only changes the keys it names.
 */
export function overlayOf<T extends z.ZodObject>(section: T) {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(section.shape as Record<string, z.ZodType>)) {
    const description = describedAs(field);
    const inner = withoutDefault(field);
    const overlay = inner instanceof z.ZodObject ? overlayOf(inner) : inner.optional();
    shape[key] = description ? overlay.describe(description) : overlay;
  }
  const description = describedAs(section);
  const result = z.strictObject(shape).optional();
  return (description ? result.describe(description) : result) as unknown as z.ZodOptional<
    z.ZodType<DeepPartial<z.output<T>>, DeepPartial<z.input<T>>>
  >;
}

function withoutDefault(field: z.ZodType): z.ZodType {
  let s = field;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) {
    s = s._zod.def.innerType as z.ZodType;
  }
  return s;
}
