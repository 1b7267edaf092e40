import { z } from 'zod';

/** The schema under wrappers that do not change the shape (default, optional, pipe input...). */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 20; i++) {
    if (
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodReadonly ||
      s instanceof z.ZodCatch
    ) {
      s = s._zod.def.innerType as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s._zod.def.in as z.ZodType;
    } else if (s instanceof z.ZodLazy) {
      s = s.unwrap() as z.ZodType;
    } else {
      return s;
    }
  }
  return s;
}

/** The description of a field, looking through its wrappers. */
export function describedAs(schema: z.ZodType): string | undefined {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s && i < 20; i++) {
    if (s.description) return s.description;
    const def = s._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    s = def.innerType ?? (s instanceof z.ZodPipe ? def.in : undefined);
  }
  return undefined;
}

/** The schema that validates the value at `path`, when it can be known statically. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    if (!s) return undefined;
    s = childSchema(unwrapSchema(s), seg);
  }
  return s;
}

function childSchema(s: z.ZodType, seg: PropertyKey): z.ZodType | undefined {
  if (s instanceof z.ZodObject) return (s.shape as Record<string, z.ZodType>)[String(seg)];
  if (s instanceof z.ZodRecord) return s.valueType as z.ZodType;
  if (s instanceof z.ZodArray) return s.element as z.ZodType;
  if (s instanceof z.ZodUnion) {
    for (const option of s.options as z.ZodType[]) {
      const child = childSchema(unwrapSchema(option), seg);
      if (child) return child;
    }
  }
  return undefined;
}

/** The keys a mapping at `path` may have, or an empty list when any key is allowed. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(schema, path);
  if (!s) return [];
  const inner = unwrapSchema(s);
  if (inner instanceof z.ZodObject) return Object.keys(inner.shape);
  if (inner instanceof z.ZodUnion) {
    const keys = new Set<string>();
    for (const option of inner.options as z.ZodType[]) {
      const o = unwrapSchema(option);
      if (o instanceof z.ZodObject) for (const k of Object.keys(o.shape)) keys.add(k);
    }
    return [...keys];
  }
  return [];
}
