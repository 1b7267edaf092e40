/** Record paths such as `data.items`: where the list of records sits in a document. */

/** The segments of a dotted path (`''` is the document itself). */
export function pathSegments(path: string): string[] {
  return path.split('.').filter((s) => s.length > 0);
}

/** The value at a dotted path of a parsed document, or undefined. */
export function valueAtPath(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const seg of pathSegments(path)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}
