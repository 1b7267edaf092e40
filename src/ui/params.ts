/** `key=value` lines as run params; a line without `=` is an error naming it. */
export function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`line ${i + 1}: expected key=value, got "${line}"`);
    params[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return params;
}
